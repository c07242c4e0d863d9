"""The ``< prev | Contents | next >`` lines at the top and bottom of every notebook, generated from the order
of ``notebooks/NN_*.ipynb``, so they are never edited by hand (after PythonDataScienceHandbook's
``tools/add_navigation.py``).

    $ python -m foundations course navigation           # rewrite the lines (make navigation)
    $ python -m foundations course navigation --check   # exit 1 when a line is stale
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MARKER = "<!--NAVIGATION-->"


def title(path: Path) -> str:
    """The notebook's ``# NN – Title`` heading, without the hash."""
    first = nbformat.read(path, as_version=4).cells[0].source
    return next(
        (line.lstrip("# ").strip() for line in first.splitlines() if line.startswith("# ")), path.stem
    )


def chapters(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def line_for(paths: list[Path], index: int) -> str:
    parts = []
    if index > 0:  # the contents' own page links only onwards
        parts.append(f"[< {title(paths[index - 1])}]({paths[index - 1].name})")
        parts.append(f"[Contents]({paths[0].name})")
    if index + 1 < len(paths):
        parts.append(f"[{title(paths[index + 1])} >]({paths[index + 1].name})")
    return f"{MARKER}\n" + " | ".join(parts)


def updated(path: Path, nav: str) -> nbformat.NotebookNode:
    """The notebook with its navigation cells (second and last) set to ``nav``."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if not c.source.startswith(MARKER)]
    cell = nbformat.v4.new_markdown_cell(nav)
    nb.cells = [cells[0], cell, *cells[1:], nbformat.v4.new_markdown_cell(nav)]
    for c in nb.cells:  # stable ids keep diffs small
        if c.source.startswith(MARKER):
            c.id = "navigation-top" if c is nb.cells[1] else "navigation-bottom"
    return nb


def stale(folder: Path = NOTEBOOKS) -> list[str]:
    """Names of notebooks whose navigation lines differ from the generated ones."""
    paths = chapters(folder)
    out = []
    for i, path in enumerate(paths):
        current = nbformat.read(path, as_version=4)
        if [c.source for c in current.cells] != [c.source for c in updated(path, line_for(paths, i)).cells]:
            out.append(path.name)
    return out


def write_all(folder: Path = NOTEBOOKS) -> None:
    paths = chapters(folder)
    for i, path in enumerate(paths):
        nbformat.write(updated(path, line_for(paths, i)), path)


def command(check: bool) -> int:
    """``course navigation``: rewrite every notebook's lines; with ``check``, name the stale ones (exit 1)."""
    if not check:
        write_all()
        return 0
    names = stale()
    print(
        f"stale navigation: {', '.join(names)} (fix: make navigation)" if names else "navigation up to date"
    )
    return 1 if names else 0
