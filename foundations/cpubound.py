"""CPU-bound work one after the other, on threads and on processes: which way finishes first (chapter 6)."""

import time
from collections.abc import Callable

import pandas as pd


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
