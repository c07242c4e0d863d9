"""Chapter 7: how fast a Redis answers, and how much of a client's wait is the machine's own.

- ``intrinsic_latency(seconds)``: what ``redis-cli --intrinsic-latency`` measures, the machine's own stalls;
- ``pipelined_pings(url)`` and ``redis_benchmark(url)``: how many PINGs a server really answers per second;
- ``concurrent_pings(url)``: the same from several clients at once;
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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

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
    piece of work between its reads, this loop none, so ``avg_us`` (one step of the loop: a clock read plus the
    interpreter's work) is far lower than redis-cli's average; only the worst gap compares."""
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
    """One command in Redis' wire protocol (RESP): each argument's length in bytes, not characters."""
    words = [a.encode() for a in args]
    return f"*{len(words)}\r\n".encode() + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)


def _expect(sock: socket.socket, reply: bytes, url: str) -> None:
    data = b""
    while len(data) < len(reply) and (chunk := sock.recv(1 << 16)):
        data += chunk
    if data != reply:
        raise ServiceError(f"Redis at {address(url)} answered {data[:80]!r}, not {reply[:20]!r}...")


@contextlib.contextmanager
def _connected(url: str) -> Iterator[socket.socket]:
    """A plain socket to the server at ``url``, logged in if the URL has a password."""
    params = redis.connection.parse_url(url)
    with socket.create_connection((params.get("host", "localhost"), params.get("port", 6379)), 5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as redis-py: no write waits for an ACK
        if params.get("password"):
            sock.sendall(_command("AUTH", *filter(None, (params.get("username"), params["password"]))))
            _expect(sock, b"+OK\r\n", url)
        yield sock


def _pings_for(sock: socket.socket, url: str, seconds: float, batch: int) -> tuple[int, float]:
    """(PINGs answered, seconds taken): ``batch`` PINGs per write on ``sock`` until ``seconds`` have passed."""
    request, reply = _command("PING") * batch, b"+PONG\r\n" * batch
    done, start = 0, time.perf_counter()
    while (took := time.perf_counter() - start) < seconds:
        sock.sendall(request)
        _expect(sock, reply, url)
        done += batch
    return done, took


def pipelined_pings(url: str, seconds: float = 0.5, batch: int = 1000) -> float:
    """PINGs the server at ``url`` answers per second to a client that never waits for one answer before
    sending the next: ``batch`` PINGs per write, for ``seconds``. The client does nothing per answer but
    compare bytes, so the rate is the server's (reading, parsing, replying), not a Python client's."""
    with _connected(url) as sock:
        done, took = _pings_for(sock, url, seconds, batch)
    return done / took


@dataclass(frozen=True)
class Load:
    """A rate, and how many CPUs the clients and the server kept busy while it ran (CPU seconds / wall)."""

    rate: float
    client_cpus: float
    server_cpus: float


def _pinger(url: str, seconds: float, batch: int, rounds: int, start: Any, results: Any) -> None:
    """One of ``concurrent_pings``' clients: connect, then each round wait for the others and PING for
    ``seconds``; report what it did, or why it could not."""
    try:
        with _connected(url) as sock:
            for _round in range(rounds):
                start.wait()
                cpu = time.process_time()
                done, took = _pings_for(sock, url, seconds, batch)
                results.put((done, took, time.process_time() - cpu))
    except threading.BrokenBarrierError:
        results.put(None)  # another client could not connect: it says why
    except (OSError, ServiceError) as exc:
        start.abort()
        results.put(str(exc))


def _failed(url: str, outcomes: list[Any]) -> NoReturn:
    reason = next((outcome for outcome in outcomes if isinstance(outcome, str)), "?")
    raise ServiceError(f"Redis at {address(url)}: a client could not PING: {reason}; {FIX_DOWN}")


def _redis_cpu(conn: redis.Redis) -> float:
    info = conn.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def concurrent_pings(
    url: str, connections: int = 4, seconds: float = 0.3, batch: int = 1, rounds: int = 1
) -> Load:
    """``pipelined_pings`` from ``connections`` clients at once, each in a process of its own (threads would
    share one GIL and take turns): the PINGs they all got answered per second, summed, and the CPUs they and
    the server kept busy meanwhile. The clients connect first and start each round together, so only time
    when all of them ran counts; of ``rounds`` rounds the fastest is kept (a busy machine only slows one)."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(connections + 1, timeout=60), spawn.Queue()
    clients = [
        spawn.Process(target=_pinger, args=(url, seconds, batch, rounds, start, results), daemon=True)
        for _ in range(connections)
    ]
    for client in clients:
        client.start()
    loads = []
    try:
        with redis.Redis.from_url(url, socket_timeout=5) as conn:
            for _round in range(rounds):
                try:
                    start.wait()
                except threading.BrokenBarrierError:  # a client could not connect: what each one said
                    _failed(url, [results.get(timeout=60) for _ in clients])
                server, began = _redis_cpu(conn), time.perf_counter()
                outcomes = [results.get(timeout=seconds + 60) for _ in clients]
                wall, server = time.perf_counter() - began, _redis_cpu(conn) - server
                if not all(isinstance(outcome, tuple) for outcome in outcomes):
                    _failed(url, outcomes)
                took = max(outcome[1] for outcome in outcomes)
                loads.append(
                    Load(
                        rate=sum(outcome[0] for outcome in outcomes) / took,
                        client_cpus=sum(outcome[2] for outcome in outcomes) / took,
                        server_cpus=server / wall,
                    )
                )
    finally:
        for client in clients:
            client.join(5)
            if client.is_alive():
                client.kill()
    return max(loads, key=lambda load: load.rate)


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


def redis_benchmark(
    url: str,
    requests: int = 100_000,
    pipeline: int = 16,
    tests: tuple[str, ...] = ("ping_inline", "ping_mbulk"),
) -> dict[str, float]:
    """The rate ``redis-benchmark -t TESTS -P pipeline`` measures (50 clients, C, pipelined): requests per
    second for each of the PING tests in ``tests`` (by default both, ``PING_INLINE`` and ``PING_MBULK``). Each
    sends ``requests`` PINGs; redis-benchmark times a test in whole milliseconds, so a rate is only as good as
    the run is long: size ``requests`` for a second or more."""
    program = _redis_tool("redis-benchmark", "redisspeed.pipelined_pings(url)")
    params = redis.connection.parse_url(url)
    target = [program, "-h", params.get("host", "localhost"), "-p", str(params.get("port", 6379))]
    with _ping_only_login(url) as login:
        out = subprocess.run(
            [*target, *login, "-t", ",".join(tests), "-n", str(requests), "-P", str(pipeline), "-q", "--csv"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    rates = {name: float(rps) for name, rps in re.findall(r'^"(PING_\w+)","([\d.]+)"', out, re.MULTILINE)}
    if set(rates) != {test.upper() for test in tests}:
        raise ServiceError(f"redis-benchmark printed something unexpected: {out[-200:]!r}")
    return rates
