"""Chapter 1 without Docker: Redis, MariaDB and the API server as local processes on loopback ports.

Every process is started in its own session (so its workers can be stopped with it) and stopped by the
PID we recorded, after checking that the PID still runs the program we started. Processes that belong to a
test run or a notebook die with the process that started them (``die_with_parent``: Linux's
``PR_SET_PDEATHSIG``), so even a SIGKILLed run leaves none behind.

Least privilege: started by root, Redis and MariaDB run as a user of their own (``run_as``): the user
behind ``sudo``, else the system user their Debian packages create (``redis``, ``mysql``). The API server
runs as whoever starts it: its interpreter and virtualenv are theirs (often under a home no one else opens).
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from foundations.errors import ServiceError
from foundations.ops import packages, probe
from foundations.ops.state import pid_alive

SYSTEM_USERS = {"redis": "redis", "mysql": "mysql"}  # kind -> who runs it when we are root
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def run_as(kind: str) -> pwd.struct_passwd | None:
    """Who runs a daemon of ``kind``: ``None`` (whoever we are) unless we are root and it is Redis or
    MariaDB; then the user behind ``sudo``, else its system user. Without one: refuse, and say what to do."""
    if os.geteuid() != 0 or kind not in SYSTEM_USERS:
        return None
    sudo_uid = os.environ.get("SUDO_UID", "0")
    if sudo_uid.isdigit() and sudo_uid != "0":
        return pwd.getpwuid(int(sudo_uid))
    name = SYSTEM_USERS[kind]
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ServiceError(
            f"refusing to run {kind} as root, and there is no user {name!r} to run it as: "
            f"create one (useradd --system --no-create-home {name}) or run as a normal "
            "user"
        ) from None


def hand_over(path: Path, user: pwd.struct_passwd | None) -> None:
    """Make ``path`` (a directory) ``user``'s alone (0700), everything in it included; ``None``: ours."""
    path.mkdir(parents=True, exist_ok=True)
    if user is not None and path.stat().st_uid != user.pw_uid:
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)
    path.chmod(0o700)


def _die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to send ``sig`` to the child when the thread that started it ends
    (``PR_SET_PDEATHSIG``; it runs after Popen's setuid, which would otherwise clear it). Elsewhere: None."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    cmd: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    die_with_parent: bool = False,
    user: pwd.struct_passwd | None = None,
) -> int:
    """Start ``cmd`` in its own session with output to ``log_path``; returns its PID. ``die_with_parent``:
    it gets SIGTERM when this process (the calling thread) dies, even of SIGKILL. ``user``: run it as them
    (we must be root); ``cwd`` is entered before the switch, so it may lie below directories they cannot
    open."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
            preexec_fn=_die_with_parent() if die_with_parent else None,
            **ids,
        )
    return proc.pid


def runs(pid: int, program: str) -> bool:
    """True when ``pid`` is alive and still runs ``program`` (a PID can be reused after a reboot)."""
    if not pid_alive(pid):
        return False
    try:
        return program in " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process (macOS hides their command lines): trust the PID
        return True


def stop(pid: int, program: str, timeout: float = 10.0) -> None:
    """SIGTERM ``pid`` if it still runs ``program`` and wait; SIGKILL it after ``timeout``. Then SIGKILL
    whatever is left of its process group, so no worker outlives it.

    Only the leader gets SIGTERM: a server's master stops its own workers in order. Signalling the whole
    group races with a worker that is still starting, and the master can then hang until the SIGKILL and
    never run its own cleanup."""
    if not runs(pid, program):
        return
    for send, wait in (
        (lambda: os.kill(pid, signal.SIGTERM), timeout),
        (lambda: os.killpg(pid, signal.SIGKILL), 2.0),
    ):
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


def wait_until(
    ready: Callable[[], object], pid: int, what: str, log_path: Path, timeout: float = 30.0
) -> None:
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


def redis_command(port: int, auth_file: str | None = None) -> list[str]:
    """Loopback only, protected mode, no persistence (its directory: the working directory ``spawn`` gets);
    DEBUG allowed from loopback (chapter 7 uses DEBUG SLEEP). ``auth_file``: a config file with a password
    (``redis_auth_file``), for a workshop participant's servers."""
    return [
        packages.which("redis-server") or "redis-server",
        *([auth_file] if auth_file else []),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "yes",
        "--save",
        "",
        "--appendonly",
        "no",
        "--enable-debug-command",
        "local",
        "--dir",
        ".",
    ]


def redis_auth_file(directory: Path, password: str, user: pwd.struct_passwd | None) -> str:
    """Write ``requirepass`` into ``directory/auth.conf``, readable by the server's user only (a password
    on the command line would show in everyone's ``ps``); its name, for ``redis_command`` run in
    ``directory``."""
    path = directory / "auth.conf"
    path.touch(mode=0o600)
    path.write_text(f'requirepass "{password}"\n')
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    return path.name


def _admin() -> str:
    """Our own OS user name: MariaDB's admin account is it, authenticated by the socket (unix_socket)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def mariadb_init(data_dir: Path, log_path: Path, user: pwd.struct_passwd | None = None) -> None:
    """Create the system tables once (about a second), as ``user``: no test database, so no anonymous users;
    root and our own OS user (the admin, see ``_admin``) log in over the socket only, with no password."""
    if (data_dir / "mysql").is_dir():
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)  # MariaDB may be the first service of a state dir
    cmd = [
        packages.which("mariadb-install-db") or "mariadb-install-db",
        "--no-defaults",
        f"--datadir={data_dir}",
        "--auth-root-authentication-method=socket",
        f"--auth-root-socket-user={_admin()}",
        "--skip-test-db",
    ]
    ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    for _attempt in (1, 2):  # seen failing once under heavy load; a clean second try has always worked
        hand_over(data_dir, user)
        with open(log_path, "ab") as log:
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir, **ids).returncode == 0:
                return
        shutil.rmtree(data_dir, ignore_errors=True)
    tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
    raise ServiceError(f"mariadb-install-db failed twice; log {log_path}: {tail}")


def mariadb_command(port: int, data_dir: Path, socket_path: Path) -> list[str]:
    """utf8mb4 like Percona's default (``--no-defaults`` would otherwise give latin1). It runs as the user
    ``spawn`` is given: never with ``--user=root``."""
    return [
        packages.which("mariadbd") or "mariadbd",
        "--no-defaults",
        f"--datadir={data_dir}",
        f"--socket={socket_path}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--skip-log-bin",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--max-connections=300",
    ]


PROVISION_SQL = (
    "CREATE DATABASE IF NOT EXISTS api CHARACTER SET utf8mb4",
    "CREATE USER IF NOT EXISTS 'api'@'%' IDENTIFIED BY 'api'",
    "CREATE USER IF NOT EXISTS 'api'@'localhost' IDENTIFIED BY 'api'",
    # api_* schemas let each test and notebook work in a database of its own. Nothing global: the chapters
    # read server status (SHOW GLOBAL STATUS), which needs no privilege.
    "GRANT ALL PRIVILEGES ON `api`.* TO 'api'@'%', 'api'@'localhost'",
    "GRANT ALL PRIVILEGES ON `api\\_%`.* TO 'api'@'%', 'api'@'localhost'",
)


def mariadb_provision(socket_path: Path) -> None:
    """Create database ``api`` and user api/api (the book's credentials) over the socket, as the admin."""
    import pymysql

    with pymysql.connect(unix_socket=str(socket_path), user=_admin(), autocommit=True) as conn:
        cur = conn.cursor()
        for sql in PROVISION_SQL:
            cur.execute(sql)


def mariadb_admin(socket_path: Path):
    """A connection as MariaDB's admin (our own OS user, see ``_admin``) over the socket, autocommit on."""
    import pymysql

    return pymysql.connect(unix_socket=str(socket_path), user=_admin(), autocommit=True)


def api_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "foundations", "serve", "--host", host, "--port", str(port)]


def ready_check(kind: str, url: str) -> Callable[[], object]:
    return {
        "redis": lambda: probe.redis_ping(url),
        "mysql": lambda: probe.mysql_ping(url),
        "api": lambda: probe.api_health(url),
    }[kind]
