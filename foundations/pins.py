"""Chapter 1's pinned versions: ``requirements.lock``, read the way pip reads it, environment markers included.

One lock serves every interpreter we support; a pin may hold for some of them only
(``async-timeout==5.0.1 ; python_full_version < "3.11.3"``: redis-py needs it on Debian 12's 3.11.2).

    >>> applying_here()["redis"]          # what doctor compares with the installed versions
    >>> for_other_patch_releases()        # what the shiv archive adds so it starts on older 3.11s
    >>> download_wheels(dest, [LOCK_FILE])  # the offline kit and the offline images install from these
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from foundations import processes
from foundations.config import REPO_ROOT

LOCK_FILE = REPO_ROOT / "requirements.lock"  # the learner's: the package and the lab
WORKSHOP_LOCK_FILE = REPO_ROOT / "requirements-workshop.lock"  # the lab and JupyterHub (a room's server)


def _pins(lock_file: Path) -> list[Requirement]:
    lines = (line.strip() for line in lock_file.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def applying_here(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """``{normalized name: version}`` of the pins whose marker holds for this interpreter."""
    return {
        canonicalize_name(pin.name): str(pin.specifier).removeprefix("==")
        for pin in _pins(lock_file)
        if pin.marker is None or pin.marker.evaluate()
    }


def for_other_patch_releases(lock_file: Path = LOCK_FILE) -> list[str]:
    """The pins gated on ``python_full_version`` that this interpreter skips, marker dropped: pip leaves out
    ``async-timeout`` on 3.11.7, and an archive built there would not start on Debian 12's 3.11.2."""
    return [
        f"{pin.name}{pin.specifier}"
        for pin in _pins(lock_file)
        if pin.marker is not None and "python_full_version" in str(pin.marker) and not pin.marker.evaluate()
    ]


def build_requirements() -> list[str]:
    """pyproject's build backend (setuptools), for `pip install -e .` without an index."""
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["build-system"]["requires"]


def download_wheels(dest: Path, locks: list[Path]) -> None:
    """Every wheel ``locks`` pin (those for Debian 12's older 3.11 too) and the build backend, into ``dest``."""
    extra = [pin for lock in locks for pin in for_other_patch_releases(lock)]
    requirements = [arg for lock in locks for arg in ("-r", str(lock))]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    processes.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(dest), *requirements, *extra, *build_requirements()]
    )
