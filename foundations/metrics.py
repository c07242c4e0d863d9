"""Chapter 11: the book's expvar counters (``/debug/vars``) and Prometheus metrics (``/metrics``), across workers.

granian runs the API in several worker processes, and a scrape reaches only one of them. So each worker
counts into a small memory-mapped file of its own in ``metrics_dir`` (one 64-bit slot per counter: an
increment is a lock and a memory write, cheap enough for the ``/get`` hot path), and whichever worker
answers a scrape sums every worker's file. ``serve`` prepares the directory before the workers start;
without one (an app built in a test or a notebook) the counts live in anonymous memory.

These files are the lesson, not plumbing to hide: notebook 11 reads each worker's file (``per_worker``) and its
exercise sums them, as a scrape does. prometheus-client's multiprocess mode does the same sharing behind its
API (notebook 11's appendix times its increment beside ours); here it renders ``/metrics`` from our totals.

    >>> m = Metrics("")                       # in-process: nothing shared
    >>> m.count("registry.get"); m.totals()["registry.get"]
    1
"""

from __future__ import annotations

import gc
import hmac
import ipaddress
import json
import mmap
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from foundations import pids
from foundations.web import Request, Response, Route, json_response

# The book's five expvar names, then ours. The order is the file layout: append, never reorder.
REGISTRY_COUNTERS = ("registry.get", "registry.set", "registry.del", "registry.getAll", "registry.getAll.get")
COUNTERS = (*REGISTRY_COUNTERS, "http.requests", "gc.gen0", "gc.gen1", "gc.gen2")
_SLOT = {name: i for i, name in enumerate(COUNTERS)}
_SIZE = 8 * len(COUNTERS)
_REQUESTS = _SLOT["http.requests"]
SERVER_FILE = "server.json"
# Headers a reverse proxy adds (nginx's proxy_add_x_forwarded_for, RFC 7239, nginx's X-Real-IP): a request
# that has one came through a proxy, whatever address it arrived from.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
REDACTED = "***"
_SECRET_FLAG = re.compile(r"^--[\w-]*(password|passwd|secret|token|dsn)[\w-]*", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@/\s]*(?=@)", re.IGNORECASE)
_KEY_PASSWORD = re.compile(r"(?P<head>\b(password|passwd|pwd)=)[^\s;&]*", re.IGNORECASE)


def prepare(directory: str | Path, cmdline: list[str] | None = None) -> Path:
    """Make ``directory`` ready for a new server: drop old workers' counts, record the start time."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("worker-*.bin"):
        old.unlink()
    info = {
        "started": time.time(),
        "pid": os.getpid(),
        "cmdline": cmdline if cmdline is not None else sys.argv,
    }
    (path / SERVER_FILE).write_text(json.dumps(info))
    return path


def allowed(environ: dict, enabled: bool = False, token: str = "") -> bool:
    """May this request read ``/debug/vars`` and ``/metrics``? Decided by the client, not by the address the
    server listens on: yes with ``enabled`` (``debug_endpoints``: every client), with ``Authorization: Bearer
    <token>`` (``debug_token``, e.g. for Prometheus), or from a loopback client that did not come through a
    proxy (a proxy on the same host connects from loopback too, but adds a forwarding header)."""
    if enabled:
        return True
    sent = environ.get("HTTP_AUTHORIZATION", "").encode()
    if token and hmac.compare_digest(sent, f"Bearer {token}".encode()):
        return True
    if any(header in environ for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR", "").rsplit("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or address).is_loopback


def redact(args: list[str]) -> list[str]:
    """``args`` without secrets: the value of any ``--*password*``/``--*secret*``/``--*token*`` flag, and
    the password of any URL or DSN (``mysql://api:***@db/api``, ``password=***``)."""
    cleaned, secret_next = [], False
    for arg in args:
        flag = not secret_next and _SECRET_FLAG.match(arg)
        if secret_next:
            cleaned.append(_secret(arg))
        elif flag and "=" in arg:
            name, value = arg.split("=", 1)
            cleaned.append(f"{name}={_secret(value)}")
        else:
            cleaned.append(_scrub(arg))
        secret_next = bool(flag) and "=" not in arg
    return cleaned


def _secret(value: str) -> str:
    """A secret flag's value: a URL keeps all but its password (where it points helps); anything else goes."""
    return _scrub(value) if "://" in value else REDACTED


def _scrub(value: str) -> str:
    return _KEY_PASSWORD.sub(rf"\g<head>{REDACTED}", _URL_PASSWORD.sub(rf"\g<head>{REDACTED}", value))


class Metrics:
    """This process's counters (``count``) and every worker's sums (``totals``, ``process``)."""

    def __init__(self, directory: str | Path = ""):
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()
        self._info: dict[str, Any]
        found = 0  # bytes already in this worker's file
        if self.directory is None:
            self._map = mmap.mmap(-1, _SIZE)
            self._info = {"started": time.time(), "pid": os.getpid(), "cmdline": sys.argv}
        else:
            # Not "wb+": a file already there keeps its counts (a pid the kernel recycled from an exited
            # worker, whose counts totals() promises to keep, or another Metrics of this process). prepare()
            # has already removed the files of an earlier server.
            fd = os.open(self.directory / f"worker-{os.getpid()}.bin", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                found = os.fstat(fd).st_size
                if found < _SIZE:
                    os.ftruncate(fd, _SIZE)  # grows in one step, zeroed: a reader sees no half-made file
                self._map = mmap.mmap(fd, _SIZE)
            finally:
                os.close(fd)  # the map stays valid after the descriptor closes
            server_file = self.directory / SERVER_FILE
            self._info = (
                json.loads(server_file.read_text())
                if server_file.exists()
                else {"started": time.time(), "pid": os.getpid(), "cmdline": sys.argv}
            )
        self._cells = memoryview(self._map).cast("q")
        collections = [stats["collections"] for stats in gc.get_stats()]
        if not found:  # collections before we started listening, into new cells only
            for generation, n in enumerate(collections):
                self._cells[_GC + generation] = n
        # _on_gc keeps each gc cell at this base plus the collector's own count: no lock, no read-modify-write.
        self._gc_base = [self._cells[_GC + g] - n for g, n in enumerate(collections)]
        _listening.add(self)

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to counter ``name`` (the book's ``countGet.Add(1)``); also Registry's ``on_call``."""
        slot = _SLOT[name]
        # += on the map is read-then-write: threads of one worker must not interleave. acquire/release, not
        # `with`: fewer instructions, and the += cannot raise (a known slot; no count nears 2**63). The window:
        # as acquire() returns, this thread may run other code while it holds the lock (from 3.12 a pending
        # garbage collection, so gc callbacks; a signal handler). That code must never count, or it waits
        # forever for its own lock (so _on_gc takes none), and an exception it raises skips the release.
        self._lock.acquire()
        self._cells[slot] += amount
        self._lock.release()

    def count_request(self) -> None:
        """One more HTTP request (``web.App`` calls it per request): ``count`` without the name lookup."""
        self._lock.acquire()
        self._cells[_REQUESTS] += 1
        self._lock.release()

    def _files(self) -> list[tuple[int, bytes]]:
        if self.directory is None:
            return [(os.getpid(), self._map[:])]
        return _worker_files(self.directory)

    def totals(self) -> dict[str, int]:
        """Every counter, summed over every worker this server has had (a restarted worker's counts stay)."""
        sums = [0] * len(COUNTERS)
        for _pid, data in self._files():
            for i, value in enumerate(memoryview(data).cast("q")):
                sums[i] += value
        return dict(zip(COUNTERS, sums))

    def process(self) -> dict[str, float | int]:
        """Uptime of the server, and RSS and threads summed over its live workers."""
        workers = [pid for pid, _ in self._files() if pids.alive(pid)] or [os.getpid()]
        figures = [_proc_status(pid) for pid in workers]
        return {
            "uptime_seconds": round(time.time() - self._info["started"], 3),
            "workers": len(workers),
            "rss_bytes": sum(f["rss_bytes"] for f in figures),
            "threads": sum(f["threads"] for f in figures),
        }

    def debug_vars(self) -> dict:
        """``/debug/vars``: expvar's shape, one top-level name per variable, sorted as expvar sorts them."""
        totals = self.totals()
        variables: dict = {name: totals[name] for name in COUNTERS if not name.startswith("gc.")}
        variables["cmdline"] = redact(self._info["cmdline"])
        variables["process"] = {**self.process(), "gc_collections": [totals[f"gc.gen{g}"] for g in range(3)]}
        variables["worker"] = {"pid": os.getpid(), **self.own()}  # what Go's in-process expvar would show
        return dict(sorted(variables.items()))

    def own(self) -> dict[str, int]:
        """This worker's own counts of the book's five names, without the other workers'."""
        return {name: self._cells[_SLOT[name]] for name in REGISTRY_COUNTERS}


def _worker_files(directory: Path) -> list[tuple[int, bytes]]:
    found = []
    for path in directory.glob("worker-*.bin"):
        data = path.read_bytes()
        if len(data) == _SIZE:  # a file just created, not yet grown to its size, has counted nothing
            found.append((int(path.stem.split("-")[1]), data))
    return found


def per_worker(directory: str | Path) -> dict[int, dict[str, int]]:
    """Each worker's own counters (pid -> name -> count): the files a scrape adds up, one by one."""
    return {
        pid: dict(zip(COUNTERS, memoryview(data).cast("q").tolist()))
        for pid, data in sorted(_worker_files(Path(directory)))
    }


class _Collector:
    """Hands prometheus-client the summed figures at scrape time (its own multiprocess mode would do too, at
    several times our cost per increment, as 11's appendix measures; our counters are already shared)."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        totals, process = self.metrics.totals(), self.metrics.process()
        calls = CounterMetricFamily(
            "foundations_registry_calls",
            "Registry operations (the book's expvar counters)",
            labels=["operation"],
        )
        for name in REGISTRY_COUNTERS:
            if name != "registry.getAll.get":  # keys, not calls: a family of its own
                calls.add_metric([name.removeprefix("registry.")], totals[name])
        yield calls
        yield CounterMetricFamily(
            "foundations_registry_keys_fetched",
            "Keys fetched by getAll (the book's registry.getAll.get)",
            value=totals["registry.getAll.get"],
        )
        yield CounterMetricFamily(
            "foundations_http_requests", "HTTP requests answered, all workers", value=totals["http.requests"]
        )
        collections = CounterMetricFamily(
            "python_gc_collections", "Garbage collections, all workers", labels=["generation"]
        )
        for generation in range(3):
            collections.add_metric([str(generation)], totals[f"gc.gen{generation}"])
        yield collections
        yield GaugeMetricFamily(
            "foundations_uptime_seconds", "Seconds since the server started", value=process["uptime_seconds"]
        )
        yield GaugeMetricFamily("foundations_workers", "Live worker processes", value=process["workers"])
        yield GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory, all live workers", value=process["rss_bytes"]
        )
        yield GaugeMetricFamily("process_threads", "OS threads, all live workers", value=process["threads"])


def prometheus_text(metrics: Metrics) -> tuple[bytes, str]:
    """The exposition-format body for ``/metrics`` and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))  # type: ignore[arg-type]  # Collector's protocol: collect()
    return generate_latest(registry), CONTENT_TYPE_LATEST


def routes(metrics: Metrics, enabled: bool = False, token: str = "") -> dict:
    """``/debug/vars`` and ``/metrics`` routes for ``web.App``: to the clients ``allowed`` turns away, whatever
    the method, a 404 as for a path with no route (a 405 would tell them the path exists)."""

    def shown_to(request: Request) -> bool:
        return allowed(request.environ, enabled, token)

    def debug_vars(request: Request) -> Response:
        return json_response(metrics.debug_vars())

    def prometheus(request: Request) -> Response:
        body, content_type = prometheus_text(metrics)
        return Response(200, body, content_type)

    return {
        "/debug/vars": Route(debug_vars, shown_to=shown_to),
        "/metrics": Route(prometheus, shown_to=shown_to),
    }


# One garbage-collector callback for every Metrics alive (a test process builds many apps; a weak set
# lets the ones it drops go).
_listening: weakref.WeakSet[Metrics] = weakref.WeakSet()
_GC = _SLOT["gc.gen0"]  # the first of the three gc cells (gen0, gen1, gen2)


def _on_gc(phase: str, info: dict) -> None:
    """After each collection, its generation's cell := base + the collector's count, in one write and without
    the lock: the collector may run in a thread that holds it (see ``count``). Collections never overlap, and
    once a Metrics listens only this callback writes its gc cells, so no two writers race."""
    if phase == "stop":
        generation = info["generation"]
        collections = gc.get_stats()[generation]["collections"]  # this collection included
        for metrics in list(_listening):
            metrics._cells[_GC + generation] = metrics._gc_base[generation] + collections


gc.callbacks.append(_on_gc)


def _proc_status(pid: int) -> dict[str, int]:
    """RSS and thread count of one worker."""
    try:
        proc = psutil.Process(pid)
        return {"rss_bytes": proc.memory_info().rss, "threads": proc.num_threads()}
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone since it was listed
        return {"rss_bytes": 0, "threads": 0}
