"""Chapter 10: profiling the running server - py-spy's flame graph (the book's go-torch), pyinstrument's
call tree, and the book's breakdown redone for Python: the share of request time in Redis I/O, request
parsing and JSON encoding.

py-spy reads another process's memory (ptrace): as root that works; elsewhere it needs
``sudo`` or ``kernel.yama.ptrace_scope=0``, and containers need ``--cap-add SYS_PTRACE``. ``ptrace()`` tells
beforehand, ``record`` says so in one line instead of a traceback; pyinstrument needs neither.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from foundations import bench, production
from foundations.config import Config
from foundations.errors import FoundationsError

# Frame markers, leaf first: the first that matches names where a sample's time went.
CATEGORIES = [
    ("Redis I/O", ("redis/", "hiredis", "socket", "pipelining.py")),
    ("JSON encoding", ("json/",)),
    ("request parsing", ("urllib/parse", "Request.arg", "parse_qs")),
]
# Samples under one of these are request work (WSGI, RSGI); the rest is the server idling or its event loop.
REQUEST_FRAMES = ("App.__call__", "RSGIApp.__rsgi__")
PTRACE_FIX = (
    "run as root, or sudo sysctl kernel.yama.ptrace_scope=0; in Docker: --cap-add SYS_PTRACE "
    "(Binder and most hosted notebooks allow neither)"
)
CAP_SYS_PTRACE = 19


class ProfilerError(FoundationsError):
    """py-spy could not attach or record (names the reason and the fix)."""


def ptrace() -> tuple[bool, str]:
    """Can py-spy attach to a process of ours here? (allowed, why): the capability, or Yama's scope."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False, "no /proc here: py-spy attaches on Linux (on macOS it needs sudo)"
    capabilities = int(status.split("CapEff:", 1)[1].split()[0], 16)
    if capabilities >> CAP_SYS_PTRACE & 1:
        return True, "CAP_SYS_PTRACE held (root)"
    scope = Path("/proc/sys/kernel/yama/ptrace_scope")
    level = scope.read_text().strip() if scope.exists() else "0"
    if level == "0":
        return True, "kernel.yama.ptrace_scope is 0: processes of the same user may be traced"
    return False, f"kernel.yama.ptrace_scope is {level} and CAP_SYS_PTRACE is not held"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise ProfilerError("py-spy is not installed: pip install py-spy")
    return found


def record(pid: int, seconds: float, out: Path, fmt: str = "flamegraph", rate: int = 250) -> Path:
    """Sample process ``pid`` and its workers for ``seconds``; ``fmt`` flamegraph (SVG) or raw (collapsed)."""
    cmd = [
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--idle",
        "--nonblocking",
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(rate),
        "--format",
        fmt,
        "-o",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode or not out.exists():
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProfilerError(
            f"py-spy could not profile pid {pid}: {reason[0]} (it needs ptrace: "
            f"{PTRACE_FIX}); pyinstrument works without it"
        )
    return out


def under_load(
    cfg: Config, out_dir: Path, seconds: float = 3.0, concurrency: int = 4, interface: str = "wsgi"
) -> dict[str, Path]:
    """Start a throwaway ``serve --interface <interface>``, load its ``/get`` and record the same ``seconds``
    twice at once (SVG flame graph, raw stacks)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"svg": out_dir / "flamegraph.svg", "raw": out_dir / "stacks.txt"}
    formats = {"svg": "flamegraph", "raw": "raw"}  # py-spy's names
    with production.start(cfg, "--interface", interface) as server:
        bench.seed(server.url)
        # wrk keeps the server busy (more request samples per second); the built-in load needs nothing installed
        url, load_seconds = server.url + "/get?key=name", seconds + 1  # py-spy takes a moment to attach
        if bench.available("wrk"):
            load = threading.Thread(target=bench.wrk, args=(url, load_seconds, concurrency))
        else:
            builtin = {
                "requests": 10**9,
                "concurrency": concurrency,
                "progress": False,
                "seconds": load_seconds,
            }
            load = threading.Thread(target=bench.builtin, args=(url,), kwargs=builtin)
        load.start()
        try:
            with ThreadPoolExecutor(len(paths)) as both:  # map re-raises a recording's error
                list(both.map(lambda kind: record(server.pid, seconds, paths[kind], formats[kind]), paths))
        finally:
            load.join()
    return paths


def breakdown(collapsed: str, categories: list[tuple[str, tuple[str, ...]]] = CATEGORIES) -> dict[str, float]:
    """Share (0-1) of request samples per category, from py-spy's raw (collapsed-stack) output."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        start = min((stack.find(frame) for frame in REQUEST_FRAMES if frame in stack), default=-1)
        if start < 0 or not count.isdigit():
            continue
        frames = stack[start:].split(";")
        counts[_category(frames, categories)] += int(count)
    total = sum(counts.values())
    if not total:
        raise ProfilerError("no request samples in the profile: was the server under load while it ran?")
    names = [name for name, _ in categories] + ["other (routing, responses, server glue)"]
    return {name: counts[name] / total for name in names}


def _category(frames: list[str], categories: list[tuple[str, tuple[str, ...]]]) -> str:
    for frame in reversed(frames):  # leaf first
        for name, markers in categories:
            if any(marker in frame for marker in markers):
                return name
    return "other (routing, responses, server glue)"


def pyinstrument_profile(app: Callable, target: str, calls: int = 2000):
    """pyinstrument's view: ``calls`` in-process requests of ``target`` through the WSGI ``app``."""
    from pyinstrument import Profiler
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(target).get_environ()  # built once: the profile shows the app, not a client

    def start_response(status: str, headers: list) -> None:
        pass

    profiler = Profiler(interval=0.0001)
    with profiler:
        for _ in range(calls):
            b"".join(app(dict(environ), start_response))
    return profiler
