"""Checks for the exercises of notebook 03 (organizing your code: Timer and Timeline)."""

import time

from foundations.course.exercises import exercise, expect
from foundations.timer import Timeline, Timer


@exercise("03.measure")
def measure(answer):
    expect(callable(answer), "expected a function measure(fn)")
    got = answer(lambda: time.sleep(0.02) or "done")
    expect(isinstance(got, tuple) and len(got) == 2, f"expected a tuple (result, milliseconds), got {got!r}")
    result, ms = got
    expect(result == "done", f"the first item should be what fn() returned ('done'), got {result!r}")
    expect(isinstance(ms, float), f"the time should be a float in milliseconds, got {type(ms).__name__}")
    expect(ms >= 20, f"fn slept 20 ms but you measured {ms:.3f}: milliseconds, and start before calling fn")
    expect(ms < 5000, f"{ms:.1f} is far too long for a 20 ms call: are those microseconds?")
    calls = []
    answer(lambda: calls.append(1))
    expect(calls == [1], f"measure should call fn exactly once, it called it {len(calls)} times")


class _Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


@exercise("03.slowest")
def slowest(answer):
    expect(callable(answer), "expected a function slowest(timeline)")
    clock = _Clock()
    tl = Timeline(Timer(clock))
    for label, ms in [("GET /firstname", 200), ("GET /lastname", 300), ("render", 5)]:
        tl.event(f"before {label}")
        with tl.span(label):
            clock.ns += ms * 1_000_000
    clock.ns += 900 * 1_000_000
    tl.event("a plain event long after")   # an event's start is late, but it has no duration
    got = answer(tl)
    expect(got == "GET /lastname", f"the longest span is 'GET /lastname' (300 ms), you returned {got!r}")
