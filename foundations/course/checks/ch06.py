"""Checks for the exercises of notebook 06 (parallel fetching of data)."""

import math
import secrets
import time

from foundations.course.exercises import exercise, expect
from foundations.ops import processes

# Five calls with different delays: in parallel they take the slowest (400 ms), one after the other the sum
# (1250 ms); they finish in another order than they were asked, so an answer kept in finishing order shows.
DELAYS_MS = (400, 100, 300, 200, 250)


def _timed(answer, base):
    names = [f"n{secrets.token_hex(3)}" for _ in DELAYS_MS]  # fresh every run: no answer is known in advance
    urls = [f"{base}/firstname?firstname={name}&delay_ms={ms}" for name, ms in zip(names, DELAYS_MS)]
    start = time.perf_counter()
    result = answer(urls)
    return result, names, time.perf_counter() - start


@exercise("06.fetch_all")
def fetch_all(answer):
    expect(callable(answer), "expected a function fetch_all(urls) returning the decoded JSON answers")
    with processes.start_module("foundations.fullname", name="check 06.fetch_all") as upstream:
        runs = [_timed(answer, upstream.url) for _ in range(2)]  # the faster of two: a busy machine is ok
    (result, names, seconds), (second, second_names, _) = min(runs, key=lambda run: run[2]), runs[1]
    expect(isinstance(result, list), f"expected a list with one answer per URL, got {type(result).__name__}")
    expect(len(result) == len(DELAYS_MS), f"expected {len(DELAYS_MS)} answers, got {len(result)}")
    expect(
        all(isinstance(item, dict) for item in result),
        f"expected each answer decoded from JSON (a dict: `response.json()`), got {type(result[0]).__name__}",
    )
    wanted = [{"firstname": name} for name in names]
    expect(
        sorted(map(str, result)) == sorted(map(str, wanted)),
        f"expected the answers of the URLs given, got {result!r:.120}: call each URL, do not make up answers",
    )
    expect(
        result == wanted,
        "the answers are there but not in the order of the URLs: the calls finish in "
        "another order than they start (`as_completed`), keep each answer at its URL's "
        "index",
    )
    expect(
        second == [{"firstname": name} for name in second_names],
        "the second run gave other answers than its URLs: call the URLs you are given",
    )
    expect(
        seconds < 0.9,
        f"{len(DELAYS_MS)} calls took {seconds * 1000:.0f} ms: they ran one after the "
        f"other (the sum, {sum(DELAYS_MS)} ms), not in parallel (the slowest, "
        f"{max(DELAYS_MS)} ms)",
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
            f"predicted_ms({calls}, {delay}, {size}) returned {got!r}; with at most {size} calls in "
            "flight "
            f"the {calls} calls need {rounds} rounds of {delay} ms{hint}",
        )
