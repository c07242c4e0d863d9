"""Chapter 10's hot path: a Redis client whose ``GET`` uses one dedicated connection per server thread.

redis-py's pools take a lock and poll the socket (``can_read``) on every checkout. A WSGI server thread
handles one request at a time, so a connection of its own is never shared and needs no lock: every ``GET``
skips that work. Chapter 10's notebook times one ``GET`` each way, and the checkout alone, in the calling
thread's CPU time, and its part 4 serves its first server with this client. Every other command goes
through the ordinary pooled client this class extends.

A connection lives as long as its thread: granian ends idle request threads and starts new ones when traffic
returns, and each ended thread's connection is closed then, not kept open in Redis until ``close()``.
"""

from __future__ import annotations

import threading
import weakref

import redis


class _ThreadEnd:
    """Kept in a thread's local storage only, so it is freed when the thread ends (its finalizer then runs)."""


def _retire(
    conn: redis.connection.ConnectionInterface,
    every: set[redis.connection.ConnectionInterface],
    lock: threading.Lock,
) -> None:
    with lock:
        every.discard(conn)
    conn.disconnect()


class PerThreadRedis(redis.Redis):
    """``redis.Redis`` whose ``get`` runs on the calling thread's own connection (reconnecting once)."""

    def __init__(self, url: str, timeout: float = 1.0, max_connections: int = 50):
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        super().__init__(connection_pool=pool)
        self._local = threading.local()
        self._every: set[redis.connection.ConnectionInterface] = set()  # live threads', for close()
        self._every_lock = threading.Lock()

    def _connection(self) -> redis.connection.ConnectionInterface:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # once per thread, never on the hot path
            pool = self.connection_pool  # the pool's settings, but not its bookkeeping: this thread owns it
            conn = self._local.conn = pool.connection_class(**pool.connection_kwargs)
            self._local.end = _ThreadEnd()
            weakref.finalize(self._local.end, _retire, conn, self._every, self._every_lock).atexit = False
            with self._every_lock:
                self._every.add(conn)
        return conn

    def get(self, name: str | bytes) -> bytes | None:  # type: ignore[override]  # GET alone, on this thread's connection
        conn = self._connection()
        try:
            conn.send_command("GET", name)
            return conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError):
            conn.disconnect()  # the server restarted or a reply timed out: one fresh try (GET is idempotent)
            conn.send_command("GET", name)
            return conn.read_response()

    def close(self) -> None:
        """Disconnect every live thread's connection, not only the calling thread's, and the pool's."""
        with self._every_lock:
            every = list(self._every)
            self._every.clear()
        for conn in every:
            conn.disconnect()
        super().close()
