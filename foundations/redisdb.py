"""Chapter 7: Redis clients with the book's timeouts (1 s to connect, read and write)."""

from __future__ import annotations

import redis


def client(url: str, timeout: float = 1.0, max_connections: int | None = None) -> redis.Redis:
    """A redis-py client for ``url`` whose pool blocks (up to ``timeout``) instead of growing without bound."""
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections or 50, timeout=timeout,
                                                 socket_timeout=timeout, socket_connect_timeout=timeout)
    return redis.Redis(connection_pool=pool)
