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

from packaging.requirements import Requirement

from foundations.config import REPO_ROOT
from foundations.errors import FoundationsError

ENTRY_POINT = "foundations.cli:main"  # what `python -m foundations` runs
LOCK = REPO_ROOT / "requirements.lock"


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
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)], "building the wheel",
         timeout)
    built = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob("foundations-*.whl"))
    if not built:
        raise BuildError(f"python -m build reported success but left no wheel in {out}")
    return built[-1]


def archive(wheel_path: str | Path, output: str | Path, python: str = "/usr/bin/env python3",
            timeout: float = 600) -> Path:
    """``shiv``: the wheel and its dependencies (pinned by requirements.lock) in one executable file."""
    output = Path(output)
    cmd = [_tool("shiv"), "--entry-point", ENTRY_POINT, "--output-file", str(output), "--python", python,
           "--reproducible", "--compressed", str(wheel_path)]
    if LOCK.exists():  # shiv hands extra arguments to pip: the tested versions
        cmd += ["--constraint", str(LOCK), *pins_for_other_patch_releases(LOCK)]
    _run(cmd, "building the shiv archive", timeout)
    return output


def pins_for_other_patch_releases(lock: Path) -> list[str]:
    """The lock's pins gated on ``python_full_version`` that this interpreter skips, marker dropped: pip
    leaves out redis-py's ``async-timeout`` (needed below 3.11.3) on 3.11.7, and an archive built there
    would not start on Debian 12's 3.11.2."""
    pins = []
    for line in lock.read_text().splitlines():
        if "python_full_version" in line and not (pin := Requirement(line)).marker.evaluate():
            pins.append(f"{pin.name}{pin.specifier}")
    return pins
