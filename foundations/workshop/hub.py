"""``workshop up`` / ``workshop down``: the room's shared MariaDB, then JupyterHub (and its proxy) in the
background; down stops the hub, which stops every participant's server and so their services, then the rest.

    >>> up(Room(), ("alice", "bob"), code="orange-river-42")     # as root: alice and bob become system users
    >>> down(Room())
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from foundations import config, net, pids, state
from foundations.config import REPO_ROOT
from foundations.errors import ServiceError
from foundations.ops import mariadb, services
from foundations.workshop import code as workshop_code
from foundations.workshop import containers as docker_backend
from foundations.workshop import participant, proxy
from foundations.workshop.room import RUNTIME_PREFIX, Room, Settings, unused_port

HUB_PROGRAM = "jupyterhub"
PROXY_PROGRAM = "configurable-http-proxy"
CONFIG_TEMPLATE = """\
# Written by `python -m foundations workshop up`; the settings are in settings.json beside it.

from foundations.workshop import hubconfig
from foundations.workshop.room import Room

hubconfig.configure(c, Room({root!r}))
"""


def _mariadb_config(room: Room) -> config.Config:
    return config.load(argv=["--state-dir", str(room.services_dir)], environ={})


def hub_pid(room: Room) -> int | None:
    """The hub's PID when it runs."""
    proc = state.read_raw(room.hub_dir).get("processes", {}).get(HUB_PROGRAM)
    return proc["pid"] if proc and pids.runs(proc["pid"], HUB_PROGRAM) else None


def closed_to_others() -> list[Path]:
    """Directories on the way to this Python (and its standard library), its venv or the checkout that other
    users may not enter: participants' servers and kernels, run as them, could not start."""
    blocked: set[Path] = set()
    python = Path(os.path.realpath(sys.executable)).parent
    for path in {python, Path(sys.base_prefix), Path(sys.prefix), REPO_ROOT}:
        blocked.update(d for d in (path, *path.parents) if not d.stat().st_mode & stat.S_IXOTH)
    return sorted(blocked)


def up(
    room: Room,
    participants: tuple[str, ...],
    code: str | None = None,
    ip: str = "127.0.0.1",
    port: int = 8000,
    system_users: bool | None = None,
    containers: bool | None = None,
    idle_timeout: int = 3600,
    ssl_cert: str = "",
    ssl_key: str = "",
    offline_kit: Path | None = None,
    log: Callable[[str], None] = print,
) -> Settings:
    """Start the workshop's hub for ``participants``: a container each when root and a Docker engine answers
    (unless ``containers`` is False), else system users when root (unless ``system_users`` is False: a dry
    run); returns its settings. The workshop code is kept from the last ``up`` unless given.
    ``offline_kit``: the folder ``make wheelhouse`` filled; the proxy then installs from it alone."""
    if hub_pid(room):
        raise ServiceError(f"a workshop hub already runs from {room.root}: `workshop down` first")
    if code and (problem := workshop_code.code_problem(code)):
        raise ServiceError(problem)
    if containers is None:
        containers = system_users is not False and os.geteuid() == 0 and docker_backend.engine_answers()
    if containers:
        if os.geteuid() != 0:
            raise ServiceError("a container per participant needs root (the hub writes into their volumes)")
        if missing := docker_backend.missing_images():
            raise ServiceError(f"no image {', '.join(missing)}: build them first with `make docker-images`")
        system_users = False
    system_users = os.geteuid() == 0 if system_users is None else system_users
    if system_users and os.geteuid() != 0:
        raise ServiceError("creating participants as system users needs root: run as root, or pass --dry-run")
    if not containers:
        log(
            "warning: no container per participant: "
            + ("system users" if system_users else "a dry run, everyone as you")
            + ", for a trusted rehearsal only (participants can reach each other's API servers; docs/workshop.md)"
        )
    blocked = closed_to_others() if system_users else []
    if blocked:
        raise ServiceError(
            f"participants' servers run as their own users, who cannot enter {blocked[0]} (on "
            "the way to this Python, its venv or the checkout): make the venv with a Python "
            "every user can run (make clean install PYTHON=/usr/bin/python3), or rehearse "
            "with --dry-run"
        )
    room.prepare()
    proxy.ensure(log, npm_cache=offline_kit / "npm-cache" if offline_kit else None, offline=bool(offline_kit))
    settings = Settings(
        participants,
        system_users,
        containers,
        ip,
        port,
        hub_port=unused_port(),
        proxy_api_port=unused_port(),
        idle_timeout=idle_timeout,
        board_port=unused_port(),
        ssl_cert=ssl_cert,
        ssl_key=ssl_key,
    )
    room.save(settings)
    if code or not room.code_path.exists():
        room.write_private(room.code_path, (code or workshop_code.new_code()) + "\n")
    if not room.instructor_path.exists():
        room.write_private(room.instructor_path, secrets.token_urlsafe(9) + "\n")
    if not room.token_path.exists():
        room.write_private(room.token_path, secrets.token_hex(32) + "\n")
    room.write_private(room.config_path, CONFIG_TEMPLATE.format(root=str(room.root)))

    if containers:
        if not (password_path := room.hub_dir / "db-root-password").exists():
            room.write_private(password_path, secrets.token_urlsafe(24) + "\n")
        docker_backend.start_database(room, password_path.read_text().strip())
        log("the room's MariaDB: container " + docker_backend.db_name(room))
    else:
        _start_mariadb(room, log)
    pid = pids.spawn(
        [sys.executable, "-m", HUB_PROGRAM, "-f", str(room.config_path)],
        room.log_path,
        config.child_environ(),
        cwd=str(room.hub_dir),
    )
    state.write(
        room.hub_dir, {"mode": "local", "processes": {HUB_PROGRAM: {"pid": pid, "program": HUB_PROGRAM}}}
    )
    internal = f"http://127.0.0.1:{settings.hub_port}/hub/api/"
    try:
        pids.wait_until(
            lambda: _answers(internal) and _listens(settings),
            pid,
            f"JupyterHub on {settings.url}",
            room.log_path,
            timeout=90,
        )
    except ServiceError:
        down(room, log=lambda line: None)  # nothing half-started stays behind
        raise
    log(f"JupyterHub for {len(participants)} participant(s) at {settings.url}/ (log {room.log_path})")
    return settings


def _start_mariadb(room: Room, log: Callable[[str], None]) -> None:
    shared = _mariadb_config(room)
    if shared.sources.get("mysql_dsn") != "state file":  # a port of its own, as every service of the room's
        shared = dataclasses.replace(shared, mysql_dsn=f"mysql://api:api@127.0.0.1:{unused_port()}/api")
    services.up(shared, ["mysql"], local=True, log=lambda line: log(f"shared MariaDB: {line}"))
    _close_mariadb(room)


def _answers(url: str) -> bool:
    status, _ = net.http_get(url, what="JupyterHub")
    if status != 200:
        raise ServiceError(f"{url} answered HTTP {status}")
    return True


def _listens(settings: Settings) -> bool:
    """The proxy answers as our hub on the participants' port (not another program that took the port)."""
    host = "127.0.0.1" if settings.ip in ("0.0.0.0", "") else settings.ip
    if settings.ssl_cert:  # a certificate for the room's name would not match this address
        if not net.port_open(host, settings.port):
            raise ServiceError(f"the proxy does not listen on {host}:{settings.port} yet")
        return True
    return _answers(f"http://{host}:{settings.port}/hub/api/")


def _close_mariadb(room: Room) -> None:
    """The shared MariaDB holds only participants' users: no book ``api``/``api`` login that all of them
    could share data through. (Its admin signs in through the socket in the room's private directory only.)"""
    with mariadb.admin(room.mariadb_socket) as conn:
        conn.cursor().execute("DROP USER IF EXISTS 'api'@'%', 'api'@'localhost'")


def down(room: Room, log: Callable[[str], None] = print, keep: bool = False) -> None:
    """Stop the hub (it stops every server it spawned, and their services with them), anything a hub that
    died left behind, then the shared MariaDB. Then, unless ``keep``, remove what ``up`` made (``forget``)."""
    pid = hub_pid(room)
    if pid:
        pids.stop(pid, HUB_PROGRAM, timeout=90)
        log(f"stopped JupyterHub (pid {pid})")
    proxy_pid = room.hub_dir / "jupyterhub-proxy.pid"
    if proxy_pid.exists():
        pids.stop(int(proxy_pid.read_text().strip() or 0), PROXY_PROGRAM)
        proxy_pid.unlink()
    state.remove(room.hub_dir)
    settings = room.settings() if room.settings_path.exists() else None
    if settings and settings.containers:
        docker_backend.remove(room, keep, log)
    elif settings:
        for name in settings.participants:
            try:
                who = participant.Participant.of(room, name, settings)
            except KeyError:  # a system user never created (never started)
                continue
            if any(participant.running(who).values()):
                participant.stop(who)
                log(f"stopped the services {name}'s server left behind")
    if keep:
        services.down(_mariadb_config(room), log=lambda line: log(f"shared MariaDB: {line}"))
    else:
        forget(room, log)


def forget(room: Room, log: Callable[[str], None] = print) -> None:
    """Remove the system users the hub created (with their homes: the learners' copies, and the state
    files that held their services' passwords), the shared MariaDB's data, and the room's folder."""
    for name in room.created_users():
        with contextlib.suppress(KeyError):  # KeyError: no such user any more
            for folder in remove_runtime_dirs(pwd.getpwnam(name).pw_uid):
                log(f"removed {folder}, a kernel runtime folder of {name}'s that a restarted hub had lost")
        done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
        gone = done.returncode in (0, 6)  # 6: no such user (removed by hand)
        log(
            f"removed system user {name} and their home"
            if gone
            else f"could not remove {name}: {done.stderr}"
        )
    services.clean(_mariadb_config(room), log=lambda line: log(f"shared MariaDB: {line}"))
    if room.settings_path.exists():  # a room's folder, not whatever --dir named by mistake
        shutil.rmtree(room.root)
        log(f"removed {room.root}: the workshop code, password hashes, hub database and log")


def remove_runtime_dirs(uid: int, tmp: Path = Path("/tmp")) -> list[Path]:
    """Remove the kernel runtime folders of user ``uid`` in ``tmp`` (``hubconfig`` makes one per server
    start; a hub that was restarted no longer knows the older ones): only folders they own, never through a
    link (``rmtree`` refuses a path that is, or has become, one)."""
    removed = []
    for path in tmp.glob(RUNTIME_PREFIX + "*"):
        try:
            found = path.lstat()
            if stat.S_ISDIR(found.st_mode) and found.st_uid == uid:
                shutil.rmtree(path)
                removed.append(path)
        except OSError:  # gone meanwhile, or swapped for a link
            continue
    return removed
