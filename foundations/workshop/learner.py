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

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.ops import lab
from foundations.workshop.participant import Participant, open_below, open_dir

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
    ".coverage*",
    "node_modules",
)


def course_path(participant: Participant) -> Path:
    return participant.home / COURSE_DIR


def copy_course(participant: Participant, with_solutions: bool = False) -> bool:
    """Give the participant their copy of the course (first spawn only; with the solutions once they are
    released); True when it was copied now."""
    if course_path(participant).exists():
        return False

    def skip(folder: Path, names: list[str]) -> set[str]:
        solutions = {"solutions"} if folder == COURSE and not with_solutions else set()
        return set(NOT_COURSE(str(folder), names)) | solutions

    staging = f".{COURSE_DIR}-copying"  # a copy cut short is not taken for a finished one
    if participant.uid is None:  # a dry run: homes/NAME in the room, ours
        participant.home.mkdir(parents=True, exist_ok=True)
    home = os.open(participant.home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        shutil.rmtree(staging, dir_fd=home, ignore_errors=True)  # never follows a link
        _copy_tree(REPO_ROOT, home, staging, participant, skip)
        os.rename(staging, COURSE_DIR, src_dir_fd=home, dst_dir_fd=home)
    finally:
        os.close(home)
    return True


def release_solutions(participant: Participant) -> bool:
    """Copy the solutions into the participant's course copy; False when they have no copy yet (their
    first spawn then copies the course with the solutions)."""
    try:
        notebooks = open_below(participant.home, COURSE_DIR, "notebooks")
    except FileNotFoundError:
        return False
    try:
        _copy_tree(COURSE / "solutions", notebooks, "solutions", participant, lambda folder, names: set())
    finally:
        os.close(notebooks)
    return True


def trust(participant: Participant) -> None:
    """Trust the notebooks of the participant's copy, as them (their own Jupyter data folder)."""
    participant.run(lab.trust_command(course_path(participant) / "notebooks"), {"PATH": os.environ["PATH"]})


# Root writes into folders the participant owns, where they may have planted links (to another participant's
# home, to /etc) or may swap a folder for one mid-copy. So every step goes through a file descriptor opened
# with O_NOFOLLOW below the one before (``participant.open_below``, never a path walked again), and every file
# is created anew with O_EXCL: a link in the way stops the copy; it is never followed.


def _copy_tree(
    src: Path,
    parent: int,
    name: str,
    participant: Participant,
    ignore: Callable[[Path, list[str]], set[str]],
) -> None:
    """Copy folder ``src`` (the checkout's: trusted) to ``name`` below the open folder ``parent``, as the
    participant's."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    folder = open_dir(parent, name)
    try:
        _own(folder, participant)
        try:
            names = sorted(p.name for p in src.iterdir())
        except FileNotFoundError:  # removed while we copy (see _copy_file)
            names = []
        for entry in (src / n for n in names if n not in ignore(src, names)):
            if entry.is_dir() and not entry.is_symlink():
                _copy_tree(entry, folder, entry.name, participant, ignore)
            elif entry.is_file() and not entry.is_symlink():
                _copy_file(entry, folder, participant)
    finally:
        os.close(folder)


def _copy_file(src: Path, folder: int, participant: Participant) -> None:
    try:
        data, meta = src.read_bytes(), src.stat()
    except FileNotFoundError:  # a file a running notebook or test rewrites (its coverage data) went away: not
        return  # the course. A room spawning while `make test` runs in the checkout met it as a failed spawn.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(src.name, dir_fd=folder)  # a name in their folder: removing it follows nothing
    fd = os.open(
        src.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder
    )
    with os.fdopen(fd, "wb") as out:
        _own(out.fileno(), participant)
        os.fchmod(out.fileno(), meta.st_mode & 0o755)  # scripts stay executable
        out.write(data)
    os.utime(src.name, ns=(meta.st_atime_ns, meta.st_mtime_ns), dir_fd=folder, follow_symlinks=False)


def _own(fd: int, participant: Participant) -> None:
    if participant.uid is not None and participant.gid is not None:
        os.fchown(fd, participant.uid, participant.gid)
