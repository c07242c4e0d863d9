"""Chapter 1: bring up the tutorial's services, one interface for Docker and for local daemons.

``up`` uses ``docker compose`` when a Docker engine answers, otherwise local daemons on our own loopback
ports (Redis 6390-6392, MariaDB 3390, API 8080). ``up`` twice reuses what runs; ``down`` stops, by PID,
only what ``up`` started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from foundations import config
from foundations.ops import daemons, state
from foundations.config import Config
from foundations.errors import ServiceError

SERVICES = {"redis": "redis_url", "redis1": "redis1_url", "redis2": "redis2_url", "mysql": "mysql_dsn",
            "api": "api_url"}
KIND = {"redis": "redis", "redis1": "redis", "redis2": "redis", "mysql": "mysql", "api": "api"}
COMPOSE_NAMES = {"mysql": "db1"}  # our name -> compose service name
PROGRAM = {"redis": "redis-server", "mysql": "mariadbd", "api": "foundations"}
FIX_UP = "python -m foundations services up"


@dataclass(frozen=True)
class Status:
    name: str
    address: str
    answers: bool
    detail: str


def docker_engine() -> bool:
    """True when a Docker engine answers (the CLI alone is not enough)."""
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))


def _bindable(host: str, port: int) -> bool:
    """True when a server could listen on host:port (a connect test misses sockets that are bound, not
    listening). SO_REUSEADDR as the servers set it, so connections left in TIME_WAIT don't count."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port_from(host: str, port: int) -> int:
    for candidate in range(port + 1, port + 100):
        if _bindable(host, candidate):
            return candidate
    raise ServiceError(f"no free port near {host}:{port}")


def check(cfg: Config, name: str) -> Status:
    """Does service ``name`` answer at its configured address?"""
    url = getattr(cfg, SERVICES[name])
    host, port = cfg.endpoint(SERVICES[name])
    try:
        ms = daemons.ready_check(KIND[name], url)()
        detail = f"{ms:.1f} ms" if isinstance(ms, float) else f"HTTP {ms[0]}"
        return Status(name, f"{host}:{port}", True, detail)
    except Exception as exc:  # noqa: BLE001 - a status line, never a traceback
        return Status(name, f"{host}:{port}", False, str(exc))


def status(cfg: Config, names: Iterable[str] = SERVICES) -> list[Status]:
    return [check(cfg, name) for name in names]


def up(cfg: Config, names: Iterable[str] = SERVICES, local: bool = False,
       log: Callable[[str], None] = print) -> Config:
    """Start ``names`` (all by default) the way the running ones were started (compose or local daemons;
    with none running: compose when a Docker engine answers and ``local`` is False). Returns the config as
    the started services see it."""
    names = list(names)
    mode = state.read_raw(Path(cfg.state_dir)).get("mode")  # keep managing services the way they started
    if mode is None:
        mode = "docker" if not local and docker_engine() and (config.REPO_ROOT / "compose.yaml").exists() else "local"
    if mode == "docker":
        compose = [COMPOSE_NAMES.get(n, n) for n in names]
        _compose("up", "-d", "--wait", *compose)
        state.write(Path(cfg.state_dir), {"mode": "docker", "endpoints": {}, "processes": {}})
        return cfg
    return _up_local(cfg, names, log)


def down(cfg: Config, names: Iterable[str] | None = None, log: Callable[[str], None] = print) -> None:
    """Stop ``names`` (all by default) that ``up`` started; forget the state file when nothing is left."""
    state_dir = Path(cfg.state_dir)
    current = state.read_raw(state_dir)
    if current.get("mode") == "docker":
        _compose(*(["stop", *[COMPOSE_NAMES.get(n, n) for n in names]] if names else ["down"]))
        if not names:
            state.remove(state_dir)
        return
    processes = current.get("processes", {})
    if names and not current:
        raise ServiceError(f"{', '.join(names)}: not started by `services up` with state dir {state_dir}; stop it "
                           f"where it runs (with compose: docker compose stop {' '.join(names)})")
    for name in list(names or processes):
        proc = processes.pop(name, None)
        if proc:
            daemons.stop(proc["pid"], proc["program"])
            log(f"stopped {name} (pid {proc['pid']})")
    if processes:
        state.write(state_dir, {**current, "processes": processes})
    else:
        state.remove(state_dir)


def _compose(*args: str) -> None:
    done = subprocess.run(["docker", "compose", "-f", str(config.REPO_ROOT / "compose.yaml"), *args],
                          capture_output=True, text=True)
    if done.returncode:
        raise ServiceError(f"`docker compose {' '.join(args)}` failed: {done.stderr.strip()[-400:]}")


def _up_local(cfg: Config, names: list[str], log: Callable[[str], None]) -> Config:
    daemons.ensure_binaries(log)
    state_dir = Path(cfg.state_dir)
    current = state.read_raw(state_dir)
    processes = {}
    for name, proc in current.get("processes", {}).items():  # keep what still runs, forget the rest
        if daemons.runs(proc["pid"], proc["program"]):
            processes[name] = proc
    endpoints = {**current.get("endpoints", {})}
    for name in names:
        key = SERVICES[name]
        url = endpoints.get(key) if name in processes else getattr(cfg, key)
        cfg = dataclasses.replace(cfg, **{key: url})
        if name in processes and check(cfg, name).answers:
            log(f"{name}: already running at {cfg.endpoint(key)[0]}:{cfg.endpoint(key)[1]}")
            continue
        if name in processes:  # runs but does not answer: restart it
            daemons.stop(processes.pop(name)["pid"], PROGRAM[KIND[name]])
        url = _claim_port(cfg, key, url)
        cfg = dataclasses.replace(cfg, **{key: url})
        if name == "api":
            cfg = dataclasses.replace(cfg, port=cfg.endpoint(key)[1])
        processes[name] = _start(cfg, name, state_dir)
        endpoints[key] = url
        state.write(state_dir, {"mode": "local", "endpoints": endpoints, "processes": processes})
        log(f"{name}: started at {cfg.endpoint(key)[0]}:{cfg.endpoint(key)[1]} (pid {processes[name]['pid']})")
    return cfg


def _claim_port(cfg: Config, key: str, url: str) -> str:
    """The URL to start on: as configured, or the next free port when the default one is taken."""
    host, port = cfg.endpoint(key)
    if _bindable(host, port):
        return url
    setting = config.BY_NAME[key]
    if cfg.sources.get(key) in ("default", "state file"):
        free = _free_port_from(host, port)
        return _with_port(url, free)
    raise ServiceError(f"{host}:{port} ({setting.env}) is taken by another program: stop it, or choose "
                       f"another port, e.g. {setting.env}={_with_port(url, _free_port_from(host, port))}")


def _start(cfg: Config, name: str, state_dir: Path) -> dict:
    kind, key = KIND[name], SERVICES[name]
    host, port = cfg.endpoint(key)
    log_path = state_dir / "logs" / f"{name}.log"
    env = None
    if kind == "redis":
        data_dir = state_dir / name
        data_dir.mkdir(parents=True, exist_ok=True)
        cmd = daemons.redis_command(port, data_dir)
    elif kind == "mysql":
        data_dir = state_dir / "mariadb"
        daemons.mariadb_init(data_dir / "data", log_path)
        cmd = daemons.mariadb_command(port, data_dir / "data", data_dir / "mysqld.sock")
    else:
        cmd = daemons.api_command(host, port)
        env = config.child_environ(cfg)
    pid = daemons.spawn(cmd, log_path, env)
    if kind == "mysql":
        daemons.wait_until(lambda: daemons.mariadb_provision(state_dir / "mariadb" / "mysqld.sock"), pid,
                           f"MariaDB on {host}:{port}", log_path)
    daemons.wait_until(daemons.ready_check(kind, getattr(cfg, key)), pid, f"{name} on {host}:{port}", log_path)
    return {"pid": pid, "program": PROGRAM[kind]}



def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def named_in(environ: dict[str, str] = os.environ) -> bool:
    """True when ``environ`` already names the services (compose, CI service containers)."""
    return config.ENV_PREFIX + "REDIS_URL" in environ


@contextlib.contextmanager
def temporary(environ: dict[str, str] = os.environ) -> Iterator[Config | None]:
    """Every service on free ports in a throwaway state directory, exported into ``environ`` as
    ``FOUNDATIONS_*`` for child processes (nbval's kernels), and stopped afterwards. The test run and
    ``make refresh-outputs`` both use it, so stored and fresh outputs come from the same kind of setup.

    When ``environ`` already names the services (compose, CI service containers), it starts nothing."""
    if named_in(environ):
        yield None
        return
    state_dir = tempfile.mkdtemp(prefix="foundations-")
    argv = ["--state-dir", state_dir, "--api-url", f"http://127.0.0.1:{free_port()}",
            "--mysql-dsn", f"mysql://api:api@127.0.0.1:{free_port()}/api",
            *(arg for n in ("redis", "redis1", "redis2") for arg in (f"--{n}-url", f"redis://127.0.0.1:{free_port()}/0"))]
    cfg = config.load(argv=argv, environ={})
    try:
        cfg = up(cfg, local=True, log=lambda line: None)
        environ.update(config.as_environ(cfg))
        yield cfg
    finally:
        down(cfg, log=lambda line: None)
        shutil.rmtree(state_dir, ignore_errors=True)
        for setting in config.SETTINGS:
            environ.pop(setting.env, None)
