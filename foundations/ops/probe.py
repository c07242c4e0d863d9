"""Chapter 1: is a service there, and is it the service we think? Small, dependency-light checks with short
timeouts, used by ``services``, ``doctor`` and the notebooks' first cells.

Each probe returns the round trip in milliseconds or raises ``ServiceError`` naming host:port.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import unquote, urlsplit

from foundations import net
from foundations.errors import ServerRefused, ServiceError


def redis_ping(url: str, timeout: float = 2.0) -> float:
    """PING the Redis at ``url`` with a raw RESP exchange; milliseconds for the round trip. ``timeout``
    is a deadline, as for MySQL and the API, not a measurement: a loaded workshop machine may need it."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 6379
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if parts.password:  # a workshop participant's Redis, compose's ACL user: AUTH first, in RESP
                words = [b"AUTH", *([unquote(parts.username).encode()] if parts.username else [])]
                words.append(unquote(parts.password).encode())
                sock.sendall(
                    b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
                )
                _expect(f"{host}:{port}", sock.recv(512), b"+OK")
            sock.sendall(b"PING\r\n")
            reply = sock.recv(512)
    except OSError as exc:
        raise ServiceError(f"Redis at {host}:{port} does not answer ({exc.strerror or exc})") from exc
    _expect(f"{host}:{port}", reply, b"+PONG")
    return (time.perf_counter() - start) * 1000


# Redis's error replies that say what to do, by how they start (a Redis with no client slot left sends its
# error at once, to the AUTH as to the PING)
REDIS_ERRORS = {
    b"-NOAUTH": "it needs a password: put it in the URL, before the host (user:password@)",
    b"-LOADING": "it is still loading its data; run this again in a few seconds",
    b"-ERR max number of clients reached": (
        "close the clients you hold (another notebook's kernel?), or raise its maxclients"
    ),
    b"-DENIED": (
        "in protected mode it takes connections from its own machine only: give it a password (requirepass) "
        "and put that in the URL, or connect from its machine"
    ),
}


def _expect(where: str, reply: bytes, expected: bytes) -> None:
    """Raise unless ``reply`` starts with ``expected``, saying what answered: an error reply (``-``, in RESP)
    is Redis's, quoted; to the AUTH, one that is no known condition is a refused password; anything else is
    another program's."""
    if reply.startswith(expected):
        return
    if not reply.startswith(b"-"):
        raise ServiceError(
            f"{where} answers, but not as Redis (got {reply[:30]!r}): the port is taken by another program"
        )
    line = reply.split(b"\r\n", 1)[0][1:].decode(errors="replace")[:120]  # "LOADING Redis is loading ..."
    fix = next((fix for start, fix in REDIS_ERRORS.items() if reply.startswith(start)), None)
    if fix is None and expected == b"+OK":  # WRONGPASS (Redis 6+), ERR invalid password
        raise ServerRefused(
            f'Redis at {where} refused the password in its URL ("{line}"): fix its user:password@'
        )
    fix = fix or "it runs, but refuses; fix what its message names, or ask whoever runs it"
    raise ServerRefused(f'Redis at {where} answered with an error, "{line}": {fix}')


def mysql_ping(dsn: str, timeout: float = 2.0) -> float:
    """Log in to MySQL/MariaDB and run ``SELECT 1``; milliseconds for connect + query."""
    import pymysql  # imported here: the CLI's other commands should not pay for it

    params = net.mysql_params(dsn)
    where = f"{params['host']}:{params['port']}"
    start = time.perf_counter()
    try:
        conn = pymysql.connect(**params, connect_timeout=timeout, read_timeout=timeout)
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        message = exc.args[-1] if exc.args else exc
        if code == 2003:  # nothing accepts connections there
            raise ServiceError(f"MySQL at {where} does not answer ({message})") from exc
        if code >= 1000 and code not in CLIENT_ERRORS:  # the server's own error packet: MySQL answered
            raise _mysql_error(where, params, code, message) from exc
        raise _not_mysql(where, message) from exc  # 2013: no greeting; InternalError: packets not MySQL's
    except (ValueError, IndexError) as exc:  # a greeting that is not MySQL's
        raise _not_mysql(where, exc) from exc
    with conn:
        conn.cursor().execute("SELECT 1")
    return (time.perf_counter() - start) * 1000


CLIENT_ERRORS = range(2000, 3000)  # PyMySQL's own (CR_*): the server's are 1000-1999 and 3000 on


def _mysql_error(where: str, params: dict, code: int, message: object) -> ServerRefused:
    """The server's error ``code``: in ``mysqldb.refused``'s words where it has them (connect says the same)."""
    from foundations import mysqldb  # imported here, as pymysql is

    return ServerRefused(
        mysqldb.refused(params, code)
        or f'MySQL at {where} answered with error {code} ("{message}"): it runs, but refuses this '
        "connection; fix what its message names, or ask whoever runs it"
    )


def _not_mysql(where: str, why: object) -> ServiceError:
    return ServiceError(
        f"{where} accepts connections, but does not answer as MySQL ({why}): the port is taken by another "
        "program"
    )


def api_health(url: str, timeout: float = 2.0) -> float:
    """The API server is healthy when ``/healthz`` answers 200 with ``{"status": "ok", ...}`` (it pings
    its Redis first); milliseconds for the round trip. Any other answer raises, saying what answered."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port}"
    start = time.perf_counter()
    status, body = net.http_get(url.rstrip("/") + "/healthz", timeout, what="API server")
    ms = (time.perf_counter() - start) * 1000
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ServiceError(
            f"{where} answers HTTP {status} on /healthz, but not as the API server (body {body[:40]!r}): "
            "the port is taken by another program"
        )
    if status == 200 and answer.get("status") == "ok":
        return ms
    error = answer.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    if message is None:
        raise ServiceError(
            f"{where} answers HTTP {status} on /healthz with {body[:60]!r}, not as the API server: the port "
            "is taken by another program"
        )
    raise ServiceError(f"API server at {where} is unhealthy (HTTP {status}: {message})")
