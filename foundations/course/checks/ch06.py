"""Checks for the exercises of notebook 06 (parallel fetching of data)."""

import math
import time

from foundations.ops import processes
from foundations.course.exercises import exercise, expect


@exercise("06.fetch_all")
def fetch_all(answer):
    expect(callable(answer), "expected a function fetch_all(urls) returning the decoded JSON answers")
    with processes.start_module("foundations.fullname", name="check 06.fetch_all") as names:
        urls = [f"{names.url}/firstname?firstname=n{i}&delay_ms=200" for i in range(5)]
        start = time.perf_counter()
        result = answer(urls)
        seconds = time.perf_counter() - start
    expect(isinstance(result, list), f"expected a list with one answer per URL, got {type(result).__name__}")
    expect(result == [{"firstname": f"n{i}"} for i in range(5)],
           f"expected the decoded answers in the order of the URLs, got {result!r:.120}")
    expect(seconds < 0.8, f"5 calls of 200 ms took {seconds * 1000:.0f} ms: they ran one after the other, "
                          "not in parallel (one at a time needs 1000 ms)")


@exercise("06.predicted_ms")
def predicted_ms(answer):
    expect(callable(answer), "expected a function predicted_ms(calls, delay_ms, pool_size)")
    for calls, delay, size in [(20, 100, 1), (20, 100, 3), (20, 100, 20), (20, 100, 50), (7, 30, 2), (0, 100, 4)]:
        want = math.ceil(calls / size) * delay
        got = answer(calls, delay, size)
        expect(got == want, f"predicted_ms({calls}, {delay}, {size}) returned {got!r}; with {size} calls in flight "
                            f"the {calls} calls need {math.ceil(calls / size)} rounds of {delay} ms")
