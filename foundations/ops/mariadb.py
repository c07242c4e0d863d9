"""Chapter 8's server without Docker: MariaDB's data directory, its first start and the book's api/api user.

MariaDB runs as a user of its own when we are root (``daemons.run_as``); its admin account is our own OS user,
authenticated by the socket, so no password exists to leak.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from foundations import pids
from foundations.errors import ServiceError
from foundations.ops import daemons, packages


def _admin() -> str:
    """Our own OS user name: MariaDB's admin account is it, authenticated by the socket (unix_socket)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def init(data_dir: Path, log_path: Path, user: pwd.struct_passwd | None = None) -> None:
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
    ids: dict[str, Any] = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    for _attempt in (1, 2):  # seen failing once under heavy load; a clean second try has always worked
        daemons.hand_over(data_dir, user)
        with open(log_path, "ab") as log:
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir, **ids).returncode == 0:
                return
        shutil.rmtree(data_dir, ignore_errors=True)
    raise ServiceError(f"mariadb-install-db failed twice; log {log_path}: {pids.log_tail(log_path)}")


# performance_schema ON, as in MySQL 8 and Percona (MariaDB's default is OFF): chapter 8 reads its statement
# digests. Sized for one learner's few dozen connections: MariaDB's autosizing for 300 connections adds about
# 95 MB of resident memory, these limits about 30 MB, and start-up stays a fraction of a second (measured with
# mariadbd 10.11). Threads past the 100th are simply not counted. docker/offline/performance-schema.cnf repeats them.
PERFORMANCE_SCHEMA = [
    "--performance-schema=ON",
    "--performance-schema-max-thread-instances=100",
    "--performance-schema-accounts-size=10",
    "--performance-schema-hosts-size=10",
    "--performance-schema-users-size=10",
    "--performance-schema-digests-size=1000",
    *(
        f"--performance-schema-events-{kind}-history-long-size=100"
        for kind in ("statements", "stages", "waits", "transactions")
    ),
]


def command(port: int, data_dir: Path, socket_path: Path) -> list[str]:
    """utf8mb4 like Percona's default (``--no-defaults`` would otherwise give latin1); performance_schema on,
    like Percona's (``PERFORMANCE_SCHEMA``). It runs as the user ``spawn`` is given: never with
    ``--user=root``."""
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
        *PERFORMANCE_SCHEMA,
    ]


PROVISION_SQL = (
    "CREATE DATABASE IF NOT EXISTS api CHARACTER SET utf8mb4",
    "CREATE USER IF NOT EXISTS 'api'@'%' IDENTIFIED BY 'api'",
    "CREATE USER IF NOT EXISTS 'api'@'localhost' IDENTIFIED BY 'api'",
    # api_* schemas let each test and notebook work in a database of its own. Nothing global: the chapters
    # read server status (SHOW GLOBAL STATUS), which needs no privilege.
    "GRANT ALL PRIVILEGES ON `api`.* TO 'api'@'%', 'api'@'localhost'",
    "GRANT ALL PRIVILEGES ON `api\\_%`.* TO 'api'@'%', 'api'@'localhost'",
    # Chapter 8 reads the statement digests, as docker/mysql-init grants under compose.
    "GRANT SELECT ON `performance_schema`.* TO 'api'@'%', 'api'@'localhost'",
)


def provision(socket_path: Path) -> None:
    """Create database ``api`` and user api/api (the book's credentials) over the socket, as the admin."""
    import pymysql

    with pymysql.connect(unix_socket=str(socket_path), user=_admin(), autocommit=True) as conn:
        cur = conn.cursor()
        for sql in PROVISION_SQL:
            cur.execute(sql)


def admin(socket_path: Path) -> Any:
    """A connection as MariaDB's admin (our own OS user, see ``_admin``) over the socket, autocommit on."""
    import pymysql

    return pymysql.connect(unix_socket=str(socket_path), user=_admin(), autocommit=True)


def home(state_dir: Path, user: pwd.struct_passwd | None) -> Path:
    """Where MariaDB keeps its data and socket: ``state_dir/mariadb``, unless MariaDB runs as another user
    (we are root) who may not walk down to ``state_dir`` (a clone under /root or in a 0700 temp directory).
    MariaDB resolves its data directory by absolute path, so it then lives in a directory of its own under
    the system's temp directory, named after ``state_dir`` so the next ``services up`` finds it again."""
    home = Path(state_dir).resolve() / "mariadb"
    if user is None or _walkable(home.parent, user):
        return home
    return outside_home(state_dir)


def outside_home(state_dir: Path) -> Path:
    home = Path(state_dir).resolve() / "mariadb"
    digest = hashlib.sha1(str(home).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"api-foundations-mariadb-{digest}"


def _walkable(path: Path, user: pwd.struct_passwd) -> bool:
    """True when ``user`` has search permission on ``path`` and every directory above it."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True
