"""Chapter 7: Redis clients with the book's 1 s timeouts (Redigo's connect, read and write timeouts become
redis-py's ``socket_connect_timeout`` and ``socket_timeout``, which bounds every read and write alike).

- ``connect(url)``: one connection, the book's ``GetRedis`` (``redis.Dial`` with its timeouts);
- ``client(url)``: redis-py's own pool for one server (``BlockingConnectionPool``: waits, never grows unbounded);
- ``KeyRouted(urls)``: several servers, the key's hash picks the server, so ``SET`` then ``GET`` always meet;
- ``intrinsic_latency(seconds)``: what ``redis-cli --intrinsic-latency`` measures, the machine's own stalls;
- ``pipelined_pings(url)`` and ``redis_benchmark(url)``: how many PINGs a server really answers per second;
- ``worst_ping_during(url, work)``: how long other clients wait while ``work`` runs (chapter 9: KEYS vs SCAN).

The book's round-robin pool is in ``foundations.redispool``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
            f"for {pool.timeout} s: raise max_connections or lower the concurrency"
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


def _score(url: str, key: bytes) -> bytes:
    return hashlib.blake2b(url.encode() + b"\0" + key, digest_size=8).digest()


class KeyRouted:
    """Several Redis servers; the key decides which one (rendezvous hashing: the highest hash of
    server+key wins). The same key always meets the same server, and adding or losing a server only
    moves the keys that lived there. ``fallback=True`` sends a down server's keys to the next-ranked one
    (a cache then sees misses, not errors); without it, they fail with the server's address."""

    def __init__(
        self, urls: Sequence[str], timeout: float = 1.0, max_connections: int = 8, fallback: bool = False
    ) -> None:
        if not urls:
            raise ConfigError("KeyRouted needs at least one Redis URL, e.g. [cfg.redis1_url, cfg.redis2_url]")
        self.urls = list(urls)
        self.fallback = fallback
        self.clients = {url: client(url, timeout, max_connections) for url in self.urls}

    def ranked(self, key: str | bytes) -> list[str]:
        """Servers for ``key``, best first."""
        raw = key.encode() if isinstance(key, str) else key
        return sorted(self.urls, key=lambda url: _score(url, raw), reverse=True)

    def server_for(self, key: str | bytes) -> str:
        return self.ranked(key)[0]

    def execute(self, key: str | bytes, *args: Any) -> Any:
        """Run ``args`` (a command about ``key``) on the key's server."""
        candidates = self.ranked(key) if self.fallback else [self.server_for(key)]
        for url in candidates:
            try:
                return self.clients[url].execute_command(*args)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                error = exc
        where = ", ".join(address(url) for url in candidates)
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


@dataclass(frozen=True)
class Latency:
    """The machine's own stalls while spinning: ``max_us`` is the worst gap, ``avg_us`` the usual one."""

    max_us: float
    avg_us: float
    runs: int


def intrinsic_latency(seconds: float = 1.0) -> Latency:
    """``redis-cli --intrinsic-latency`` in Python: spin for ``seconds``, keep the longest gap between
    two clock reads. It measures the host (scheduler, other processes), not Redis; Python's loop is
    slower than C's, so ``avg_us`` is higher, but the worst gap shows the same stalls."""
    clock = time.perf_counter_ns
    start = last = clock()
    end = start + int(seconds * 1e9)
    worst = runs = 0
    while last < end:
        now = clock()
        worst = max(worst, now - last)
        last = now
        runs += 1
    return Latency(max_us=worst / 1000, avg_us=(last - start) / max(runs, 1) / 1000, runs=runs)


def _ping_loop(url: str, ready: Any, stop: Any, worst_ms: Any) -> None:
    conn = redis.Redis.from_url(url, socket_timeout=30)
    try:
        conn.ping()  # connected: only the round trips from here on count
    except redis.RedisError:
        return  # the caller sees this process end without ``ready``
    ready.set()
    while not stop.is_set():
        start = time.perf_counter()
        conn.ping()
        worst_ms.value = max(worst_ms.value, (time.perf_counter() - start) * 1000)


def worst_ping_during(url: str, work: Callable[[], Any]) -> tuple[float, float]:
    """Run ``work`` while another process PINGs the server at ``url`` without pause: (ms ``work`` took,
    the slowest PING's round trip in ms). A separate process, so the PINGs never wait for this one's GIL,
    only for the server."""
    spawn = multiprocessing.get_context("spawn")
    ready, stop, worst_ms = spawn.Event(), spawn.Event(), spawn.Value("d", 0.0)
    pinger = spawn.Process(target=_ping_loop, args=(url, ready, stop, worst_ms), daemon=True)
    pinger.start()
    try:
        while not ready.wait(0.05):
            if not pinger.is_alive():
                raise ServiceError(f"Redis at {address(url)} does not answer PING; {FIX_DOWN}")
        time.sleep(0.05)  # a few PINGs before the work, so one is in flight when it starts
        start = time.perf_counter()
        work()
        took_ms = (time.perf_counter() - start) * 1000
    finally:
        stop.set()
        pinger.join(5)
    return took_ms, worst_ms.value


def _redis_tool(name: str, instead: str) -> str:
    program = shutil.which(name)
    if not program:
        raise ServiceError(
            f"{name} is not installed: apt-get install redis-tools (or brew install redis), or use {instead}"
        )
    return program


def redis_cli_intrinsic_latency(seconds: int = 1) -> Latency:
    """Run the book's ``redis-cli --intrinsic-latency SECONDS`` and read its figures."""
    program = _redis_tool("redis-cli", "redisdb.intrinsic_latency()")
    out = subprocess.run(
        [program, "--intrinsic-latency", str(seconds)], capture_output=True, text=True, timeout=seconds + 10
    ).stdout
    worst = re.findall(r"Max latency so far: (\d+) microseconds", out)
    total = re.search(r"(\d+) total runs \(avg latency: ([\d.]+) microseconds", out)
    if not (worst and total):
        raise ServiceError(f"redis-cli --intrinsic-latency printed something unexpected: {out[-200:]!r}")
    return Latency(max_us=float(worst[-1]), avg_us=float(total.group(2)), runs=int(total.group(1)))


def _command(*args: str) -> bytes:
    """One command in Redis' wire protocol (RESP)."""
    return f"*{len(args)}\r\n".encode() + b"".join(f"${len(a)}\r\n{a}\r\n".encode() for a in args)


def _expect(sock: socket.socket, reply: bytes, url: str) -> None:
    data = b""
    while len(data) < len(reply) and (chunk := sock.recv(1 << 16)):
        data += chunk
    if data != reply:
        raise ServiceError(f"Redis at {address(url)} answered {data[:80]!r}, not {reply[:20]!r}...")


def pipelined_pings(url: str, seconds: float = 0.5, batch: int = 1000) -> float:
    """PINGs the server at ``url`` answers per second to a client that never waits for one answer before
    sending the next: ``batch`` PINGs per write, for ``seconds``. The client does nothing per answer but
    compare bytes, so the rate is the server's (reading, parsing, replying), not a Python client's."""
    params = redis.connection.parse_url(url)
    with socket.create_connection((params.get("host", "localhost"), params.get("port", 6379)), 5) as sock:
        if params.get("password"):
            sock.sendall(_command("AUTH", *filter(None, (params.get("username"), params["password"]))))
            _expect(sock, b"+OK\r\n", url)
        request, reply = _command("PING") * batch, b"+PONG\r\n" * batch
        done, start = 0, time.perf_counter()
        while (took := time.perf_counter() - start) < seconds:
            sock.sendall(request)
            _expect(sock, reply, url)
            done += batch
    return done / took


def redis_benchmark(url: str, requests: int = 100_000, pipeline: int = 16) -> dict[str, float]:
    """The rate ``redis-benchmark -t ping -P pipeline`` measures (50 clients, C, pipelined): requests per
    second for each of its two PING tests, ``PING_INLINE`` and ``PING_MBULK``."""
    program = _redis_tool("redis-benchmark", "redisdb.pipelined_pings(url)")
    params = redis.connection.parse_url(url)  # not -u: redis-benchmark sends AUTH "" for redis://:password@
    target = ["-h", params.get("host", "localhost"), "-p", str(params.get("port", 6379))]
    if params.get("password"):
        target += [
            "-a",
            params["password"],
            *(["--user", params["username"]] if params.get("username") else []),
        ]
    out = subprocess.run(
        [program, *target, "-t", "ping", "-n", str(requests), "-P", str(pipeline), "-q", "--csv"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    rates = {name: float(rps) for name, rps in re.findall(r'^"(PING_\w+)","([\d.]+)"', out, re.MULTILINE)}
    if len(rates) != 2:
        raise ServiceError(f"redis-benchmark printed something unexpected: {out[-200:]!r}")
    return rates


class ClusterClient(redis.RedisCluster):
    """Chapter 11's scale-out: a Redis Cluster behind the calls a single server takes.

    Single-key commands are routed by redis-py (the key's hash slot picks the node). The multi-key calls
    need help, because a cluster splits keys over nodes: ``keys`` asks every primary (redis-py would ask
    one), ``mget`` fetches per slot (not atomically, like separate GETs), and ``scan`` walks one primary
    after another, the integer cursor carrying which one (``node_cursor * nodes + node_index``), so a
    ``while cursor != 0`` loop works unchanged."""

    mget = redis.RedisCluster.mget_nonatomic

    def keys(self, pattern: str = "*", **kwargs: Any) -> list:  # type: ignore[override]
        return super().keys(pattern, target_nodes=self.PRIMARIES, **kwargs)

    def scan(
        self,
        cursor: int = 0,
        match: str | None = None,
        count: int | None = None,  # type: ignore[override]
        _type: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, list]:
        nodes = sorted(self.get_primaries(), key=lambda node: node.name)
        index, node_cursor = cursor % len(nodes), cursor // len(nodes)
        answers, keys = super().scan(
            node_cursor, match=match, count=count, _type=_type, target_nodes=nodes[index]
        )
        node_cursor = next(iter(answers.values()))
        if node_cursor == 0:  # this node is done: the next one starts at its cursor 0
            index, node_cursor = index + 1, 0
            if index == len(nodes):
                return 0, keys
        return node_cursor * len(nodes) + index, keys


def cluster(url: str, timeout: float = 1.0) -> ClusterClient:
    """A client for the Redis Cluster that ``url`` (any one of its nodes) belongs to."""
    try:
        return ClusterClient.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException) as exc:
        raise ServiceError(
            f"Redis Cluster at {address(url)} does not answer ({exc}); start its nodes, or set "
            "redis_cluster=false for a single Redis"
        ) from exc
