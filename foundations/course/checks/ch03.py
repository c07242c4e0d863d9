"""Checks for the exercises of notebook 03 (organizing your code: Timer, Timeline, a package of your own)."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


# Imports the learner's package in a fresh interpreter (no module cached from an earlier attempt), starts its
# clock, waits, resets it through the package, and reports what each name saw.
_PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import clock, clock.timer
seen = {"first": clock.now()}
time.sleep(0.05)
seen["later"] = clock.timer.now()
seen["same_now"] = clock.now is clock.timer.now
clock.reset()
seen["after_reset"] = clock.timer.now()
print(json.dumps(seen))
"""


@exercise("03.clock_package")
def clock_package(answer):
    expect(callable(answer), "expected a function make_clock_package(folder)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(
            tmp, "somewhere-else"
        )  # not the notebook's folder: the answer must write where it is told
        folder.mkdir()
        answer(str(folder))
        package = folder / "clock"
        expect(
            package.is_dir(), f"no folder clock/ in the folder you were given ({sorted(os.listdir(folder))})"
        )
        expect(
            (package / "__init__.py").is_file(),
            "clock/ has no __init__.py: without it, clock is a namespace package and runs no code of its own, so "
            "it cannot offer now() and reset()",
        )
        expect((package / "timer.py").is_file(), "expected the clock in its own module, clock/timer.py")
        run = subprocess.run(
            [sys.executable, "-c", _PROBE, str(folder)], capture_output=True, text=True, timeout=30, cwd=tmp
        )
    last = (run.stderr.strip().splitlines() or [""])[-1]
    expect(run.returncode == 0, f"importing clock and calling clock.now(), clock.reset() failed: {last}")
    seen = json.loads(run.stdout)
    expect(seen["first"] == 0, f"the first clock.now() should return 0, got {seen['first']!r}")
    expect(
        seen["same_now"],
        "clock.now is not clock.timer.now: the package should offer the timer module's function, not a copy "
        "with a start time of its own",
    )
    expect(
        50 <= seen["later"] < 5000,
        f"50 ms after the first clock.now(), clock.timer.now() gave {seen['later']!r}: milliseconds since the "
        "first call, on one start time",
    )
    expect(
        seen["after_reset"] < 5,
        f"after clock.reset(), clock.timer.now() still gives {seen['after_reset']:.1f} ms: reset() changed a "
        "name, but not the start time now() reads (the rebinding trap above)",
    )
