"""Chapter 10's hot path: a Redis client whose ``GET`` uses one dedicated connection per server thread.

redis-py's pools take a lock and poll the socket (``can_read``) on every checkout. A WSGI server thread
handles one request at a time, so a connection of its own is never shared and needs no lock: every ``GET``
skips that work. Chapter 10's notebook prints this server beside one on a shared pool (``variants.POOLED``)
at four connections, where the lock is rarely contended; there the two are within the run-to-run noise. It
also times one ``GET`` each way alone, in the calling thread's CPU time, where the checkout's cost shows.
Every other command goes through the ordinary pooled client this class extends.
"""

from __future__ import annotations

import threading

import redis


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
        self._every: list[redis.connection.ConnectionInterface] = []  # every thread's, for close()
        self._every_lock = threading.Lock()

    def _connection(self) -> redis.connection.ConnectionInterface:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.connection_pool.make_connection()
            with self._every_lock:  # once per thread, never on the hot path
                self._every.append(conn)
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
        """Disconnect every thread's connection, not only the calling thread's, and the pool's."""
        with self._every_lock:
            every, self._every = self._every, []
        for conn in every:
            conn.disconnect()
        super().close()
