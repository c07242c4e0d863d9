"""Chapters 10 and 11: loading and benchmarking the API - a built-in load generator (threads, keep-alive or
not, a progress bar), the book's ``ab`` and ``wrk`` when installed, a throwaway server to measure variants
side by side, and a soak run that watches the server's memory under a long load.

    $ python -m foundations bench --tool all --requests 2000     # CI-short; the book's run: --requests 50000
    $ python -m foundations bench --soak 60                       # 64 connections for 60 s, RSS before/after
"""

from __future__ import annotations

import contextlib
import http.client
import re
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from foundations import config, footprint, net, processes
from foundations.config import Config
from foundations.errors import ServiceError

LOAD_GENERATORS = {"ab": "apache2-utils", "wrk": "wrk"}  # the book's tools, by Debian package; optional
BOOK_RPS = 1908.96  # the book's `ab -c 4 -n 50000` on /get, chapter "Your first API"


@dataclass(frozen=True)
class Result:
    tool: str
    requests: int
    errors: int  # failed connections and non-2xx answers
    seconds: float
    rps: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_mb: float | None = None  # resident memory of the server's processes after the load


@dataclass(frozen=True)
class Load:
    """What a load got back: how many answers had each status (0: a failed connection), each request's
    round trip in seconds, and how long the whole load took."""

    statuses: Counter
    latencies: list[float]
    seconds: float


def load(
    url: str,
    requests: int,
    concurrency: int = 4,
    keepalive: bool = True,
    seconds: float | None = None,
    progress: bool = False,
    timeout: float = 5.0,
) -> Load:
    """GET ``url`` ``requests`` times from ``concurrency`` threads, each on its own keep-alive connection (or,
    like the book's ``ab``, a new connection per request); stopping early after ``seconds``, if given (the
    profiler's background load). ``progress``: a text progress bar."""
    # A plain text bar (tqdm.auto wants ipywidgets in notebooks): on stdout in a notebook, which shows stderr
    # on the pink background of errors; on stderr in a terminal, so stdout keeps only the results table.
    from tqdm import tqdm

    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    remaining = iter(range(requests))  # next() on a range iterator is atomic under the GIL
    # Each thread counts into its own list and Counter, added up after the joins: `n += 1` from many threads
    # is a read and a write that can interleave and lose counts.
    per_thread: list[tuple[list[float], Counter]] = []
    bar = tqdm(
        total=requests,
        desc=f"GET {target}",
        unit="req",
        disable=not progress,
        mininterval=0.5,
        file=sys.stdout if "ipykernel" in sys.modules else sys.stderr,
    )

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
        latencies: list[float] = []
        statuses: Counter = Counter()
        for _ in remaining:
            start = time.perf_counter()
            if deadline is not None and start > deadline:
                break
            try:
                conn.request("GET", target)
                response = conn.getresponse()
                response.read()
                statuses[response.status] += 1
                if not keepalive:
                    conn.close()
            except (OSError, http.client.HTTPException):
                statuses[0] += 1
                conn.close()  # reconnects on the next request
            latencies.append(time.perf_counter() - start)
            if len(latencies) % 100 == 0:
                bar.update(100)
        bar.update(len(latencies) % 100)
        conn.close()
        per_thread.append((latencies, statuses))  # list.append is atomic

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    deadline = None if seconds is None else start + seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    bar.close()
    return Load(
        sum((mine for _, mine in per_thread), Counter()), [s for mine, _ in per_thread for s in mine], elapsed
    )


def builtin(
    url: str, requests: int = 2000, concurrency: int = 4, progress: bool = True, seconds: float | None = None
) -> Result:
    """``load`` as a benchmark result: ``requests`` keep-alive GETs of ``url`` from ``concurrency`` threads,
    answers other than 2xx counted as errors."""
    done = load(url, requests, concurrency, seconds=seconds, progress=progress)
    latencies = done.latencies
    errors = sum(n for status, n in done.statuses.items() if not 200 <= status < 300)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        "builtin",
        len(latencies),
        errors,
        done.seconds,
        len(latencies) / done.seconds,
        cuts[49] * 1000,
        cuts[98] * 1000,
    )


@dataclass(frozen=True)
class Soak:
    """A long load and the server's resident memory (all workers) before and after it."""

    result: Result
    connections: int
    rss_start: int
    rss_end: int

    @property
    def rss_growth(self) -> float:
        return (self.rss_end - self.rss_start) / self.rss_start * 100


def soak(base_url: str, path: str, seconds: float, connections: int = 64, warmup: float = 5.0) -> Soak:
    """``connections`` keep-alive clients GET ``path`` for ``seconds``; RSS is read after ``warmup`` seconds
    of the same load (threads and buffers the load needs are then allocated) and again at the end."""
    url = base_url + path
    builtin(url, requests=10**9, concurrency=connections, progress=False, seconds=warmup)
    start = footprint.server_rss(base_url)
    if start is None:
        raise ServiceError(
            f"no local server listens behind {base_url}: a soak reads the server's memory from "
            "its processes, so run it on the server's host"
        )
    result = builtin(url, requests=10**9, concurrency=connections, progress=False, seconds=seconds)
    return Soak(result, connections, start, footprint.server_rss(base_url) or 0)


def render_soak(run: Soak) -> str:
    r = run.result
    return "\n".join(
        [
            f"soak: {r.requests} requests in {r.seconds:.0f} s from {run.connections} connections, "
            f"{r.rps:.0f} req/s",
            f"errors {r.errors}   p50 {r.p50_ms:.2f} ms   p99 {r.p99_ms:.2f} ms",
            f"server RSS {run.rss_start / 2**20:.1f} MiB at start, {run.rss_end / 2**20:.1f} MiB at the end "
            f"({run.rss_growth:+.1f} %; target: 0 errors, growth under 10 %)",
        ]
    )


def ab(url: str, requests: int = 2000, concurrency: int = 4, keepalive: bool = False) -> Result:
    """The book's ``ab -c 4 -n 50000``: HTTP/1.0, a new connection per request; ``keepalive``: ``ab -k``, the
    same requests on kept connections (HTTP/1.0 with ``Connection: keep-alive``), so only that changes."""
    flags = ["-k"] if keepalive else []
    out = processes.run(["ab", "-q", *flags, "-c", str(concurrency), "-n", str(requests), url], timeout=600)
    rps = float(_find(r"Requests per second:\s+([\d.]+)", out, "ab"))
    failed = int(_find(r"Failed requests:\s+(\d+)", out, "ab"))
    non2xx = int(_find(r"Non-2xx responses:\s+(\d+)", out, "ab")) if "Non-2xx" in out else 0
    seconds = float(_find(r"Time taken for tests:\s+([\d.]+)", out, "ab"))
    p50 = re.search(r"^\s+50%\s+(\d+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\d+)", out, re.MULTILINE)
    return Result(
        "ab",
        requests,
        failed + non2xx,
        seconds,
        rps,
        p50 and float(p50.group(1)),
        p99 and float(p99.group(1)),
    )


def wrk(url: str, seconds: float = 3.0, connections: int = 64) -> Result:
    """``wrk -t1 -c64 --latency``: keep-alive HTTP/1.1 throughput (the bench kit's main load)."""
    out = processes.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url], timeout=600
    )
    rps = float(_find(r"Requests/sec:\s+([\d.]+)", out, "wrk"))
    total = int(_find(r"(\d+) requests in", out, "wrk"))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        "wrk",
        total,
        errors + (int(non2xx.group(1)) if non2xx else 0),
        seconds,
        rps,
        _wrk_ms(_find(r"50%\s+([\d.]+\w+)", out, "wrk")),
        _wrk_ms(_find(r"99%\s+([\d.]+\w+)", out, "wrk")),
    )


def available(tool: str) -> bool:
    return tool == "builtin" or shutil.which(tool) is not None


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ServiceError(f"wrk printed a latency we cannot read: {text!r}")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def _find(pattern: str, text: str, tool: str) -> str:
    match = re.search(pattern, text)
    if not match:
        raise ServiceError(
            f"{tool}'s output has no {pattern!r}; is it the expected version? Output: {text[-300:]}"
        )
    return match.group(1)


SERVED = "foundations.server:app_from_environment"  # the app `serve --interface wsgi` runs


@contextlib.contextmanager
def server(
    cfg: Config,
    factory: str = SERVED,
    workers: int = 1,
    threads: int | None = 1,
    interface: str = "wsgi",
    task_impl: str = "asyncio",
    http: str = "auto",
) -> Iterator[tuple[str, int]]:
    """A throwaway granian server for ``factory`` (a WSGI or RSGI app) on a free port, ``threads`` blocking
    threads per worker, ``task_impl`` granian's ``--task-impl`` (asyncio, its default, or rust), ``http`` its
    ``--http`` (auto, its default, looks for HTTP/2 on each new connection; 1 speaks HTTP/1 only, as ``serve``):
    yields (base URL, pid), stopped by PID."""
    cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        interface,
        "--factory",
        "--host",
        "127.0.0.1",
        "--workers",
        str(workers),
        *(["--blocking-threads", str(threads)] if threads else []),  # None: granian's default, as `serve`
        *(["--task-impl", task_impl] if task_impl != "asyncio" else []),
        *(["--http", http] if http != "auto" else []),
        *(["--loop", "uvloop"] if interface == "rsgi" else []),  # as loopserver and serve (not auto's rloop)
        "--log-level",
        "warning",
        factory,
    ]
    with processes.start(
        cmd,
        f"granian for {factory}",
        env=config.child_environ(cfg),
        ready=lambda url: net.http_get(url + "/healthz", timeout=0.5),
    ) as running:
        yield running.url, running.pid


def seed(base_url: str, key: str = "name", value: str = "Tit Petric") -> None:
    """``/set`` the key the benchmark reads, so every ``/get`` is a 200 (as the Go bench kit does)."""
    from urllib.parse import quote

    status, body = net.http_get(f"{base_url}/set?key={quote(key)}&value={quote(value)}")
    if status != 200:
        raise ServiceError(f"{base_url}/set answered {status}: {body[:200]!r}")


def run(
    url: str,
    tool: str,
    requests: int,
    concurrency: int,
    seconds: float,
    progress: bool = True,
    keepalive: bool = False,
) -> Result:
    """One load of ``tool`` (builtin, ab, wrk) against ``url``; ``progress``: the built-in tool's bar;
    ``keepalive``: ``ab -k`` (wrk and the built-in tool always keep their connections)."""
    if not available(tool):
        package = LOAD_GENERATORS.get(tool, tool)
        raise ServiceError(f"{tool} is not installed: apt-get install {package}")
    if tool == "ab":
        return ab(url, requests, concurrency, keepalive)
    if tool == "wrk":
        return wrk(url, seconds, max(concurrency, 1))
    return builtin(url, requests, concurrency, progress)


def latency(result: Result, ms: float | None) -> str:
    """A percentile as text. ab prints whole milliseconds, rounded: its 0 reads "<0.5 ms", its 2 "1.5-2.5 ms"."""
    if ms is None:
        return "-"
    if result.tool == "ab":
        return "<0.5 ms" if ms == 0 else f"{ms - 0.5:g}-{ms + 0.5:g} ms"
    return f"{ms:.2f} ms"


def render(results: list[Result]) -> str:
    lines = [
        f"{'tool':<8} {'requests':>8} {'errors':>6} {'req/s':>9} {'p50':>9} {'p99':>9} {'server RSS':>10}"
    ]
    for r in results:
        p50, p99 = latency(r, r.p50_ms), latency(r, r.p99_ms)
        rss = f"{r.server_mb:.0f} MB" if r.server_mb is not None else "-"
        lines.append(f"{r.tool:<8} {r.requests:>8} {r.errors:>6} {r.rps:>9.0f} {p50:>9} {p99:>9} {rss:>10}")
    lines.append(f"(the book: {BOOK_RPS:.0f} req/s with ab -c 4 -n 50000)")
    return "\n".join(lines)
