"""Learner copies: each participant gets a checkout of the course of their own, the solutions only once the
instructor says so.

At a participant's first spawn their home gets ``api-foundations/``: the notebooks as the course ships them
(stored outputs kept, so they can read ahead; exercise cells blank, ``...``), the package, its tests and its
Docker files — no ``notebooks/solutions/``. Their kernels import ``foundations`` from this copy (the hub sets
``PYTHONPATH``), so the chapters that reach beyond the notebooks work on the participant's own files:
09 runs the project's tests, 10 links the package's source, 11 builds its wheel.
``workshop release-solutions`` adds ``notebooks/solutions/``. A copy is never overwritten: a second spawn
keeps the learner's work.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.ops import lab
from foundations.workshop.participant import Participant

COURSE_DIR = "api-foundations"
COURSE = REPO_ROOT / "notebooks"
NOTEBOOKS = "[0-9][0-9]_*.ipynb"
# What a checkout has that is not the course: tools' folders, caches, builds, the workshop's own files.
NOT_COURSE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".workshop",
    ".state",
    "wheelhouse",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    "build",
    "dist",
    "htmlcov",
    ".coverage",
    "node_modules",
)


def course_path(participant: Participant) -> Path:
    return participant.home / COURSE_DIR


def _give(participant: Participant, path: Path) -> None:
    """Make everything under ``path`` the participant's."""
    if participant.uid is None:
        return
    for item in (path, *path.rglob("*")):
        os.chown(item, participant.uid, participant.gid, follow_symlinks=False)


def copy_course(participant: Participant, with_solutions: bool = False) -> bool:
    """Give the participant their copy of the course (first spawn only; with the solutions once they are
    released); True when it was copied now."""
    target = course_path(participant)
    if target.exists():
        return False

    def skip(folder: str, names: list[str]) -> set[str]:
        solutions = {"solutions"} if Path(folder) == COURSE and not with_solutions else set()
        return set(NOT_COURSE(folder, names)) | solutions

    staging = participant.home / f".{COURSE_DIR}-copying"  # a copy cut short is not taken for a finished one
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(REPO_ROOT, staging, ignore=skip)
    _give(participant, staging)
    staging.rename(target)
    return True


def release_solutions(participant: Participant) -> bool:
    """Copy the solutions into the participant's course copy; False when they have no copy yet (their
    first spawn then copies the course with the solutions)."""
    target = course_path(participant) / "notebooks"
    if not target.exists():
        return False
    shutil.copytree(COURSE / "solutions", target / "solutions", dirs_exist_ok=True, ignore=NOT_COURSE)
    _give(participant, target / "solutions")
    return True


def trust(participant: Participant) -> None:
    """Trust the notebooks of the participant's copy, as them (their own Jupyter data folder)."""
    participant.run(lab.trust_command(course_path(participant) / "notebooks"), {"PATH": os.environ["PATH"]})
