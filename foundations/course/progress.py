"""Every exercise check leaves its result in a file in the learner's home, so a workshop's instructor can
see who is stuck (``python -m foundations workshop status``) without any network call from the notebook.

    ~/.foundations/progress.json
    {"07.key_router": {"passed": false, "attempts": 2, "at": "2026-11-30T09:12:03Z"}}

A passed exercise stays passed: trying it again later (say, with a broken answer) only counts an attempt.
A blank exercise cell run as shipped (Run All) is not an attempt, nor a check that could not run because a
service it needs did not answer: ``exercises.check`` records nothing then.
A test run and ``make refresh-outputs`` run their checks inside ``set_aside()``: they are nobody's progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from foundations import config, files

PROGRESS_FILE = Path(".foundations") / "progress.json"
HOME_VARIABLE = config.BY_NAME["progress_home"].env


@contextlib.contextmanager
def set_aside() -> Iterator[None]:
    """Record into a throwaway folder (the ``progress_home`` setting, exported for the kernels this process
    starts) unless one is already set."""
    if _configured_home():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="foundations-progress-") as nobody:
        os.environ[HOME_VARIABLE] = nobody
        try:
            yield
        finally:
            os.environ.pop(HOME_VARIABLE, None)


def _configured_home() -> str:
    return config.load(argv=[], use_state=False).progress_home


def progress_path(home: Path | None = None) -> Path:
    return (home or Path(_configured_home() or Path.home())) / PROGRESS_FILE


def read(home: Path | None = None) -> dict[str, dict]:
    """``{exercise id: {"passed", "attempts", "at"}}``; empty when nothing was checked yet (or unreadable)."""
    try:
        data = json.loads(progress_path(home).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(exercise_id: str, passed: bool, home: Path | None = None) -> None:
    """Add one attempt at ``exercise_id`` to the learner's progress file (written atomically). A home that
    cannot be written (a read-only container) loses the record, never the check's answer."""
    try:
        _write(exercise_id, passed, home)
    except OSError:
        pass


def _write(exercise_id: str, passed: bool, home: Path | None) -> None:
    path, entries = progress_path(home), read(home)
    before = entries.get(exercise_id, {})
    entries[exercise_id] = {
        "passed": passed or bool(before.get("passed")),
        "attempts": int(before.get("attempts", 0)) + 1,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    files.write_atomically(path, json.dumps(entries, indent=1, sort_keys=True))  # 0644: the board reads it
