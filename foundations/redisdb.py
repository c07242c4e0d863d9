"""Chapter 7: Redis clients with the book's 1 s timeouts (Redigo's connect, read and write timeouts become
redis-py's ``socket_connect_timeout`` and ``socket_timeout``, which bounds every read and write alike).

- ``connect(url)``: one connection, the book's ``GetRedis`` (``redis.Dial`` with its timeouts);
- ``client(url)``: redis-py's own pool for one server (``BlockingConnectionPool``: waits, never grows unbounded);
- ``KeyRouted({name: url})``: several servers, the key's hash picks the server, so ``SET`` then ``GET`` always
  meet; the hash is of the server's name, not its URL, so a new port, host or password moves no key;

The book's round-robin pool is in ``foundations.redispool``, the measurements of a Redis (how fast it answers,
how long others wait) in ``foundations.redisspeed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from foundations.errors import FIX_DOWN, ConfigError, ServiceError

POOL_EXHAUSTED = "No connection available"  # what BlockingConnectionPool raises when its wait times out


def client(url: str, timeout: float = 1.0, max_connections: int | None = None) -> redis.Redis:
    """A redis-py client for ``url`` whose pool blocks (up to ``timeout``) instead of growing without bound."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections or 50,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    return redis.Redis(connection_pool=pool)


def on_database(url: str, number: int) -> str:
    """``url`` with its database ``number`` in place of its own (``redis://h:6390/0`` -> ``redis://h:6390/13``):
    keys that never mix with the default database's. Credentials, host and options are kept."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def address(target: str | redis.Redis) -> str:
    """``host:port`` of a Redis URL or client."""
    if isinstance(target, str):
        parts = urlsplit(target)
        return f"{parts.hostname}:{parts.port or 6379}"
    kwargs = target.connection_pool.connection_kwargs
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def _reason(exc: Exception) -> str:
    """The last sentence of redis-py's message, without brackets of its own ("(104, 'Connection reset by
    peer')"), so that the message's one bracketed part is the reason."""
    return str(exc).split(". ")[-1].rstrip(".").replace("(", "").replace(")", "") or type(exc).__name__


def unavailable(target: str | redis.Redis, exc: Exception) -> ServiceError:
    """The one-line error for a Redis that does not answer, or whose pool had no connection free in time
    (``raise unavailable(url, exc) from exc``)."""
    if isinstance(target, redis.Redis) and str(exc).startswith(POOL_EXHAUSTED):
        pool, where = target.connection_pool, address(target)
        return ServiceError(
            f"all {pool.max_connections} pooled connections to Redis at {where} stayed busy "
            f"for {getattr(pool, 'timeout', '?')} s: raise max_connections or lower the concurrency"
        )
    return ServiceError(f"Redis at {address(target)} does not answer ({_reason(exc)}); {FIX_DOWN}")


def connect(url: str, timeout: float = 1.0) -> redis.Redis:
    """One connection, made now, with the book's timeouts (``GetRedis``): ``timeout`` to connect, and to wait
    for each read or write (redis-py has one socket timeout where Redigo has a read and a write timeout)."""
    try:  # redis-py connects a single-connection client as it builds it
        return redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, single_connection_client=True
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise unavailable(url, exc) from exc


def _score(name: str, key: bytes) -> bytes:
    """The score of server ``name`` for ``key``: a stable hash (the same in every process) of both."""
    return hashlib.blake2b(name.encode() + b"\0" + key, digest_size=8).digest()


class KeyRouted:
    """Several Redis servers; the key decides which one (rendezvous hashing: the highest hash of
    server name + key wins). The same key always meets the same server, and adding or losing a server only
    moves the keys that lived there. ``servers`` maps a stable name per server to its URL: the name is
    hashed, not the URL, so moving a server to another port or host, rotating its password, or writing
    ``localhost`` in one worker and ``127.0.0.1`` in another moves no key (the names must match everywhere).
    ``fallback=True`` sends a down server's keys to the next-ranked one (a cache then sees misses, not
    errors); without it, they fail with the server's address."""

    def __init__(
        self,
        servers: Mapping[str, str],
        timeout: float = 1.0,
        max_connections: int = 8,
        fallback: bool = False,
    ) -> None:
        if not isinstance(servers, Mapping):
            raise ConfigError(
                "KeyRouted takes a stable name per server, {name: url}, e.g. "
                "{'redis1': cfg.redis1_url, 'redis2': cfg.redis2_url}: the name picks the keys, not the URL"
            )
        if not servers:
            raise ConfigError("KeyRouted needs at least one Redis server, e.g. {'redis1': cfg.redis1_url}")
        self.urls = dict(servers)
        self.fallback = fallback
        self.clients = {name: client(url, timeout, max_connections) for name, url in self.urls.items()}

    def ranked(self, key: str | bytes) -> list[str]:
        """Server names for ``key``, best first."""
        raw = key.encode() if isinstance(key, str) else key
        return sorted(self.urls, key=lambda name: _score(name, raw), reverse=True)

    def server_for(self, key: str | bytes) -> str:
        """The name of ``key``'s server."""
        return self.ranked(key)[0]

    def execute(self, key: str | bytes, *args: Any) -> Any:
        """Run ``args`` (a command about ``key``) on the key's server."""
        candidates = self.ranked(key) if self.fallback else [self.server_for(key)]
        for name in candidates:
            try:
                return self.clients[name].execute_command(*args)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                error = exc
        where = ", ".join(address(self.urls[name]) for name in candidates)
        raise ServiceError(
            f"Redis at {where} does not answer ({_reason(error)}) for key {key!r}; {FIX_DOWN}"
        ) from error

    def get(self, key: str) -> bytes | None:
        return self.execute(key, "GET", key)

    def set(self, key: str, value: Any) -> bool:
        return bool(self.execute(key, "SET", key, value))

    def delete(self, key: str) -> int:
        return self.execute(key, "DEL", key)

    def close(self) -> None:
        for conn in self.clients.values():
            conn.close()


class ClusterClient(redis.RedisCluster):
    """Chapter 11's scale-out: a Redis Cluster behind the calls a single server takes.

    Single-key commands are routed by redis-py (the key's hash slot picks the node). The multi-key calls
    need help, because a cluster splits keys over nodes: ``keys`` asks every primary (redis-py would ask
    one), ``mget`` fetches per slot (not atomically, like separate GETs), and ``scan`` walks one primary
    after another, the integer cursor carrying which one (``node_cursor * nodes + node_index``), so a
    ``while cursor != 0`` loop works unchanged."""

    mget = redis.RedisCluster.mget_nonatomic  # type: ignore[assignment]  # per slot, as the docstring says

    def keys(self, pattern: str = "*", **kwargs: Any) -> list:  # type: ignore[override]
        return super().keys(pattern, target_nodes=self.PRIMARIES, **kwargs)

    def scan(  # type: ignore[override]  # the cursor also says which primary
        self,
        cursor: int = 0,
        match: str | None = None,
        count: int | None = None,
        _type: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, list]:
        nodes = sorted(self.get_primaries(), key=lambda node: node.name)  # type: ignore[no-untyped-call]
        index, node_cursor = cursor % len(nodes), cursor // len(nodes)
        answers, keys = super().scan(
            node_cursor, match=match, count=count, _type=_type, target_nodes=nodes[index]
        )
        node_cursor = next(iter(answers.values()))  # type: ignore[attr-defined]  # a cluster answers per node
        if node_cursor == 0:  # this node is done: the next one starts at its cursor 0
            index, node_cursor = index + 1, 0
            if index == len(nodes):
                return 0, keys
        return node_cursor * len(nodes) + index, keys


def cluster(url: str, timeout: float = 1.0) -> ClusterClient:
    """A client for the Redis Cluster that ``url`` (any one of its nodes) belongs to."""
    try:
        return ClusterClient.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)  # type: ignore[return-value]
    except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException) as exc:
        raise ServiceError(
            f"Redis Cluster at {address(url)} does not answer ({exc}); start its nodes, or set "
            "redis_cluster=false for a single Redis"
        ) from exc
