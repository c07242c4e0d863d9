"""A container per participant, ``workshop up``'s default where a Docker engine answers (as root).

DockerSpawner starts each participant's server in a container of the offline workshop image (``make
docker-images``); ``inside`` runs there first: their three Redis and API server on the container's own
loopback, then the single-user server. Per participant, with the room's prefix (``ROOM-NAME``):

- a network ``ROOM-NAME``, internal (no route out): on it only their container and the room's MariaDB
  container. Docker drops traffic between two networks, so no participant reaches another's container;
  the hub, on the host, reaches theirs (and they the hub's API) through the network's gateway;
- a volume ``ROOM-NAME`` for their home: the hub copies the course into it from the host, and the board
  reads their progress from it;
- a database and user of their own on ``ROOM-db`` (MariaDB, root only through ``docker exec``).

Everything carries the label ``api-foundations.workshop=ROOM``: ``workshop down`` removes it by that label.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from foundations.errors import ServiceError
from foundations.workshop.room import Room

IMAGE = "api-foundations/workshop:offline"
DB_IMAGE = "api-foundations/mariadb:offline"
HOME = "/home/jovyan"  # the image's user, uid 1000
UID = 1000
DB_HOST = "db"  # the database container's name on every participant's network
LABEL = "api-foundations.workshop"


def docker(*args: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, input=stdin, timeout=120)
    if check and done.returncode:
        raise ServiceError(f"`docker {' '.join(args[:3])} ...` failed: {done.stderr.strip()[-600:]}")
    return done.stdout.strip()


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def missing_images() -> list[str]:
    return [image for image in (IMAGE, DB_IMAGE) if not docker("image", "inspect", image, check=False)]


def prefix(room: Room) -> str:
    """Names of the room's containers, networks and volumes start with this (two rooms never collide)."""
    return "ws" + hashlib.sha256(str(room.root).encode()).hexdigest()[:8]


def _label(room: Room) -> str:
    return f"{LABEL}={room.root}"


def db_name(room: Room) -> str:
    return f"{prefix(room)}-db"


def _db_password(room: Room) -> str:
    return (room.hub_dir / "db-root-password").read_text().strip()


def start_database(room: Room, password: str, timeout: float = 120.0) -> None:
    """The room's MariaDB container (its data in a volume kept by ``down --keep``), ready for ``admin_sql``.
    Alone on a network of its own at first; each participant's network is connected to it on their first
    start."""
    name = db_name(room)
    docker("rm", "-f", name, check=False)
    for kind in ("volume", "network"):
        if not docker(kind, "ls", "-q", "--filter", f"name=^{name}$"):
            docker(
                kind, "create", "--label", _label(room), *(["--internal"] if kind == "network" else []), name
            )
    docker(
        "run", "-d", "--name", name, "--label", _label(room), "--network", name,
        "--env", f"MYSQL_ROOT_PASSWORD={password}", "--mount", f"source={name},target=/var/lib/mysql",
        "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID", "--cap-add", "CHOWN",
        "--cap-add", "DAC_OVERRIDE", "--cap-add", "KILL", "--security-opt", "no-new-privileges", DB_IMAGE,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while docker(
        "exec", "-e", f"MYSQL_PWD={password}", name, "mariadb-admin", "-uroot", "ping", check=False
    ) != ("mysqld is alive"):
        if time.monotonic() > deadline:
            raise ServiceError(
                f"MariaDB container {name} not ready after {timeout:.0f} s: docker logs {name}"
            )
        time.sleep(1)
    # root only through `docker exec` (the socket): no root login from participants' networks
    admin_sql(room, ["DROP USER IF EXISTS 'root'@'%'"])


def admin_sql(room: Room, statements: list[str]) -> None:
    """Run ``statements`` as MariaDB's root, inside the database container."""
    docker(
        "exec", "-i", "-e", f"MYSQL_PWD={_db_password(room)}", db_name(room), "mariadb", "-uroot",
        stdin=";\n".join(statements) + ";\n",
    )  # fmt: skip


def network(room: Room, name: str) -> tuple[str, str]:
    """Participant ``name``'s network, made on first use with the database on it: (its name, the gateway,
    the host's address there)."""
    net = f"{prefix(room)}-{name}"
    if not docker("network", "ls", "-q", "--filter", f"name=^{net}$"):
        docker("network", "create", "--internal", "--label", _label(room), net)
    if db_name(room) not in docker("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", net):
        docker("network", "connect", "--alias", DB_HOST, net, db_name(room))
    return net, docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", net)


def home(room: Room, name: str, create: bool = False) -> Path:
    """Where participant ``name``'s home volume is on the host; KeyError when it does not exist (and not
    ``create``)."""
    volume = f"{prefix(room)}-{name}"
    if not docker("volume", "ls", "-q", "--filter", f"name=^{volume}$"):
        if not create:
            raise KeyError(name)
        docker("volume", "create", "--label", _label(room), volume)
    path = Path(docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume))
    if create:  # the image's user owns their home, and nobody else reads it
        os.chown(path, UID, UID)
        os.chmod(path, 0o700)
    return path


def host_pids(room: Room, name: str) -> dict[int, int]:
    """``{PID inside participant name's container: PID on the host}`` for every process it runs."""
    out = docker("top", f"{prefix(room)}-{name}", "-eo", "pid", check=False)
    pids = {}
    for line in out.splitlines()[1:]:
        try:
            status = Path(f"/proc/{line.strip()}/status").read_text()
        except (OSError, ValueError):
            continue
        ns_pids = next(ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:"))
        pids[int(ns_pids[-1])] = int(ns_pids[0])
    return pids


def remove(room: Room, keep: bool, log: Callable[[str], None] = print) -> None:
    """Remove the room's containers and networks, and (unless ``keep``) its volumes: homes and the
    database's data."""
    label = f"label={_label(room)}"
    for kind in ("container", "network", *(() if keep else ("volume",))):
        ids = docker(kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", label).split()
        if ids:
            docker(kind, "rm", *(["-f"] if kind == "container" else []), *ids)
            log(f"removed {len(ids)} {kind}(s) of the room")
