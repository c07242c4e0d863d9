"""Checks for the exercises of notebook 06 (parallel fetching of data)."""

import math
import secrets
import time

from foundations.course.exercises import exercise, expect
from foundations.ops import processes

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


@exercise("06.predicted_ms")
def predicted_ms(answer):
    expect(callable(answer), "expected a function predicted_ms(calls, delay_ms, pool_size)")
    cases = [
        (20, 100, 1),
        (20, 100, 3),
        (20, 100, 6),
        (10, 100, 4),
        (20, 100, 20),
        (20, 100, 50),
        (7, 30, 2),
        (0, 100, 4),
    ]
    for calls, delay, size in cases:
        rounds = math.ceil(calls / size)
        got = answer(calls, delay, size)
        hint = ""
        if isinstance(got, (int, float)) and math.isclose(got * 1000, rounds * delay):
            hint = " (that is seconds: answer in milliseconds)"
        elif isinstance(got, (int, float)) and not float(got).is_integer():
            hint = " (a last, partly filled round still takes a whole delay_ms)"
        expect(
            got == rounds * delay,
            f"predicted_ms({calls}, {delay}, {size}) returned {got!r}: with at most {size} in flight, "
            f"how many rounds do {calls} calls need, and how long is each?{hint}",
        )
