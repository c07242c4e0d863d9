"""Chapter 1 without Docker: the command lines of the local Redis and API server, who runs each, and how
``services`` sees that each is ready; ``foundations.pids`` starts and stops them, ``ops.mariadb`` sets MariaDB up.

Least privilege: started by root, Redis and MariaDB run as a user of their own (``run_as``): the user
behind ``sudo``, else the system user their Debian packages create (``redis``, ``mysql``). The API server
runs as whoever starts it: its interpreter and virtualenv are theirs (often under a home no one else opens).
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path

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


def api_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "foundations", "serve", "--host", host, "--port", str(port)]


def ready_check(kind: str, url: str) -> Callable[[], object]:
    return {
        "redis": lambda: probe.redis_ping(url),
        "mysql": lambda: probe.mysql_ping(url),
        "api": lambda: probe.api_health(url),
    }[kind]
