"""Docker on this machine: does an engine answer (one ``docker info``), can compose run the tutorial's
services here, and has it containers for them. ``services.plan`` asks the engine once, the doctor too."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from typing import Literal

from foundations import config
from foundations.ops import compose

Blocker = Literal["no engine", "engine denied", "no compose.yaml", "no compose"]  # what keeps compose out
NO_COMPOSE = "neither `docker compose` (v2) nor `docker-compose` (v1) is installed"


def _docker_info() -> subprocess.CompletedProcess | None:
    """``docker info``'s run, or None without a docker CLI (or when it hangs)."""
    if not shutil.which("docker"):
        return None
    try:
        return subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None


def docker_state() -> str:
    """``"answers"`` when a Docker engine answers (the CLI alone is not enough), ``"denied"`` when one runs
    but this user may not reach its socket (not in the ``docker`` group), else ``"none"``: one ``docker info``."""
    info = _docker_info()
    if info is None:
        return "none"
    if info.returncode == 0:
        return "answers"
    said = f"{info.stdout}{info.stderr}".lower()  # Docker 20.10 says it on stdout
    return "denied" if "permission denied" in said else "none"


def docker_engine() -> bool:
    """True when a Docker engine answers."""
    return docker_state() == "answers"


def compose_blocker(engine_state: str) -> Blocker | None:
    """What keeps compose from running the services here, given ``docker_state()``'s answer (checked in this
    order: the engine, the repo's compose.yaml, compose itself), or None."""
    if engine_state != "answers":
        return "engine denied" if engine_state == "denied" else "no engine"
    if not (config.REPO_ROOT / "compose.yaml").exists():
        return "no compose.yaml"
    return "no compose" if compose.command() is None else None


def in_compose(compose_services: Iterable[str], engine_state: str) -> bool:
    """True when this machine's compose has a container (running or stopped) for each ``compose_services``."""
    if compose_blocker(engine_state):
        return False
    return all(compose.run("ps", "-a", "-q", service).strip() for service in compose_services)
