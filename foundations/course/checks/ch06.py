"""Checks for the exercises of notebook 06 (parallel fetching of data)."""

import heapq
import math
import random
import secrets
import time

from foundations import processes
from foundations.course.exercises import exercise, expect

# Five calls with different delays: in parallel they take the slowest (400 ms), one after the other the sum
# (1250 ms); they finish in another order than they were asked, so an answer kept in finishing order shows.
DELAYS_MS = (400, 100, 300, 200, 250)
MORE_MS = (400,) * 8  # more URLs than the first run: a pool sized for five shows


def _timed(answer, base, delays):
    names = [f"n{secrets.token_hex(3)}" for _ in delays]  # fresh every run: no answer is known in advance
    urls = [f"{base}/firstname?firstname={name}&delay_ms={ms}" for name, ms in zip(names, delays)]
    start = time.perf_counter()
    result = answer(urls)
    return result, names, time.perf_counter() - start


def _fastest(answer, base, delays):
    """The faster of two runs (a busy machine is ok) and the other run's answers with their names."""
    runs = [_timed(answer, base, delays) for _ in range(2)]
    return min(runs, key=lambda run: run[2]), runs[1]


@exercise("06.fetch_all")
def fetch_all(answer):
    expect(callable(answer), "expected a function fetch_all(urls) returning the decoded JSON answers")
    with processes.start_module("foundations.fullname", name="check 06.fetch_all") as upstream:
        (result, names, seconds), (second, second_names, _) = _fastest(answer, upstream.url, DELAYS_MS)
        _expect_answers(result, names, second, second_names)
        expect(
            seconds < 0.9,
            f"{len(DELAYS_MS)} calls took {seconds * 1000:.0f} ms: they ran one after the "
            f"other (the sum, {sum(DELAYS_MS)} ms), not in parallel (the slowest, "
            f"{max(DELAYS_MS)} ms)",
        )
        (result, names, seconds), (second, second_names, _) = _fastest(answer, upstream.url, MORE_MS)
        _expect_answers(result, names, second, second_names)
        expect(
            seconds < 0.75,
            f"{len(MORE_MS)} calls of {MORE_MS[0]} ms took {seconds * 1000:.0f} ms, more than the slowest: "
            "did your pool have fewer threads than there were URLs?",
        )
        empty = answer([])
        expect(empty == [], f"fetch_all([]) returned {empty!r}: no URLs, no answers")


def _expect_answers(result, names, second, second_names):
    expect(isinstance(result, list), f"expected a list with one answer per URL, got {type(result).__name__}")
    expect(
        len(result) == len(names), f"expected {len(names)} answers for {len(names)} URLs, got {len(result)}"
    )
    expect(
        all(isinstance(item, dict) for item in result),
        f"expected each answer decoded from JSON (a dict), got {type(result[0]).__name__}",
    )
    wanted = [{"firstname": name} for name in names]
    expect(
        sorted(map(str, result)) == sorted(map(str, wanted)),
        f"expected the answers of the URLs given, got {result!r:.120}: call each URL, do not make up answers",
    )
    expect(
        result == wanted,
        "the answers are there but not in the order of the URLs: the calls finish in "
        "another order than they start",
    )
    expect(
        second == [{"firstname": name} for name in second_names],
        "the second run gave other answers than its URLs: call the URLs you are given",
    )


def _pool_ms(delays_ms, size):
    """When the last call ends if each starts, in order, as soon as one of ``size`` threads is free."""
    ends: list[float] = []
    for delay in delays_ms:
        start = heapq.heappop(ends) if len(ends) == size else 0  # the earliest a thread comes free
        heapq.heappush(ends, start + delay)
    return max(ends, default=0)


def _models(delays, size):
    """Plausible wrong models of a pool, each with what it gets wrong."""
    groups = [delays[i : i + size] for i in range(0, len(delays), size)]
    return [
        (sum(max(group) for group in groups), "that is batches: each group of calls waits for its slowest"),
        (
            math.ceil(len(delays) / size) * max(delays, default=0),
            "that is rounds as long as the slowest call",
        ),
        (sum(delays) / size, "that spreads the time evenly over the threads, but calls are not divisible"),
        (max(delays, default=0), "that ignores the pool's size"),
    ]


def _short(delays):
    return f"[{delays[0]}] * {len(delays)}" if len(delays) > 5 and len(set(delays)) == 1 else str(delays)


@exercise("06.predicted_ms")
def predicted_ms(answer):
    expect(callable(answer), "expected a function predicted_ms(delays_ms, pool_size)")
    fresh = [random.randrange(10, 500) for _ in range(random.randrange(8, 15))]  # nobody knows it in advance
    cases = [
        ([50] * 20, 1),
        ([50] * 20, 3),
        ([50] * 20, 20),
        ([400, 100, 300, 200, 250], 2),
        ([400, 100, 300, 200, 250], 3),
        ([100, 100, 500], 2),
        ([30, 30, 30], 10),
        ([], 4),
        (fresh, 3),
    ]
    for delays, size in cases:
        expected, got = _pool_ms(delays, size), answer(list(delays), size)
        shown = f"predicted_ms({_short(delays) if delays is not fresh else '<random delays>'}, {size})"
        expect(isinstance(got, (int, float)), f"{shown} returned {got!r}, not a number of milliseconds")
        hint = next((why for value, why in _models(delays, size) if value == got and got != expected), "")
        expect(
            got == expected,
            f"{shown} returned {got!r}, not when the last call ends"
            + (f": {hint}" if hint else ": each call starts, in order, as soon as a thread is free"),
        )
