"""Chapter 1 without Docker: Redis, MariaDB and the API server as local processes on loopback ports.

Their command lines, and who runs them; ``foundations.pids`` starts and stops them by PID.

Least privilege: started by root, Redis and MariaDB run as a user of their own (``run_as``): the user
behind ``sudo``, else the system user their Debian packages create (``redis``, ``mysql``). The API server
runs as whoever starts it: its interpreter and virtualenv are theirs (often under a home no one else opens).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from foundations import pids
from foundations.errors import ServiceError
from foundations.ops import packages, probe

SYSTEM_USERS = {"redis": "redis", "mysql": "mysql"}  # kind -> who runs it when we are root


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
    raise ServiceError(f"mariadb-install-db failed twice; log {log_path}: {pids.log_tail(log_path)}")


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
