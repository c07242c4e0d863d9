"""Chapter 1's plumbing for every chapter: is a port taken, which one is free, what a URL answers.

>>> port = free_port()                       # the kernel picks one nothing listens on
>>> http_get(f"http://127.0.0.1:{port}/")    # ServiceError: HTTP server at 127.0.0.1:NNNN does not answer
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from foundations.errors import ServiceError

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})  # this machine's loopback, as a URL names it


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def bindable(host: str, port: int) -> bool:
    """True when a server could listen on host:port (a connect test misses sockets that are bound, not
    listening). SO_REUSEADDR as the servers set it, so connections left in TIME_WAIT don't count."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", candidates: Iterable[int] | None = None) -> int:
    """A port nothing listens on right now: the first of ``candidates`` that is, or (None) one the kernel
    picks."""
    if candidates is None:
        with socket.socket() as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]
    tried = list(candidates)
    for port in tried:
        if bindable(host, port):
            return port
    raise ServiceError(f"no free port on {host} among {len(tried)} tried ({min(tried)}-{max(tried)})")


def http_get(url: str, timeout: float = 2.0, what: str = "HTTP server") -> tuple[int, bytes]:
    """GET ``url``: ``(status, body)``; an HTTP error status is an answer, not an exception. ``what`` names
    the server in the error raised when nothing answers ("JupyterLab", "API server")."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own loopback URLs
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        parts = urlsplit(url)
        reason = getattr(exc, "reason", exc)
        raise ServiceError(f"{what} at {parts.hostname}:{parts.port} does not answer ({reason})") from exc


def mysql_params(dsn: str) -> dict:
    """PyMySQL ``connect()`` keyword arguments for a ``mysql://user:password@host:port/db`` DSN."""
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname,
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or None,
    }
