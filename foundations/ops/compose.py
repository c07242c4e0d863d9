"""Docker Compose, either generation: ``docker compose`` (v2) or ``docker-compose`` (v1, Debian's 1.29).

v1 has no ``up --wait``: ``up`` then polls the containers' healthchecks until every one is healthy. The
files are compose.yaml, or those ``COMPOSE_FILE`` names (``compose.yaml:compose.offline.yaml`` selects the
offline image set), relative to the repo, so every command works from any directory.

    $ python -m foundations compose up [SERVICE ...]    # up -d, then wait for health, with v1 or v2
    $ python -m foundations compose down                # down -v
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from foundations import processes
from foundations.config import REPO_ROOT
from foundations.errors import CommandError, ServiceError

WAIT_SECONDS = 300  # MariaDB's first start (an empty volume) takes the longest
NO_REGISTRY_HINT = (
    "without a container registry, build the offline image set (make docker-images) and select it: "
    "export COMPOSE_FILE=compose.yaml:compose.offline.yaml"
)


def command() -> list[str] | None:
    """``docker compose`` when the Docker CLI has it, else ``docker-compose``, else None."""
    if shutil.which("docker"):
        done = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if done.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def files(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """compose.yaml, or the files ``COMPOSE_FILE`` names, as compose itself reads that variable."""
    separator = environ.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
    names = environ.get("COMPOSE_FILE", "compose.yaml").split(separator)
    return [REPO_ROOT / name for name in names if name]


def run(*args: str) -> str:
    """One compose command on the repo's files; its output, or a CommandError with the end of its errors."""
    cmd = command()
    if cmd is None:
        raise ServiceError("neither `docker compose` nor `docker-compose` is installed")
    for path in files():
        if not path.exists():
            raise ServiceError(f"{path} does not exist (COMPOSE_FILE={os.environ.get('COMPOSE_FILE')})")
    try:
        return processes.run(
            [*cmd, *(arg for path in files() for arg in ("-f", str(path))), *args],
            f"`{' '.join([*cmd, *args])}`",
        )
    except CommandError as exc:
        hint = f"\n{NO_REGISTRY_HINT}" if "pull" in str(exc).lower() else ""
        raise CommandError(f"{exc}{hint}") from exc


def up(services: list[str], timeout: float = WAIT_SECONDS) -> None:
    """``up -d`` ``services`` (all when empty), then wait until each is healthy (``--wait`` on v2)."""
    if command() == ["docker", "compose"]:
        run("up", "-d", "--wait", *services)
    else:
        run("up", "-d", *services)
        wait_healthy(services, timeout)


def _states(ids: list[str]) -> dict[str, tuple[str, str]]:
    """{container name: (state, health)}; health is "" without a healthcheck."""
    fmt = "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
    done = subprocess.run(["docker", "inspect", "-f", fmt, *ids], capture_output=True, text=True)
    states = {}
    for line in done.stdout.splitlines():
        name, state, *health = line.split()
        states[name.lstrip("/")] = (state, "".join(health))
    return states


def wait_healthy(services: list[str], timeout: float = WAIT_SECONDS) -> None:
    """Poll the containers of ``services`` (all when empty) until each runs and its healthcheck, if it has
    one, says healthy. A container that exits or turns unhealthy fails at once, with its last log lines."""
    deadline = time.monotonic() + timeout
    while True:
        ids = run("ps", "-q", *services).split()
        states = _states(ids) if ids else {}
        broken = {n: s for n, s in states.items() if s[0] in ("exited", "dead") or s[1] == "unhealthy"}
        if broken:
            name = next(iter(broken))
            logs = subprocess.run(["docker", "logs", "--tail", "20", name], capture_output=True, text=True)
            raise ServiceError(f"{name} is {' '.join(broken[name])}:\n{(logs.stdout + logs.stderr).strip()}")
        waiting = sorted(
            n for n, (state, health) in states.items() if state != "running" or health not in ("", "healthy")
        )
        if ids and not waiting:
            return
        if time.monotonic() > deadline:
            raise ServiceError(f"not healthy after {timeout:.0f} s: {', '.join(waiting) or 'no container'}")
        time.sleep(1)
