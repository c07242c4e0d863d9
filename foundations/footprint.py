"""Chapter 10: what a server costs while it serves - which processes hold its port, their resident memory
and CPU time, all workers counted, as the Go bench kit counts them.

    >>> server_mb("http://127.0.0.1:8080")            # every process of the server on port 8080
    41.3
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil


def listeners(port: int) -> list[int]:
    """PIDs of the processes holding a listening TCP socket on ``port`` (all of a server's workers share it);
    [] for processes we may not inspect."""
    try:
        sockets = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:  # macOS without root: only our own processes
        sockets = [s for proc in psutil.process_iter() for s in _own_sockets(proc)]
    return sorted(
        {s.pid for s in sockets if s.pid and s.status == psutil.CONN_LISTEN and s.laddr.port == port}
    )


def _own_sockets(proc: psutil.Process) -> list:
    try:
        return [s._replace(pid=proc.pid) for s in proc.net_connections(kind="tcp")]
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return []


def server_roots(port: int) -> list[int]:
    """The processes serving ``port``: each listener raised to its topmost ancestor that runs the same command
    line (granian's workers listen, their supervisor does not), as the bench kit finds them."""
    roots = set()
    for pid in listeners(port):
        try:
            proc = psutil.Process(pid)
            while (
                (parent := proc.parent()) is not None
                and parent.pid > 1
                and parent.cmdline() == proc.cmdline()
            ):
                proc = parent
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            pass
        roots.add(proc.pid)
    return sorted(roots)


def _tree(pids: list[int]) -> list[psutil.Process]:
    """``pids`` and all their descendants, each process once."""
    seen: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            seen.update({proc.pid: proc for proc in [root, *root.children(recursive=True)]})
        except psutil.NoSuchProcess:
            continue
    return list(seen.values())


def tree_rss(pids: list[int]) -> int:
    """Resident memory in bytes of ``pids`` and all their descendants, each process counted once."""
    total = 0
    for proc in _tree(pids):
        try:
            total += proc.memory_info().rss
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    return total


def _server(base_url: str) -> list[int]:
    return server_roots(urlsplit(base_url).port or 80)


def server_rss(base_url: str) -> int | None:
    """RSS in bytes of every process of the server behind ``base_url`` (its listeners and their children), as
    the bench kit counts it; None when it is not a local server we may inspect."""
    pids = _server(base_url)
    return tree_rss(pids) if pids else None


def server_mb(base_url: str) -> float | None:
    rss = server_rss(base_url)
    return None if rss is None else rss / 1e6


def server_cpu_seconds(base_url: str) -> float | None:
    """CPU time (user + system, in seconds, to the nanosecond) the server behind ``base_url`` has used so far,
    all its processes and their threads, exited ones included; taken before and after a load, the difference
    over the requests is the server's CPU per request. Read from Linux's per-process CPU clock
    (``clock_getcpuclockid`` names it ``((~pid) << 3) | 2``), not the tick counters in /proc, which step by
    10 ms: a whole short load's CPU on a fast server."""
    procs = _tree(_server(base_url))
    if not procs:
        return None
    total = 0.0
    for proc in procs:
        try:
            total += time.clock_gettime(((~proc.pid) << 3) | 2)
        except OSError:  # exited meanwhile
            continue
    return total


def own_cpu_seconds() -> float:
    """CPU seconds this process and its children (a process pool's workers) have used so far, in user and
    kernel mode; a child that exited meanwhile no longer counts."""
    me = psutil.Process()
    seconds = 0.0
    for process in (me, *me.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds += times.user + times.system
    return seconds


def machine_cpu_seconds() -> float:
    """CPU seconds every program on this machine has used so far, on all CPUs (idle, I/O wait and stolen time
    aside): taken around a run, what the whole machine spent meanwhile."""
    t = psutil.cpu_times()
    return sum(getattr(t, field, 0.0) for field in ("user", "nice", "system", "irq", "softirq"))


def stolen_cpu_seconds() -> float:
    """CPU seconds a virtual machine's CPUs were ready to run but the hypervisor ran other machines instead
    (Linux's ``steal``; 0 on real hardware): taken around a run, how much of its CPUs the machine lost."""
    return getattr(psutil.cpu_times(), "steal", 0.0)


def server_thread_switches(base_url: str) -> dict[tuple[int, int], int] | None:
    """Voluntary context switches so far of each thread of the server behind ``base_url``, by (process id,
    thread id; a process's main thread has its process's id): each time the thread went to sleep to wait (for
    a socket, a lock, another thread), not when the system took its core for another program. Taken before
    and after a load, the differences over the requests show which threads a request puts to sleep."""
    procs = _tree(_server(base_url))
    if not procs:
        return None
    switches: dict[tuple[int, int], int] = {}
    for proc in procs:
        try:
            threads = proc.threads()
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        for thread in threads:
            try:
                switches[proc.pid, thread.id] = psutil.Process(thread.id).num_ctx_switches().voluntary
            except (psutil.AccessDenied, psutil.NoSuchProcess):  # ended since it was listed, or not ours
                continue
    return switches


def thread_waits_in(pid: int, thread: int) -> str:
    """The kernel function the thread sleeps in now (/proc's ``wchan``): ``do_epoll_wait`` for a thread that
    waits on file descriptors (sockets, or the eventfd another thread writes to wake an event loop), a ``futex``
    wait for one that waits for another thread directly; ``?`` where Linux does not say."""
    try:
        waits_in = Path(f"/proc/{pid}/task/{thread}/wchan").read_text().strip()
    except OSError:
        return "?"
    return waits_in if waits_in not in ("", "0") else "?"  # 0: a kernel that hides it
