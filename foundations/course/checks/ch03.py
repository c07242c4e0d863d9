"""Checks for the exercises of notebook 03 (organizing your code: Timer and Timeline)."""

import time

from foundations.course.exercises import exercise, expect
from foundations.timer import Timeline, Timer


def _nap(ms: int):
    def fn():
        time.sleep(ms / 1000)
        return f"slept {ms}"

    return fn


@exercise("03.measure")
def measure(answer):
    expect(callable(answer), "expected a function measure(fn)")
    for asked in (20, 60):  # two lengths: a figure that does not follow the call is not a measurement
        got = answer(_nap(asked))
        expect(
            isinstance(got, tuple) and len(got) == 2, f"expected a tuple (result, milliseconds), got {got!r}"
        )
        result, ms = got
        expect(
            result == f"slept {asked}",
            f"the first item should be what fn() returned ('slept {asked}'), got {result!r}",
        )
        expect(isinstance(ms, float), f"the time should be a float in milliseconds, got {type(ms).__name__}")
        expect(
            ms >= asked,
            f"fn slept {asked} ms but you measured {ms!r}: time the call itself, in "
            "milliseconds (not seconds), starting the clock before calling fn",
        )
        expect(
            ms < asked * 20 + 500, f"{ms:.1f} is far too long for a {asked} ms call: are those microseconds?"
        )
    calls = []
    answer(lambda: calls.append(1))
    expect(calls == [1], f"measure should call fn exactly once, it called it {len(calls)} times")


class _Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


def _timeline(steps: list[tuple[str, int]]) -> Timeline:
    """Spans of the given lengths one after the other on a fake clock, then a plain event long after."""
    clock = _Clock()
    tl = Timeline(Timer(clock))
    for label, ms in steps:
        tl.event(f"before {label}")
        with tl.span(label):
            clock.ns += ms * 1_000_000
    clock.ns += 900 * 1_000_000
    tl.event("a plain event long after")  # an event's start is late, but it has no duration
    return tl


@exercise("03.slowest")
def slowest(answer):
    expect(callable(answer), "expected a function slowest(timeline)")
    for steps in (
        [("GET /firstname", 200), ("GET /lastname", 300), ("render", 5)],
        [("connect", 40), ("query", 700), ("encode", 90)],
        [("parse", 15), ("render", 30), ("send", 120)],  # the longest is not always the second
    ):
        longest, ms = max(steps, key=lambda step: step[1])
        got = answer(_timeline(steps))
        expect(isinstance(got, str), f"expected the span's label (a str), got {type(got).__name__}: {got!r}")
        expect(
            not got.startswith(("before ", "a plain event")),
            f"{got!r} is a plain event (no duration), not a span: look at spans only",
        )
        expect(
            got == longest,
            f"the longest span is {longest!r} ({ms} ms), you returned {got!r}: compare "
            "durations (end - start), not when a step started or ended",
        )
