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

import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from foundations import pins, processes
from foundations.config import REPO_ROOT
from foundations.errors import CommandError, FoundationsError

ENTRY_POINT = "foundations.cli:main"  # what `python -m foundations` runs


class BuildError(FoundationsError):
    """A build step failed: names the command and the last lines it printed."""


def _run(cmd: list[str], what: str, timeout: float) -> str:
    try:
        return processes.run(cmd, what, timeout=timeout, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{what} took over {timeout:.0f} s: `{' '.join(cmd)}`") from exc
    except CommandError as exc:
        raise BuildError(str(exc)) from exc


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
    """``shiv``: the wheel and its dependencies in one executable file. The dependencies are copied from this
    environment, the versions the tests ran against, with no resolving or downloading; the lock's pins for
    older patch releases of this Python are added by pip."""
    output = Path(output)
    with tempfile.TemporaryDirectory() as staging:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target"]
        wanted = [str(wheel_path), *pins.for_other_patch_releases()]
        _run([*pip, staging, *wanted], "installing the wheel", timeout)
        for dist in dependencies(_requirements_of(Path(wheel_path))):
            _copy_installed(dist, Path(staging))
        shiv = [_tool("shiv"), "--entry-point", ENTRY_POINT, "--output-file", str(output), "--python", python]
        _run(
            [*shiv, "--reproducible", "--compressed", "--site-packages", staging],
            "building the shiv archive",
            timeout,
        )
    return output


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def glibc_floor(archive_path: str | Path) -> tuple[tuple[int, int], str]:
    """The oldest glibc an archive runs on, and the distribution that sets it: each platform wheel inside runs
    where any one of its manylinux tags does (its lowest), and the archive where all of them do (the
    highest of those). ((0, 0), "") when no wheel is tied to glibc."""
    floor, who = (0, 0), ""
    with zipfile.ZipFile(archive_path) as bundled:
        for name in bundled.namelist():
            if not name.endswith(".dist-info/WHEEL"):
                continue
            platforms = [
                line.rsplit("-", 1)[-1]
                for line in bundled.read(name).decode().splitlines()
                if line.startswith("Tag: ")
            ]
            needs = [_glibc_of(tag) for tag in platforms if tag.startswith("manylinux")]
            if needs and min(needs) > floor:
                floor, who = min(needs), name.split("/")[-2].removesuffix(".dist-info")
    return floor, who


def _glibc_of(platform_tag: str) -> tuple[int, int]:
    """``manylinux_2_34_x86_64`` -> (2, 34); the legacy aliases (``manylinux2014_x86_64``) by PEP 600's table."""
    name = platform_tag.split("_x86_64")[0].split("_aarch64")[0]
    if name in _LEGACY_MANYLINUX:
        return _LEGACY_MANYLINUX[name]
    _, major, minor = name.split("_")[:3]
    return int(major), int(minor)


def _requirements_of(wheel_path: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel_path) as whl:
        text = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    return [Requirement(line) for line in Parser().parsestr(text).get_all("Requires-Dist", [])]


def dependencies(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, theirs included (extras followed, markers
    evaluated for this interpreter). A missing or wrong version raises ``BuildError``."""
    found: dict[str, metadata.Distribution] = {}
    followed: set[tuple[str, str]] = set()  # (name, extra) whose requirements are on the list
    todo = [(req, "") for req in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        found[name] = dist = found.get(name) or _installed(req)
        if not req.specifier.contains(dist.version, prereleases=True):
            raise BuildError(f"{req.name} {dist.version} is installed, {req} is needed: run `make install`")
        for wanted in {"", *req.extras} - {e for n, e in followed if n == name}:
            followed.add((name, wanted))
            todo += [(Requirement(line), wanted) for line in dist.requires or []]
    return list(found.values())


def _installed(req: Requirement) -> metadata.Distribution:
    try:
        return metadata.distribution(req.name)
    except metadata.PackageNotFoundError:
        raise BuildError(f"{req.name} is not installed here: run `make install`") from None


def _copy_installed(dist: metadata.Distribution, site_packages: Path) -> None:
    """Copy what pip installed for ``dist`` into ``site_packages`` (not its scripts, not bytecode)."""
    for file in dist.files or []:
        if file.parts[0] == ".." or "__pycache__" in file.parts:
            continue
        target = site_packages / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(dist.locate_file(file)), target)
