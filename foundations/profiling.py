"""Chapter 10: profiling the running server - py-spy's flame graph (the book's go-torch), pyinstrument's
call tree, and the book's breakdown redone for Python: the share of request time in Redis I/O, request
parsing and JSON encoding.

Two views of the same run: the CPU view (py-spy's default; the book's pprof profile is one) counts a thread
while it runs or waits for a CPU; the wall-clock view (``--idle``) also counts it while it waits, for Redis's
reply or for work. ``flame_chart`` draws the request stacks only, sized for a notebook's output area.

py-spy reads another process's memory (ptrace): as root that works; elsewhere it needs
``sudo`` or ``kernel.yama.ptrace_scope=0``, and containers need ``--cap-add SYS_PTRACE``. ``ptrace()`` tells
beforehand, ``record`` says so in one line instead of a traceback; pyinstrument needs neither.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
OTHER = "other (routing, responses, server glue)"
PTRACE_FIX = (
    "run as root, or sudo sysctl kernel.yama.ptrace_scope=0; in Docker: --cap-add SYS_PTRACE "
    "(Binder and most hosted notebooks allow neither)"
)
CAP_SYS_PTRACE = 19
PROC_STATUS = Path("/proc/self/status")
YAMA_SCOPE = Path("/proc/sys/kernel/yama/ptrace_scope")


class ProfilerError(FoundationsError):
    """py-spy could not attach or record (names the reason and the fix)."""


def ptrace() -> tuple[bool, str]:
    """Can py-spy attach to a process of ours here? (allowed, why): the capability, or Yama's scope."""
    try:
        status = PROC_STATUS.read_text()
    except OSError:
        return False, "no /proc here: py-spy attaches on Linux (on macOS it needs sudo)"
    level = YAMA_SCOPE.read_text().strip() if YAMA_SCOPE.exists() else "0"
    if level == "3":  # Yama's "no attach": no capability helps, and only a reboot lowers it
        return (
            False,
            "kernel.yama.ptrace_scope is 3: no process may be traced, not even by root, until a reboot",
        )
    capabilities = int(status.split("CapEff:", 1)[1].split()[0], 16)
    if capabilities >> CAP_SYS_PTRACE & 1:
        # root holds it, and so does a container given --cap-add SYS_PTRACE (the Docker lab's compose.yaml)
        return True, "CAP_SYS_PTRACE held" + (" (root)" if os.geteuid() == 0 else "")
    if level == "0":
        return True, "kernel.yama.ptrace_scope is 0: processes of the same user may be traced"
    return False, f"kernel.yama.ptrace_scope is {level} and CAP_SYS_PTRACE is not held"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise ProfilerError("py-spy is not installed: pip install py-spy")
    return found


def record(
    pid: int, seconds: float, out: Path, fmt: str = "flamegraph", rate: int = 250, idle: bool = False
) -> Path:
    """Sample process ``pid`` and its workers for ``seconds``; ``fmt`` flamegraph (SVG) or raw (collapsed);
    ``idle``: the wall-clock view, waiting threads included."""
    cmd = [
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        *(["--idle"] if idle else []),
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
    cfg: Config,
    out_dir: Path,
    seconds: float = 3.0,
    concurrency: int = 4,
    interface: str = "wsgi",
    rate: int = 250,
) -> dict[str, Path]:
    """Start a throwaway ``serve --interface <interface>``, load its ``/get`` and record it three times, one
    after the other, ``seconds`` each at ``rate`` samples a second: the CPU view as an SVG flame graph (``svg``)
    and as raw stacks (``cpu``), and the wall-clock view's raw stacks (``wall``). One at a time, because py-spy
    pauses the server to read a stack (no torn stacks) and only one tracer may pause a process."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "svg": out_dir / "flamegraph.svg",
        "cpu": out_dir / "stacks-cpu.txt",
        "wall": out_dir / "stacks-wall.txt",
    }
    formats = {"svg": "flamegraph", "cpu": "raw", "wall": "raw"}  # py-spy's names
    with production.start(cfg, "--interface", interface) as server:
        bench.seed(server.url)
        stop = threading.Event()
        load = threading.Thread(target=_load_until, args=(stop, server.url + "/get?key=name", concurrency))
        load.start()
        try:
            for kind, path in paths.items():
                record(server.pid, seconds, path, formats[kind], rate, idle=kind == "wall")
        finally:
            stop.set()
            load.join()
    return paths


def _load_until(stop: threading.Event, url: str, concurrency: int) -> None:
    """Keep ``url`` under load in rounds of 2 s until ``stop`` is set, however long py-spy takes to attach:
    wrk keeps the server busiest (more request samples a second); the built-in load needs nothing installed."""
    while not stop.is_set():
        if bench.available("wrk"):
            bench.wrk(url, 2, concurrency)
        else:
            bench.builtin(url, requests=10**9, concurrency=concurrency, progress=False, seconds=2)


def request_stacks(collapsed: str) -> Counter[tuple[str, ...]]:
    """py-spy's raw (collapsed-stack) samples taken inside a request, each stack cut to start at the request's
    first frame, frames without their line numbers (``Registry.get (foundations/registry.py)``). A frame's
    function is the name before `` (``, whole: ``StaticApp.__call__`` is not ``App.__call__``."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        start = next((i for i, frame in enumerate(frames) if frame.split(" (")[0] in REQUEST_FRAMES), None)
        if start is not None and count.isdigit():
            stacks[tuple(re.sub(r":\d+\)$", ")", frame) for frame in frames[start:])] += int(count)
    if not stacks:
        raise ProfilerError("no request samples in the profile: was the server under load while it ran?")
    return stacks


def breakdown(collapsed: str, categories: list[tuple[str, tuple[str, ...]]] = CATEGORIES) -> dict[str, float]:
    """Share (0-1) of request samples per category, from py-spy's raw (collapsed-stack) output."""
    counts: Counter[str] = Counter()
    for frames, count in request_stacks(collapsed).items():
        counts[_category(frames, categories)] += count
    total = sum(counts.values())
    return {name: counts[name] / total for name in [name for name, _ in categories] + [OTHER]}


def _category(frames: tuple[str, ...], categories: list[tuple[str, tuple[str, ...]]]) -> str:
    for frame in reversed(frames):  # leaf first
        for name, markers in categories:
            if any(marker in frame for marker in markers):
                return name
    return OTHER


def flame_chart(collapsed: str, title: str, width_px: int = 950) -> Any:
    """A flame graph of the request stacks only (root at the bottom, a box's width its share of the samples,
    coloured by ``breakdown``'s categories; boxes under 0.5 % left out), as a matplotlib figure ``width_px``
    wide: a PNG in the notebook, which shows in an untrusted notebook too (an SVG does not)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    stacks = request_stacks(collapsed)
    total = sum(stacks.values())
    colours = dict(
        zip([name for name, _ in CATEGORIES] + [OTHER], ["tab:red", "tab:purple", "tab:blue", "0.75"])
    )
    boxes: list[tuple[int, float, float, str, str]] = []  # depth, start, width, frame, category

    def draw(prefix: tuple[str, ...], start: float) -> None:
        children: dict[str, Counter] = {}
        for frames, count in sorted(stacks.items()):
            if frames[: len(prefix)] == prefix and len(frames) > len(prefix):
                children.setdefault(frames[len(prefix)], Counter())[frames] += count
        for frame, below in children.items():
            width = sum(below.values()) / total
            if width < 0.005:  # under half a percent: a sliver nobody can read, and it only adds height
                start += width
                continue
            boxes.append((len(prefix), start, width, frame, _category(prefix + (frame,), CATEGORIES)))
            draw(prefix + (frame,), start)
            start += width

    draw((), 0.0)
    depth = max(d for d, *_ in boxes) + 1
    height_in = 0.9 + 0.22 * depth
    fig, ax = plt.subplots(figsize=(width_px / 100, height_in), dpi=100)
    for d, start, width, frame, category in boxes:
        ax.add_patch(
            Rectangle((start, d), width, 0.95, facecolor=colours[category], edgecolor="white", lw=0.5)
        )
        fits = int(width * width_px / 6.2)  # characters of 7-point text that fit in the box
        if fits >= 4:
            label = frame if len(frame) <= fits else frame[: fits - 1] + "…"
            ax.text(start + 0.002, d + 0.47, label, fontsize=7, va="center", color="black")
    ax.set(xlim=(0, 1), ylim=(0, depth), yticks=[], title=f"{title}: {total} samples inside requests")
    ax.set_xlabel(
        "share of the samples inside requests (a row: one frame of the stacks, the root at the bottom)"
    )
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.legend(
        handles=[Patch(color=c, label=n) for n, c in colours.items()],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1 - 0.5 / height_in),  # below the axis label, 0.5 inch lower
        ncol=4,
        frameon=False,
        fontsize=8,
    )
    fig.tight_layout()
    plt.close(fig)  # shown where the notebook displays it, once
    return fig


def interactive_url(svg: Path) -> str | None:
    """The ``/files/`` URL of ``svg`` on the Jupyter server that serves it: opened in a browser tab of its own,
    py-spy's SVG runs its script (hover, click to zoom, search). None when no running server holds the file."""
    from jupyter_server.serverapp import list_running_servers

    path = svg.resolve()
    for server in list_running_servers():
        root = Path(server.get("root_dir") or server.get("notebook_dir") or "/").resolve()
        if path.is_relative_to(root):
            return f"{server['base_url']}files/{path.relative_to(root).as_posix()}"
    return None


def seconds_inside(profiler: Any, function: str) -> float:
    """Seconds of ``profiler``'s last session inside ``function`` ("Registry.get", "App.__call__"), each call
    counted once however deep it nests: a trunk of the tree, whose share holds where leaves do not."""

    def inside(frame: Any) -> float:
        name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
        return frame.time if name == function else sum(inside(child) for child in frame.children)

    return inside(profiler.last_session.root_frame())


def pyinstrument_profile(
    app: Callable[..., Any], target: str, calls: int = 2000, interval: float = 0.001
) -> tuple[Any, float]:
    """pyinstrument's view of ``calls`` in-process requests of ``target`` through the WSGI ``app``, sampled every
    ``interval`` seconds, and the seconds the same calls take unprofiled: sampling slows what it watches, so
    read the tree's shares against that, not its seconds."""
    from pyinstrument import Profiler
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(target).get_environ()  # built once: the profile shows the app, not a client

    def start_response(status: str, headers: list) -> None:
        pass

    def run() -> None:
        for _ in range(calls):
            b"".join(app(dict(environ), start_response))

    b"".join(app(dict(environ), start_response))  # a first call connects: neither run pays for that
    start = time.perf_counter()
    run()
    unprofiled = time.perf_counter() - start
    profiler = Profiler(interval=interval)
    with profiler:
        run()
    return profiler, unprofiled
