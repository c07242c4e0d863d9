"""Learner copies: each participant's own chapter notebooks, and the solutions only once the instructor
says so.

At a participant's first spawn their home gets ``notebooks/`` with every chapter notebook as the course ships
it: stored outputs kept (they can read ahead), exercise cells blank (``...``), ``data/`` beside them; no
``solutions/``. ``workshop release-solutions`` copies ``solutions/`` into every participant's copy. A copy is
never overwritten: a second spawn keeps the learner's work.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.workshop.participant import Participant

COURSE = REPO_ROOT / "notebooks"
NOTEBOOKS = "[0-9][0-9]_*.ipynb"


def _give(participant: Participant, path: Path) -> None:
    """Make everything under ``path`` the participant's."""
    if participant.uid is None:
        return
    for item in (path, *path.rglob("*")):
        os.chown(item, participant.uid, participant.gid, follow_symlinks=False)


def copy_course(participant: Participant, with_solutions: bool = False) -> bool:
    """Give the participant their copy of the course (first spawn only; with the solutions once they are
    released); True when it was copied now."""
    target = participant.home / "notebooks"
    if target.exists():
        return False
    staging = participant.home / ".notebooks-copying"  # a copy cut short is not mistaken for a finished one
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for notebook in sorted(COURSE.glob(NOTEBOOKS)):
        shutil.copy2(notebook, staging / notebook.name)
    shutil.copytree(COURSE / "data", staging / "data")
    if with_solutions:
        _copy_solutions(staging)
    _give(participant, staging)
    staging.rename(target)
    return True


def _copy_solutions(target: Path) -> None:
    shutil.copytree(COURSE / "solutions", target / "solutions", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))


def release_solutions(participant: Participant) -> bool:
    """Copy the solutions into the participant's course copy; False when they have no copy yet (their
    first spawn then copies the course with the solutions)."""
    target = participant.home / "notebooks"
    if not target.exists():
        return False
    _copy_solutions(target)
    _give(participant, target / "solutions")
    return True
