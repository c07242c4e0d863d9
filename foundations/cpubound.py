"""CPU-bound work one after the other, on threads and on processes: which way finishes first (chapter 6)."""

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from foundations import footprint

T = TypeVar("T")


def usable_cores(cgroup_cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may run on: its CPU affinity (``taskset``, ``docker --cpuset-cpus``), capped by
    a cgroup v2 CPU quota (``docker --cpus``, a JupyterHub or Binder limit), rounded up. ``os.cpu_count()``
    counts the machine's cores, usable or not."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return int(min(cores, _quota_cores(cgroup_cpu_max)))


def _quota_cores(cpu_max: str | Path) -> float:
    """The cores a cgroup v2 ``cpu.max`` file allows, rounded up (at least 1); infinity for no quota or file."""
    try:
        quota, period = Path(cpu_max).read_text().split()
    except (OSError, ValueError):  # no cgroup v2 here, or not readable
        return math.inf
    return math.inf if quota == "max" else max(1, math.ceil(int(quota) / int(period)))


def cores_of(pid: int, proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup") -> int:
    """The cores another process may run on (a database server: its limits need not be this process's): its CPU
    affinity, capped by the cgroup v2 CPU quota of its cgroup and of every cgroup above it, rounded up. A cgroup
    outside this process's view (``..`` in its path: another container's) is not read: the affinity alone."""
    cores: float = len(os.sched_getaffinity(pid))
    try:
        lines = Path(proc, str(pid), "cgroup").read_text().splitlines()
    except OSError:
        lines = []
    paths = [line.removeprefix("0::").rstrip("/") for line in lines if line.startswith("0::")]  # cgroup v2's
    if paths and ".." not in paths[0].split("/"):
        folder, root = Path(cgroup_root + paths[0]), Path(cgroup_root)
        for limits in [folder, *folder.parents]:  # up to the root: a quota on any of them holds
            cores = min(cores, _quota_cores(limits / "cpu.max"))
            if limits == root:
                break
    return int(cores)


def fastest(ways: dict[str, Callable[[], object]], rounds: int = 5) -> pd.DataFrame:
    """Each way's fastest wall time in ms, and how many times faster it is than the first way.

    Every way runs once untimed first (pools start their workers, and all ways must return the same result);
    then the ways take turns ``rounds`` times, so a busy moment of the machine does not hit one way alone.
    Other programs only ever make a run slower, so the fastest is the least disturbed."""
    results = {label: run() for label, run in ways.items()}
    if len({repr(result) for result in results.values()}) != 1:
        raise ValueError(f"the ways disagree: {results}")
    runs: dict[str, list[float]] = {label: [] for label in ways}
    for _ in range(rounds):
        for label, run in ways.items():
            start = time.perf_counter()
            run()
            runs[label].append((time.perf_counter() - start) * 1000)
    took = pd.DataFrame({"wall ms": {label: min(measured) for label, measured in runs.items()}})
    took["x first way"] = took["wall ms"].iloc[0] / took["wall ms"]
    return took


def with_others_cores(run: Callable[[], T]) -> tuple[T, float]:
    """``run()``'s result, and how many cores other programs kept busy meanwhile, on average: the machine's CPU
    time less this process's and its children's (a process pool's workers), plus the time a virtual machine's
    host gave its cores to other machines (steal), over the wall time. Near 0 on a quiet machine, so a
    speed-up over several cores can be asserted there."""

    def cores_spent() -> float:  # on us, on other programs, and on other virtual machines
        return footprint.machine_cpu_seconds() + footprint.stolen_cpu_seconds()

    machine, own, start = cores_spent(), footprint.own_cpu_seconds(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    others = (cores_spent() - machine) - (footprint.own_cpu_seconds() - own)
    return result, max(0.0, others) / wall
