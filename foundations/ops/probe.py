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
from foundations.errors import ServiceError


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
                if not sock.recv(64).startswith(b"+OK"):
                    raise ServiceError(f"Redis at {host}:{port} refused the password in its URL")
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        raise ServiceError(f"Redis at {host}:{port} does not answer ({exc.strerror or exc})") from exc
    if reply.startswith(b"-NOAUTH"):  # Redis, protected by a password the URL does not carry
        raise ServiceError(
            f"Redis at {host}:{port} needs a password: put it in the URL, before the host (user:password@)"
        )
    if not reply.startswith(b"+PONG"):
        raise ServiceError(
            f"{host}:{port} answers, but not as Redis (got {reply[:30]!r}): the port is taken "
            "by another program"
        )
    return (time.perf_counter() - start) * 1000


def mysql_ping(dsn: str, timeout: float = 2.0) -> float:
    """Log in to MySQL/MariaDB and run ``SELECT 1``; milliseconds for connect + query."""
    import pymysql  # imported here: the CLI's other commands should not pay for it

    params = net.mysql_params(dsn)
    where = f"{params['host']}:{params['port']}"
    start = time.perf_counter()
    try:
        conn = pymysql.connect(**params, connect_timeout=timeout, read_timeout=timeout)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        if code == 1045:
            raise ServiceError(
                f"MySQL at {where} refused user {params['user']!r}: wrong password, or the user "
                "was never created (`python -m foundations services up` creates api/api)"
            ) from exc
        if code == 2003:  # nothing accepts connections there
            raise ServiceError(f"MySQL at {where} does not answer ({exc.args[-1]})") from exc
        raise _not_mysql(where, exc.args[-1] if exc.args else exc) from exc
    except (pymysql.err.MySQLError, ValueError, IndexError) as exc:  # a greeting that is not MySQL's
        raise _not_mysql(where, exc) from exc
    with conn:
        conn.cursor().execute("SELECT 1")
    return (time.perf_counter() - start) * 1000


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
