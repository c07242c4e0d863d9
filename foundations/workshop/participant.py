"""One participant's live services, started when their server spawns and stopped when it stops or is culled.

Each participant gets what ``services up`` gives one learner: three Redis servers and the API server on
ports of their own, run as the participant (so notebook 07 can stop and restart *their* redis2), with the
state file in ``~/.foundations/state``; and a database and user of their own on the room's one MariaDB,
with a fresh password at every start. Their server and kernels see all of it through ``FOUNDATIONS_*``,
so every notebook runs unchanged.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import pwd
import secrets
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from foundations import config, pids, state
from foundations.errors import ServiceError
from foundations.ops import mariadb
from foundations.workshop import containers
from foundations.workshop.room import Room, Settings, unused_port

OWN_SERVICES = ("redis", "redis1", "redis2", "api")  # MariaDB is shared: a database each
START = ["-m", "foundations", "services", "up", *OWN_SERVICES, "--local"]  # as the participant, after python


@dataclass(frozen=True)
class Participant:
    name: str
    home: Path
    uid: int | None  # None: a dry run, everything runs as the hub's user
    gid: int | None

    @classmethod
    def of(cls, room: Room, name: str, settings: Settings) -> Participant:
        """KeyError when their system user (or container volume) was not created yet."""
        if settings.containers:  # their home volume, seen from the host
            return cls(name, containers.home(room, name), containers.UID, containers.UID)
        if settings.system_users:
            user = pwd.getpwnam(name)
            return cls(name, Path(user.pw_dir), user.pw_uid, user.pw_gid)
        return cls(name, room.home(name, settings), None, None)

    @property
    def state_dir(self) -> Path:
        return self.home / ".foundations" / "state"

    def run(self, cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run ``cmd`` as this participant, in their home."""
        as_user: dict[str, Any] = (
            {} if self.uid is None else {"user": self.uid, "group": self.gid, "extra_groups": []}
        )
        return subprocess.run(
            cmd,
            env={**env, "HOME": str(self.home), "USER": self.name},
            cwd=self.home,
            capture_output=True,
            text=True,
            **as_user,
        )


# Root reads and writes in folders the participant owns, where they may have planted links (to another home,
# to /etc, to a FIFO that blocks a reader forever): every step below their home is opened with O_NOFOLLOW
# from the one before, never a path walked again.
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_LIMIT = 1 << 20  # a state or progress file is a few KiB


def open_below(top: Path, *names: str) -> int:
    """A descriptor of the folder ``top/names...``, no link followed below ``top``."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in names:
            fd, parent = open_dir(fd, name), fd
            os.close(parent)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_dir(parent: int, name: str) -> int:
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ServiceError(f"{name} is a link or not a folder: not going through it") from None
        raise


def read_json(top: Path, *names: str) -> dict:
    """The JSON object in the regular file ``top/names...``, no link followed below ``top``; ``{}`` when it
    is missing, a link, not a regular file, too big or not JSON."""
    try:
        folder = open_below(top, *names[:-1])
        try:
            fd = os.open(names[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
        finally:
            os.close(folder)
        with os.fdopen(fd, "rb") as file:
            data = json.loads(file.read(_READ_LIMIT)) if stat.S_ISREG(os.fstat(fd).st_mode) else {}
    except (OSError, ValueError, ServiceError):
        return {}
    return data if isinstance(data, dict) else {}


def database(room: Room, name: str, settings: Settings) -> str:
    """Create (or re-key) participant ``name``'s database and user on the shared MariaDB; their DSN.
    Like ``api`` in ``services up``, they may also create ``NAME_*`` databases (tests use those)."""
    password = secrets.token_urlsafe(16)  # letters, digits, - and _: safe inside '...'
    statements = [
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4",
        f"CREATE USER IF NOT EXISTS '{name}'@'%' IDENTIFIED BY '{password}'",
        f"ALTER USER '{name}'@'%' IDENTIFIED BY '{password}'",
        f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'",
        f"GRANT ALL PRIVILEGES ON `{name}\\_%`.* TO '{name}'@'%'",
    ]
    if settings.containers:
        containers.admin_sql(room, statements)
        return f"mysql://{name}:{password}@{containers.DB_HOST}:3306/{name}"
    with mariadb.admin(room.mariadb_socket) as conn:
        for statement in statements:
            conn.cursor().execute(statement)
    _, port = room_mariadb_endpoint(room)
    return f"mysql://{name}:{password}@127.0.0.1:{port}/{name}"


def room_mariadb_endpoint(room: Room) -> tuple[str, int]:
    return config.load(argv=["--state-dir", str(room.services_dir)], environ={}).endpoint("mysql_dsn")


def start(room: Room, participant: Participant) -> dict[str, str]:
    """Start the participant's services; the ``FOUNDATIONS_*`` variables their server and kernels get."""
    # Other participants on this machine reach the same loopback ports, and may bind one a notebook frees (07
    # stops redis2) to read the AUTH a client then sends it: a password per server keeps that one the loss.
    redis = {
        name: f"redis://:{secrets.token_urlsafe(16)}@127.0.0.1:{unused_port()}/0"
        for name in ("redis", "redis1", "redis2")
    }
    argv = [
        "--state-dir",
        str(participant.state_dir),
        "--mysql-dsn",
        database(room, participant.name, room.settings()),
        "--api-url",
        f"http://127.0.0.1:{unused_port()}",
        *(arg for n, url in redis.items() for arg in (f"--{n}-url", url)),
    ]
    cfg = config.load(argv=argv, environ={}, use_state=False)
    cfg = dataclasses.replace(cfg, port=cfg.endpoint("api_url")[1])
    participant.state_dir.mkdir(parents=True, exist_ok=True)
    if (
        participant.uid is not None and participant.gid is not None
    ):  # the state file holds the passwords; a dry run has only one user anyway
        os.chmod(participant.state_dir.parent, 0o700)
        for path in (participant.state_dir.parent, participant.state_dir):
            os.chown(path, participant.uid, participant.gid)
    # Settings through the environment, not flags: every user sees command lines, only the owner environments.
    done = participant.run(
        [sys.executable, *START],
        config.child_environ(cfg),
    )
    if done.returncode:
        raise ServiceError(f"services of {participant.name} did not start: {done.stderr.strip()[-400:]}")
    return config.as_environ(cfg)


def stop(participant: Participant) -> None:
    """Stop, by PID, every service ``start`` (or a notebook, like 07's redis2 restart) left running. The state
    file is theirs to write: root signals only processes that run as the participant, and reads and removes
    the file through no link."""
    for pid, program in listed(participant).values():
        if participant.uid is None or owner(pid) == participant.uid:
            pids.stop(pid, program)
    try:
        folder = open_below(participant.home, *participant.state_dir.relative_to(participant.home).parts)
    except (OSError, ServiceError):
        return
    try:
        os.unlink(state.STATE_FILE, dir_fd=folder)
    except OSError:  # gone already, or not a file: the next start writes a new one
        pass
    finally:
        os.close(folder)


def owner(pid: int) -> int | None:
    """The real uid ``pid`` runs as; None when it is gone."""
    try:
        return int(psutil.Process(pid).uids().real)
    except psutil.NoSuchProcess:
        return None


def listed(participant: Participant) -> dict[str, tuple[int, str]]:
    """``{service: (pid, program)}`` of the participant's state file; entries of another shape are left out."""
    relative = participant.state_dir.relative_to(participant.home).parts
    processes = read_json(participant.home, *relative, state.STATE_FILE).get("processes", {})
    return {
        name: (proc["pid"], proc["program"])
        for name, proc in (processes.items() if isinstance(processes, dict) else ())
        if isinstance(proc, dict)
        and isinstance(proc.get("pid"), int)
        and isinstance(proc.get("program"), str)
    }


def container_environment(room: Room, participant: Participant, settings: Settings) -> dict[str, str]:
    """The ``FOUNDATIONS_*`` variables of a participant's container (``containers``): their database, and
    the state file in their home, where ``inside`` starts their services on the container's loopback."""
    argv = ["--state-dir", f"{containers.HOME}/.foundations/state"]
    argv += ["--mysql-dsn", database(room, participant.name, settings)]
    return config.as_environ(config.load(argv=argv, environ={}, use_state=False))


def running(participant: Participant, host_pids: dict[int, int] | None = None) -> dict[str, bool]:
    """``{service: its process runs}`` for what the participant's state file lists (empty: none started).
    ``host_pids``: the PIDs of their container (``containers.host_pids``), whose state file holds its own."""
    host = (lambda pid: pid) if host_pids is None else host_pids.get
    return {
        name: (pid := host(listed_pid)) is not None and pids.runs(pid, program)
        for name, (listed_pid, program) in listed(participant).items()
    }
