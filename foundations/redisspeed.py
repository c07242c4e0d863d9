"""Chapter 7: how fast a Redis answers, and how much of a client's wait is the machine's own.

- ``intrinsic_latency(seconds)``: what ``redis-cli --intrinsic-latency`` measures, the machine's own stalls;
- ``pipelined_pings(url)`` and ``redis_benchmark(url)``: how many PINGs a server really answers per second;
- ``worst_ping_during(url, work)``: how long other clients wait while ``work`` runs (chapter 9: KEYS vs SCAN).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis

from foundations.errors import FIX_DOWN, ServiceError
from foundations.redisdb import address


@dataclass(frozen=True)
class Latency:
    """The machine's own stalls while spinning: ``max_us`` is the worst gap, ``avg_us`` the usual one."""

    max_us: float
    avg_us: float
    runs: int


def intrinsic_latency(seconds: float = 1.0) -> Latency:
    """``redis-cli --intrinsic-latency``'s idea in Python: spin for ``seconds``, keep the longest gap between
    two clock reads. It measures the host (scheduler, other processes), not Redis. redis-cli times a fixed
    piece of work between its reads, this loop none, so ``avg_us`` (a clock read) is far lower than
    redis-cli's average; only the worst gap compares."""
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
    program = _redis_tool("redis-cli", "redisspeed.intrinsic_latency()")
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
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as redis-py: no write waits for an ACK
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


@contextlib.contextmanager
def _ping_only_login(url: str) -> Iterator[list[str]]:
    """redis-benchmark's login options for the server at ``url``. It reads a password only from its command
    line, where ``ps`` shows it to every user of the machine; so where ``url`` has one, it logs in as a user
    made for this run, who may only PING, with a one-time password, and deleted afterwards."""
    if not redis.connection.parse_url(url).get("password"):
        yield []
        return
    name, password = f"benchmark-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with redis.Redis.from_url(url, socket_timeout=5) as admin:
        try:
            admin.acl_setuser(name, enabled=True, passwords=[f"+{password}"], commands=["+ping"])
        except redis.ResponseError as refused:
            raise ServiceError(
                f"redis-benchmark would show your Redis password to every user of this machine, and {refused}: "
                "a user allowed ACL SETUSER can make a PING-only one; or use redisspeed.pipelined_pings(url)"
            ) from None
        try:
            yield ["--user", name, "-a", password]
        finally:
            admin.acl_deluser(name)


def redis_benchmark(url: str, requests: int = 100_000, pipeline: int = 16) -> dict[str, float]:
    """The rate ``redis-benchmark -t ping -P pipeline`` measures (50 clients, C, pipelined): requests per
    second for each of its two PING tests, ``PING_INLINE`` and ``PING_MBULK``."""
    program = _redis_tool("redis-benchmark", "redisspeed.pipelined_pings(url)")
    params = redis.connection.parse_url(url)
    target = [program, "-h", params.get("host", "localhost"), "-p", str(params.get("port", 6379))]
    with _ping_only_login(url) as login:
        out = subprocess.run(
            [*target, *login, "-t", "ping", "-n", str(requests), "-P", str(pipeline), "-q", "--csv"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    rates = {name: float(rps) for name, rps in re.findall(r'^"(PING_\w+)","([\d.]+)"', out, re.MULTILINE)}
    if len(rates) != 2:
        raise ServiceError(f"redis-benchmark printed something unexpected: {out[-200:]!r}")
    return rates
