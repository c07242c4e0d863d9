"""Chapter 11: Python's ``go build`` - a wheel of the package, and one executable file (a shiv zipapp).

A wheel is what ``pip install`` and the Docker image take. The shiv archive is the closest thing to the
book's static binary: one file holding our code and every dependency (granian's compiled core included),
run as ``python3 api.pyz serve --port 80`` or ``./api.pyz``. Unlike Go's binary it still needs a Python
interpreter of the same minor version (any patch release) and platform on the target, and it unpacks itself
into ``~/.shiv`` (or ``$SHIV_ROOT``) on first run.

    >>> whl = wheel(tmp)                     # python -m build --wheel --outdir tmp
    >>> pyz = archive(whl, tmp / "api.pyz")  # shiv -e foundations.cli:main -o api.pyz <wheel>
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.errors import FoundationsError
from foundations.ops import pins

ENTRY_POINT = "foundations.cli:main"  # what `python -m foundations` runs


class BuildError(FoundationsError):
    """A build step failed: names the command and the last lines it printed."""


def _run(cmd: list[str], what: str, timeout: float) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{what} took over {timeout:.0f} s: `{' '.join(cmd)}`") from exc
    if done.returncode:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-4:])
        raise BuildError(f"{what} failed (exit {done.returncode}): {tail}")
    return done.stdout


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the venv's ``shiv``)."""
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else name


def wheel(out_dir: str | Path, source: Path = REPO_ROOT, timeout: float = 300) -> Path:
    """``python -m build --wheel``: the package (code only, dependencies as metadata) as a ``.whl``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        "building the wheel",
        timeout,
    )
    built = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob("foundations-*.whl"))
    if not built:
        raise BuildError(f"python -m build reported success but left no wheel in {out}")
    return built[-1]


def archive(
    wheel_path: str | Path, output: str | Path, python: str = "/usr/bin/env python3", timeout: float = 600
) -> Path:
    """``shiv``: the wheel and its dependencies (pinned by requirements.lock) in one executable file."""
    output = Path(output)
    cmd = [
        _tool("shiv"),
        "--entry-point",
        ENTRY_POINT,
        "--output-file",
        str(output),
        "--python",
        python,
        "--reproducible",
        "--compressed",
        str(wheel_path),
    ]
    if pins.LOCK_FILE.exists():  # shiv hands extra arguments to pip: the tested versions
        cmd += ["--constraint", str(pins.LOCK_FILE), *pins.for_other_patch_releases()]
    _run(cmd, "building the shiv archive", timeout)
    return output
