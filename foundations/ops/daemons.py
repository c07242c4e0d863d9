"""Chapter 1 without Docker: Redis, MariaDB and the API server as local processes on loopback ports.

Every process is started in its own session (so its workers can be stopped with it) and stopped by the
PID we recorded, after checking that the PID still runs the program we started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from foundations.ops import probe
from foundations.errors import ServiceError
from foundations.ops.state import pid_alive

SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
PACKAGES = {  # binary -> Debian package
    "redis-server": "redis-server",
    "mariadbd": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
}
LOAD_GENERATORS = {"ab": "apache2-utils", "wrk": "wrk"}  # optional: chapter 10 falls back to its own
INSTALL_HINTS = ("Debian/Ubuntu: sudo apt-get install -y redis-server mariadb-server; "
                 "macOS: brew install redis mariadb; Fedora: sudo dnf install -y redis mariadb-server")


def which(binary: str) -> str | None:
    return shutil.which(binary, path=SBIN_PATH)


def _missing(packages: dict[str, str]) -> list[str]:
    return sorted({pkg for binary, pkg in packages.items() if not which(binary)})


def ensure_binaries(log: Callable[[str], None] = print, required: dict[str, str] = PACKAGES,
                    optional: dict[str, str] = LOAD_GENERATORS, hint: str = INSTALL_HINTS) -> None:
    """On Debian as root, apt-get what is missing (by default Redis, MariaDB, ab, wrk); otherwise say how to
    (``hint``). ``required`` and ``optional`` map a binary to its Debian package."""
    missing, optional = _missing(required), _missing(optional)
    if os.geteuid() == 0 and shutil.which("apt-get") and (missing or optional):
        log(f"installing {' '.join(missing + optional)} with apt-get (once)...")
        try:
            _apt_install(missing + optional)
        except ServiceError as exc:
            if missing:
                raise
            log(f"{exc}; chapter 10 uses its built-in load generator instead")
    elif missing:
        raise ServiceError(f"missing {', '.join(missing)}. Install them: {hint}")


def _apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise ServiceError(f"`{' '.join(cmd)}` failed: {done.stderr.strip()[-300:]}")


def spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None, cwd: str | None = None) -> int:
    """Start ``cmd`` in its own session with output to ``log_path``; returns its PID."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, cwd=cwd)
    return proc.pid


def runs(pid: int, program: str) -> bool:
    """True when ``pid`` is alive and still runs ``program`` (a PID can be reused after a reboot)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True  # no /proc (macOS): trust the PID
    return program in cmdline


def stop(pid: int, program: str, timeout: float = 10.0) -> None:
    """SIGTERM ``pid`` if it still runs ``program`` and wait; SIGKILL it after ``timeout``. Then SIGKILL
    whatever is left of its process group, so no worker outlives it.

    Only the leader gets SIGTERM: a server's master stops its own workers in order. Signalling the whole
    group races with a worker that is still starting, and the master can then hang until the SIGKILL and
    never run its own cleanup."""
    if not runs(pid, program):
        return
    for send, wait in ((lambda: os.kill(pid, signal.SIGTERM), timeout),
                       (lambda: os.killpg(pid, signal.SIGKILL), 2.0)):
        try:
            send()
        except ProcessLookupError:
            break
        if _exits(pid, wait):
            break
    try:
        os.killpg(pid, signal.SIGKILL)  # stragglers; the group id stays reserved while any member lives
    except ProcessLookupError:
        pass


def _exits(pid: int, within: float) -> bool:
    """Wait up to ``within`` seconds for ``pid`` to end (reaping it if it is our child)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def wait_until(ready: Callable[[], object], pid: int, what: str, log_path: Path, timeout: float = 30.0) -> None:
    """Poll ``ready()`` until it stops raising; fail early, with the log's tail, if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
        if not pid_alive(pid) or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:] if log_path.exists() else []
            state = "exited" if not pid_alive(pid) else f"not ready after {timeout:.0f} s"
            raise ServiceError(f"{what} {state}: {last}. Log {log_path}: {' | '.join(tail)}")
        time.sleep(0.05)


def redis_command(port: int, data_dir: Path, password: str | None = None) -> list[str]:
    """No persistence; DEBUG allowed from loopback (chapter 7 uses DEBUG SLEEP). With ``password`` (a workshop
    participant's), clients must AUTH; it goes in a config file only its owner can read, not on the
    command line that every user sees in ``ps``."""
    config_file = []
    if password:
        conf = data_dir / "auth.conf"
        conf.touch(mode=0o600)
        conf.write_text(f'requirepass "{password}"\n')
        config_file = [str(conf)]
    return [which("redis-server") or "redis-server", *config_file, "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--enable-debug-command", "local", "--dir", str(data_dir)]


def mariadb_init(data_dir: Path, log_path: Path) -> None:
    """Create the system tables once (about a second); no test database, so no anonymous users."""
    if (data_dir / "mysql").is_dir():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)  # MariaDB may be the first service of a state dir
    cmd = [which("mariadb-install-db") or "mariadb-install-db", "--no-defaults", f"--datadir={data_dir}",
           "--auth-root-authentication-method=normal", "--skip-test-db"]
    if os.geteuid() == 0:
        cmd.append("--user=root")
    for attempt in (1, 2):  # seen failing once under heavy load; a clean second try has always worked
        with open(log_path, "ab") as log:
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode == 0:
                return
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
    tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
    raise ServiceError(f"mariadb-install-db failed twice; log {log_path}: {tail}")


def mariadb_command(port: int, data_dir: Path, socket_path: Path) -> list[str]:
    """utf8mb4 like Percona's default (``--no-defaults`` would otherwise give latin1)."""
    cmd = [which("mariadbd") or "mariadbd", "--no-defaults", f"--datadir={data_dir}", f"--socket={socket_path}",
           f"--port={port}", "--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
           "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci", "--max-connections=300"]
    return cmd + (["--user=root"] if os.geteuid() == 0 else [])


PROVISION_SQL = (
    "CREATE DATABASE IF NOT EXISTS api CHARACTER SET utf8mb4",
    "CREATE USER IF NOT EXISTS 'api'@'%' IDENTIFIED BY 'api'",
    "CREATE USER IF NOT EXISTS 'api'@'localhost' IDENTIFIED BY 'api'",
    # api_* schemas let each test and notebook work in a database of its own
    "GRANT ALL PRIVILEGES ON `api`.* TO 'api'@'%', 'api'@'localhost'",
    "GRANT ALL PRIVILEGES ON `api\\_%`.* TO 'api'@'%', 'api'@'localhost'",
    "GRANT PROCESS ON *.* TO 'api'@'%', 'api'@'localhost'",
)


def mariadb_provision(socket_path: Path) -> None:
    """Create database ``api`` and user api/api (the book's credentials) over the root socket."""
    import pymysql

    with pymysql.connect(unix_socket=str(socket_path), user="root", autocommit=True) as conn:
        cur = conn.cursor()
        for sql in PROVISION_SQL:
            cur.execute(sql)


def api_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "foundations", "serve", "--host", host, "--port", str(port)]


def ready_check(kind: str, url: str) -> Callable[[], object]:
    return {"redis": lambda: probe.redis_ping(url),
            "mysql": lambda: probe.mysql_ping(url),
            "api": lambda: probe.http_get(url.rstrip("/") + "/healthz")}[kind]
