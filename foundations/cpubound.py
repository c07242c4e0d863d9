"""CPU-bound work on threads and on processes: how long it takes, and how many CPUs it keeps busy (chapter 6)."""

import time
from collections.abc import Callable
from concurrent.futures import Executor

import pandas as pd

from foundations import footprint


def fastest(ways: dict[str, Callable[[], object]], rounds: int = 5) -> pd.DataFrame:
    """Each way's fastest run: its wall time and the CPU time of the calling thread, in ms.

    Every way runs once untimed first (pools start their workers, and all ways must return the same result);
    then the ways take turns ``rounds`` times, so a busy moment of the machine does not hit one way alone.
    Other programs only ever make a run slower, so the fastest is the least disturbed."""
    results = {label: run() for label, run in ways.items()}
    if len({repr(result) for result in results.values()}) != 1:
        raise ValueError(f"the ways disagree: {results}")
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in ways}
    for _ in range(rounds):
        for label, run in ways.items():
            start, cpu_start = time.perf_counter(), time.thread_time()
            run()
            wall_ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.thread_time() - cpu_start) * 1000
            runs[label].append((wall_ms, cpu_ms))
    best = {label: min(measured) for label, measured in runs.items()}
    return pd.DataFrame.from_dict(best, orient="index", columns=["wall ms", "CPU ms"])


def job_cpu_ms(job: range) -> float:
    """Sum ``job``; return the CPU time the thread that ran it spent (in a worker process: that worker's)."""
    start = time.thread_time()
    sum(job)
    return (time.thread_time() - start) * 1000


def cpus_busy(pool: Executor, jobs: list[range]) -> tuple[float, float]:
    """Run ``jobs`` on ``pool``: how many CPUs they kept busy on average, and how many the rest of the machine
    did meanwhile. Above 1.0 the jobs ran at the same time: one at a time cannot spend more CPU than wall time."""
    start, machine_start = time.perf_counter(), footprint.machine_cpu_seconds() * 1000
    jobs_ms = sum(pool.map(job_cpu_ms, jobs))
    wall_ms = (time.perf_counter() - start) * 1000
    rest_ms = footprint.machine_cpu_seconds() * 1000 - machine_start - jobs_ms
    return jobs_ms / wall_ms, rest_ms / wall_ms
