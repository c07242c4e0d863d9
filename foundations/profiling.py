"""Chapter 10: profiling the running server - py-spy's flame graph (the book's go-torch), pyinstrument's
call tree, and the book's breakdown redone for Python: the share of request time in Redis I/O, request
parsing and JSON encoding.

py-spy reads another process's memory (ptrace): as root that works; elsewhere it needs
``sudo`` or ``kernel.yama.ptrace_scope=0``. ``record`` says so in one line instead of a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from foundations import bench
from foundations.config import Config
from foundations.errors import FoundationsError

# Frame markers, leaf first: the first that matches names where a sample's time went.
CATEGORIES = [("Redis I/O", ("redis/", "hiredis", "socket")), ("JSON encoding", ("json/",)),
              ("request parsing", ("urllib/parse", "Request.arg", "parse_qs"))]
REQUEST_FRAME = "App.__call__"  # samples under it are request work; the rest is the server idling


class ProfilerError(FoundationsError):
    """py-spy could not attach or record (names the reason and the fix)."""


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise ProfilerError("py-spy is not installed: pip install py-spy")
    return found


def record(pid: int, seconds: float, out: Path, fmt: str = "flamegraph", rate: int = 250) -> Path:
    """Sample process ``pid`` and its workers for ``seconds``; ``fmt`` flamegraph (SVG) or raw (collapsed)."""
    cmd = [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--idle", "--nonblocking",
           "--duration", str(max(1, round(seconds))), "--rate", str(rate), "--format", fmt, "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode or not out.exists():
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProfilerError(f"py-spy could not profile pid {pid}: {reason[0]} (it needs ptrace: run as root, "
                            "or set kernel.yama.ptrace_scope=0); pyinstrument works without it")
    return out


def under_load(cfg: Config, out_dir: Path, seconds: float = 3.0, concurrency: int = 4,
               factory: str = "foundations.server:app_from_environment") -> dict[str, Path]:
    """Start a throwaway server, load its ``/get`` and record it twice (SVG flame graph, raw stacks)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"svg": out_dir / "flamegraph.svg", "raw": out_dir / "stacks.txt"}
    with bench.server(cfg, factory) as (base, pid):
        bench.seed(base)
        load = threading.Thread(target=bench.builtin, args=(base + "/get?key=name",),
                                kwargs={"requests": 10**9, "concurrency": concurrency, "progress": False,
                                        "seconds": 2 * seconds + 3})
        load.start()
        try:
            record(pid, seconds, paths["svg"], "flamegraph")
            record(pid, seconds, paths["raw"], "raw")
        finally:
            load.join()
    return paths


def breakdown(collapsed: str, categories: list[tuple[str, tuple[str, ...]]] = CATEGORIES) -> dict[str, float]:
    """Share (0-1) of request samples per category, from py-spy's raw (collapsed-stack) output."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if REQUEST_FRAME not in stack or not count.isdigit():
            continue
        frames = stack[stack.index(REQUEST_FRAME):].split(";")
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

    from foundations import api

    profiler = Profiler(interval=0.0001)
    with profiler:
        for _ in range(calls):
            api.call(app, "GET", target)
    return profiler
