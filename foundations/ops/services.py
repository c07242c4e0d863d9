"""Chapter 1: bring up the tutorial's services, one interface for Docker and for local daemons.

``up`` uses compose (``docker compose`` or ``docker-compose``, foundations.ops.compose) when a Docker engine
answers, otherwise local daemons on our own loopback ports (Redis 6390-6392, MariaDB 3390, API 8080):
``plan`` says which way, and why (the doctor shows it).
``up`` twice reuses what runs; ``down`` stops, by PID, only what ``up`` started, and services that
``FOUNDATIONS_*`` name through compose.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import redis

from foundations import config, net, pids, state
from foundations.config import SERVICES, Config
from foundations.errors import ServerRefused, ServiceError
from foundations.ops import compose, daemons, engine, hosting, mariadb, packages

KIND = {"redis": "redis", "redis1": "redis", "redis2": "redis", "mysql": "mysql", "api": "api"}
COMPOSE_NAMES = {"mysql": "db1"}  # our name -> compose service name
# compose.yaml's Redis allows DEBUG (chapter 7) to its ACL user `lab` only, not to the password-less default
# user that anything reaching the published ports gets. With another REDIS_LAB_PASSWORD there, set the
# FOUNDATIONS_REDIS*_URL variables, which come before the state file.
COMPOSE_ENDPOINTS = {
    key: f"redis://lab:lab@127.0.0.1:{port}/0"
    for key, port in (("redis_url", 6390), ("redis1_url", 6391), ("redis2_url", 6392))
}
PROGRAM = {"redis": "redis-server", "mysql": "mariadbd", "api": "foundations"}
SERVER_PACKAGE = {"redis": "redis-server", "mysql": "mariadb-server"}  # Debian's, as in packages.PACKAGES
# The course's hub starts a participant's services with their server, and stops them with it (hubconfig.py).
RESTART_SERVER = (
    "restart your server: File > Hub Control Panel, Stop My Server, then Start My Server (that starts your "
    "services again); if it still does not answer, ask the instructor"
)
PORT_TRIES = 3  # a free default port another program took while our daemon started: try the next, twice
# Why plan says what it says: the state file's way, where FOUNDATIONS_* name them, up --local, compose or not
Recorded = Literal["recorded", "recorded, no compose", "recorded, on other hosts"]
Reason = Recorded | Literal["named", "asked", "engine answers"] | engine.Blocker


@dataclass(frozen=True)
class Status:
    name: str
    address: str
    answers: bool
    detail: str
    refused: bool = False  # it runs and answered with its own error: the fix is in ``detail``, not in up


@dataclass(frozen=True)
class Plan:
    way: str  # "docker" (compose), "local" (daemons), or elsewhere's "compose" or "remote"
    reason: Reason


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))


def check(cfg: Config, name: str) -> Status:
    """Does service ``name`` answer at its configured address?"""
    url = getattr(cfg, SERVICES[name])
    host, port = cfg.endpoint(SERVICES[name])
    try:
        ms = daemons.ready_check(KIND[name], url)()
        return Status(name, f"{host}:{port}", True, f"{ms:.1f} ms")
    except ServerRefused as exc:
        return Status(name, f"{host}:{port}", False, str(exc), refused=True)
    except Exception as exc:  # noqa: BLE001 - a status line, never a traceback
        return Status(name, f"{host}:{port}", False, str(exc))


def status(cfg: Config, names: Iterable[str] = SERVICES) -> list[Status]:
    return [check(cfg, name) for name in names]


def up(
    cfg: Config,
    names: Iterable[str] = SERVICES,
    local: bool = False,
    log: Callable[[str], None] = print,
    die_with_parent: bool = False,
) -> Config:
    """Start ``names`` (all by default) the way ``plan`` says. Returns the config as the started services
    see it. ``die_with_parent``: local daemons stop when this process dies (tests)."""
    names = list(names)
    chosen = plan(cfg, names, local)
    if chosen.reason == "recorded, no compose":
        raise ServiceError(
            f"services up started these with compose (as its state file says), but {engine.NO_COMPOSE} "
            f"now: {no_compose_fix(cfg)}"
        )
    if chosen.way in ("compose", "remote"):
        _restart_elsewhere(cfg, names, chosen.way, log)
        return cfg
    if chosen.reason == "no compose":
        log(f"a Docker engine answers, but {engine.NO_COMPOSE}: local daemons instead")
    if chosen.way == "docker":
        compose.up([COMPOSE_NAMES.get(n, n) for n in names])
        state.write(Path(cfg.state_dir), {"mode": "docker", "endpoints": COMPOSE_ENDPOINTS, "processes": {}})
        given = {k for k in COMPOSE_ENDPOINTS if cfg.sources.get(k) not in ("default", "state file")}
        published: dict[str, Any] = {k: v for k, v in COMPOSE_ENDPOINTS.items() if k not in given}
        return dataclasses.replace(cfg, **published)
    return _up_local(cfg, names, log, die_with_parent)


def plan(cfg: Config, names: Iterable[str], local: bool = False, engine_state: str | None = None) -> Plan:
    """Which way ``up`` brings ``names`` up, and why: the way the state file records (services keep being
    managed the way they started), else where ``FOUNDATIONS_*`` name them (``elsewhere``), else compose unless
    ``local`` or something keeps it out, else local daemons. Docker is asked once at most, only when it
    matters; ``engine_state``: ``engine.docker_state()``'s answer, when the caller has it already."""
    names = list(names)
    recorded = state.read_raw(Path(cfg.state_dir)).get("mode")
    if recorded == "docker" and compose.command() is None:
        return Plan("docker", "recorded, no compose")
    if recorded:
        return Plan(recorded, "recorded, on other hosts" if _on_other_hosts(cfg, names) else "recorded")
    ask_engine = functools.cache(lambda: engine_state or engine.docker_state())
    if where := elsewhere(cfg, names, ask_engine):
        return Plan(where, "named")
    if local:
        return Plan("local", "asked")
    blocker = engine.compose_blocker(ask_engine())
    return Plan("local", blocker) if blocker else Plan("docker", "engine answers")


def no_compose_fix(cfg: Config) -> str:
    """What to do when the state file says compose started the services and no compose is installed now."""
    state_file = Path(cfg.state_dir) / state.STATE_FILE
    return f"install compose (sudo apt-get install docker-compose), or delete {state_file} to forget them"


def down(cfg: Config, names: Sequence[str] | None = None, log: Callable[[str], None] = print) -> None:
    """Stop ``names`` (all by default) that ``up`` started; forget the state file when nothing is left."""
    state_dir = Path(cfg.state_dir)
    current = state.read_raw(state_dir)
    if current.get("mode") == "docker" and not engine.docker_engine():  # Docker stopped since
        state.remove(state_dir)
        log(
            "no Docker engine answers: forgot compose's containers (start Docker and `docker compose down` to stop them)"
        )
        return
    if current.get("mode") == "docker":
        compose.run(*(["stop", *[COMPOSE_NAMES.get(n, n) for n in names]] if names else ["down"]))
        if not names:
            state.remove(state_dir)
        return
    processes = current.get("processes", {})
    if names and not current and (where := elsewhere(cfg, names)):
        _stop_elsewhere(cfg, names, where, log)
        return
    if names and not current:
        raise ServiceError(
            f"{', '.join(names)}: not started by `services up` with state dir {state_dir}; stop it "
            f"where it runs (with compose: docker compose stop {' '.join(names)})"
        )
    for name in list(names or processes):
        proc = processes.pop(name, None)
        if proc:
            pids.stop(proc["pid"], proc["program"])
            log(f"stopped {name} (pid {proc['pid']})")
    if processes:
        state.write(state_dir, {**current, "processes": processes})
    else:
        state.remove(state_dir)


def elsewhere(cfg: Config, names: Sequence[str], ask_engine: Callable[[], str] | None = None) -> str | None:
    """How to stop and start services that ``FOUNDATIONS_*`` name and no state file records: "compose" when
    this machine's compose runs them (CI's run from the host), "remote" when they live on another host (the
    compose lab reaches redis2:6379), else None: ours to start (a port chosen with FOUNDATIONS_REDIS_URL).
    ``ask_engine`` says the Docker engine's state (``plan``'s asks once), asked only for services so named."""
    if not _named(cfg, names):
        return None
    if engine.in_compose((COMPOSE_NAMES.get(n, n) for n in names), (ask_engine or engine.docker_state)()):
        return "compose"
    return "remote" if _on_other_hosts(cfg, names) else None


def _named(cfg: Config, names: Sequence[str]) -> bool:
    """``FOUNDATIONS_*`` variables name each of ``names``."""
    return all(cfg.sources.get(SERVICES[n], "").startswith("env ") for n in names)


def _on_other_hosts(cfg: Config, names: Sequence[str]) -> bool:
    """``FOUNDATIONS_*`` variables name each of ``names``, none on this machine's loopback."""
    hosts = {cfg.endpoint(SERVICES[n])[0] for n in names}
    return _named(cfg, names) and not hosts & net.LOOPBACK_NAMES


def up_command() -> str:
    """``services up`` as the learner runs it where this process runs: with its own interpreter."""
    return hosting.command("services up", make="services-up")


def fix_up(cfg: Config, name: str) -> str:
    """What starts ``name`` again: services up with this interpreter, where it is ours to start; where it
    runs on another host (the Docker lab's services are compose's containers), a command for that host; in a
    workshop, what a participant can do (their server starts their services; the room runs the database)."""
    place = hosting.where()
    if place == hosting.WORKSHOP:
        return RESTART_SERVER if KIND[name] != "mysql" else "the room's database server: ask the instructor"
    if elsewhere(cfg, [name]) == "remote":
        host = cfg.endpoint(SERVICES[name])[0]
        if place == hosting.HUB:
            return f"it runs on {host}, not here: ask whoever runs it"
        return (
            f"it runs on {host}, not here: start it there; in the Docker lab, from the host: "
            "docker compose up -d --wait (Compose v1: docker-compose up -d)"
        )
    return up_command()


def fix(cfg: Config, status: Status) -> str:
    """What makes ``status``'s service answer: what its own error says when it runs and refused (too many
    connections, loading, a wrong password), which starting it again would not change; else ``fix_up``."""
    if status.refused:
        return "what the server's own error says: it runs, so starting it again would not help"
    return fix_up(cfg, status.name)


def _stop_elsewhere(cfg: Config, names: Sequence[str], where: str, log: Callable[[str], None]) -> None:
    """With compose, or (the compose lab has no Docker) a Redis by SHUTDOWN NOSAVE, which redis2's restart
    policy in compose.yaml undoes."""
    if where == "compose":
        compose.run("stop", *(COMPOSE_NAMES.get(n, n) for n in names))
        for name in names:
            log(f"stopped {name} (compose stop)")
        return
    for name in names:
        if KIND[name] != "redis":
            raise ServiceError(
                f"{name}: runs elsewhere ({config.BY_NAME[SERVICES[name]].env} names it); stop it there"
            )
        # redis-py's shutdown() takes the connection the server closes as it exits for success.
        redis.Redis.from_url(getattr(cfg, SERVICES[name]), socket_timeout=5).shutdown(nosave=True)
        log(f"stopped {name} (SHUTDOWN NOSAVE)")


def _restart_elsewhere(
    cfg: Config, names: Sequence[str], where: str, log: Callable[[str], None], timeout: float = 60
) -> None:
    """Start again what ``_stop_elsewhere`` stopped: with compose, or by waiting for whoever restarts it."""
    if where == "compose":
        compose.up([COMPOSE_NAMES.get(n, n) for n in names])
    how = "compose up" if where == "compose" else "restarted by whoever runs it"
    deadline = time.monotonic() + timeout
    for name in names:
        while not (status := check(cfg, name)).answers:
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{name} did not come back within {timeout:.0f} s: start it where it runs "
                    f"({config.BY_NAME[SERVICES[name]].env} names it; compose.yaml's restart policy does)"
                )
            time.sleep(0.2)
        log(f"{name}: started at {status.address} ({how})")


def _up_local(cfg: Config, names: list[str], log: Callable[[str], None], die_with_parent: bool) -> Config:
    # Only the servers asked for: chapter 11 starts a Redis of its own in the Docker lab, which has no MariaDB.
    wanted = {SERVER_PACKAGE[KIND[n]] for n in names if KIND[n] in SERVER_PACKAGE}
    packages.ensure(log, required={b: p for b, p in packages.PACKAGES.items() if p in wanted})
    state_dir = Path(cfg.state_dir)
    current = state.read_raw(state_dir)
    processes = {}
    for name, proc in current.get("processes", {}).items():  # keep what still runs, forget the rest
        if pids.runs(proc["pid"], proc["program"]):
            processes[name] = proc
    endpoints = {**current.get("endpoints", {})}
    for name in names:
        key = SERVICES[name]
        url: str = endpoints[key] if name in processes else getattr(cfg, key)
        cfg = _with_setting(cfg, key, url)
        if name in processes and check(cfg, name).answers:
            log(f"{name}: already running at {cfg.endpoint(key)[0]}:{cfg.endpoint(key)[1]}")
            continue
        if name in processes:  # runs but does not answer: restart it
            pids.stop(processes.pop(name)["pid"], PROGRAM[KIND[name]])
        for attempt in range(PORT_TRIES):
            url = _claim_port(cfg, key, url)
            cfg = _with_setting(cfg, key, url)
            if name == "api":
                cfg = dataclasses.replace(cfg, port=cfg.endpoint(key)[1])
            processes[name] = _start(cfg, name, state_dir, die_with_parent)
            endpoints[key] = url
            # recorded before it is ready, so that `down` (or the next `up`) finds a daemon slow to get there
            state.write(state_dir, {"mode": "local", "endpoints": endpoints, "processes": processes})
            try:
                _wait_ready(cfg, name, state_dir, processes[name]["pid"])
                break
            except ServiceError:  # stop what we started: a daemon that never became ready must not linger
                pids.stop(processes.pop(name)["pid"], PROGRAM[KIND[name]])
                state.write(state_dir, {"mode": "local", "endpoints": endpoints, "processes": processes})
                if attempt == PORT_TRIES - 1 or not _lost_the_port(cfg, key):
                    raise
                log(
                    f"{name}: port {cfg.endpoint(key)[1]} was taken while {name} started: trying the next free one"
                )
        log(
            f"{name}: started at {cfg.endpoint(key)[0]}:{cfg.endpoint(key)[1]} (pid {processes[name]['pid']})"
        )
    return cfg


def _lost_the_port(cfg: Config, key: str) -> bool:
    """A default port that was free when claimed and is taken now, by a program other than the daemon we
    stopped: two users' `services up` at once, each starting a daemon on the same free port (MariaDB takes
    seconds to bind). Such a port moves on, as a taken default does; a port the user chose never does."""
    return cfg.sources.get(key) in ("default", "state file") and not net.bindable(*cfg.endpoint(key))


def _with_setting(cfg: Config, key: str, value: str) -> Config:
    change: dict[str, Any] = {key: value}  # a URL setting, picked by name
    return dataclasses.replace(cfg, **change)


def _claim_port(cfg: Config, key: str, url: str) -> str:
    """The URL to start on: as configured, or the next free port when the default one is taken."""
    host, port = cfg.endpoint(key)
    if net.bindable(host, port):
        return url
    setting = config.BY_NAME[key]
    free = net.free_port(host, range(port + 1, port + 100))
    if cfg.sources.get(key) in ("default", "state file"):
        return _with_port(url, free)
    raise ServiceError(
        f"{host}:{port} ({setting.env}) is taken by another program: stop it, or choose "
        f"another port, e.g. {setting.env}={config.redacted(_with_port(url, free))}"
    )


def _start(cfg: Config, name: str, state_dir: Path, die_with_parent: bool) -> dict:
    """Spawn ``name`` (not waiting for it): as its own user when we are root, in a directory only it opens."""
    kind, key = KIND[name], SERVICES[name]
    host, port = cfg.endpoint(key)
    log_path = state_dir / "logs" / f"{name}.log"
    user = daemons.run_as(kind)
    env, cwd = None, None
    if kind == "redis":
        cwd = state_dir / name
        daemons.hand_over(cwd, user)
        password = urlsplit(getattr(cfg, key)).password  # a workshop participant's Redis asks for one
        cmd = daemons.redis_command(port, daemons.redis_auth_file(cwd, password, user) if password else None)
    elif kind == "mysql":
        cwd = mariadb.home(state_dir, user)  # the socket's directory, and the data directory in it: 0700
        daemons.hand_over(cwd, user)
        mariadb.init(cwd / "data", log_path, user)
        cmd = mariadb.command(port, cwd / "data", cwd / "mysqld.sock")
    else:
        cmd = daemons.api_command(host, port)
        env = config.child_environ(cfg)
    pid = pids.spawn(cmd, log_path, env, str(cwd) if cwd else None, die_with_parent, user)
    return {"pid": pid, "program": PROGRAM[kind]}


def clean(cfg: Config, log: Callable[[str], None] = print) -> None:
    """``down``, then remove MariaDB's data when it lives outside the state directory (``mariadb.home``):
    ``make clean`` removes the state directory itself."""
    down(cfg, log=log)
    outside = mariadb.outside_home(Path(cfg.state_dir))
    if outside.exists():
        shutil.rmtree(outside)
        log(f"removed MariaDB's data in {outside}")


def _wait_ready(cfg: Config, name: str, state_dir: Path, pid: int) -> None:
    kind, key = KIND[name], SERVICES[name]
    host, port = cfg.endpoint(key)
    log_path = state_dir / "logs" / f"{name}.log"
    if kind == "mysql":
        socket_path = mariadb.home(state_dir, daemons.run_as(kind)) / "mysqld.sock"
        pids.wait_until(lambda: mariadb.provision(socket_path), pid, f"MariaDB on {host}:{port}", log_path)
    answers = daemons.ready_check(kind, getattr(cfg, key))

    def answers_from_ours() -> None:  # not another user's server, started on the same port a moment before
        answers()
        if not pids.listens(pid, port):
            raise ServiceError(f"{host}:{port} answers, but not from the {name} we started (pid {pid})")

    pids.wait_until(answers_from_ours, pid, f"{name} on {host}:{port}", log_path)


def named_by_environment(environ: Mapping[str, str]) -> bool:
    """True when ``FOUNDATIONS_*`` variables already say where the services are (a test run, compose's lab
    container, CI against published ports): whoever set them runs the services."""
    return config.resolve({}, environ, use_state=False).sources["redis_url"].startswith("env ")
