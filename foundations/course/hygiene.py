"""Notebook hygiene for commits: keep what nbval compares (sources, outputs, execution counts), drop the
metadata that changes on every run or every click (cell timings, collapsed/scrolled view state, widget state,
the interpreter's patch version, which the course's kernel does not report either: ``course/kernel.py``), so
a diff shows only what a reader would see change.

    $ python -m foundations.course.hygiene notebooks/*.ipynb          # clean in place (the pre-commit hook)
    $ python -m foundations.course.hygiene --check notebooks/*.ipynb  # list unclean files, exit 1 if any
"""

from __future__ import annotations

import sys

import nbformat

VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter")


def clean(nb: nbformat.NotebookNode) -> bool:
    """Drop volatile metadata from ``nb`` in place; True if anything was dropped."""
    changed = nb.metadata.pop("widgets", None) is not None
    changed |= nb.metadata.get("language_info", {}).pop("version", None) is not None
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            changed |= cell.metadata.pop(key, None) is not None
    return changed


def main(argv: list[str]) -> int:
    check = argv[:1] == ["--check"]
    unclean = []
    for name in argv[check:]:
        nb = nbformat.read(name, as_version=4)
        if clean(nb):
            unclean.append(name)
            if not check:
                nbformat.write(nb, name)
    for name in unclean:
        print(f"{name}: volatile metadata {'found' if check else 'dropped'}")
    if check and unclean:
        print("fix: python -m foundations.course.hygiene " + " ".join(unclean))
    return 1 if check and unclean else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
