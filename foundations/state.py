"""The state file written by ``services up``: which endpoints and processes the last run left running.

Config reads it (below flags and environment) and services rewrites it. A state file whose processes are
gone is stale: readers ignore it and ``services up`` stops what is left of it, so it is never trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

from foundations import files, pids

STATE_FILE = "services.json"


def read(state_dir: Path) -> dict:
    """The live state in ``state_dir``, or ``{}`` when there is none or it is stale."""
    path = Path(state_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):  # unreadable or half-written: nothing in it can be trusted
        path.unlink(missing_ok=True)
        return {}
    running = [p["pid"] for p in state.get("processes", {}).values()]
    if state.get("mode") == "local" and not all(pids.alive(pid) for pid in running):
        return {}
    return state


def read_raw(state_dir: Path) -> dict:
    """The state file as written, stale or not (``services`` needs the PIDs to clean up)."""
    try:
        return json.loads((Path(state_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write(state_dir: Path, state: dict) -> None:
    """Write ``state`` atomically, so a reader never sees half a file."""
    files.write_atomically(Path(state_dir) / STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + "\n")


def remove(state_dir: Path) -> None:
    (Path(state_dir) / STATE_FILE).unlink(missing_ok=True)
