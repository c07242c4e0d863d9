"""Checks for the exercises of notebook 03 (organizing your code: Timer, Timeline, a package of your own)."""

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from foundations.course.checks.clocks import SettableWallClock
from foundations.course.exercises import Wrong, exercise, expect
from foundations.timer import Timeline, Timer


def _nap(ms: int, token: str):
    """A call that lasts ``ms`` and returns ``token``, a word with no digits: the result gives no length away."""

    def fn():
        time.sleep(ms / 1000)
        return token

    return fn


def _token(r: random.Random) -> str:
    return "".join(r.choices("bcdfghjklmnpqrstvwxz", k=8))


@exercise("03.measure")
def measure(answer):
    expect(callable(answer), "expected a function measure(fn)")
    r = random.Random()
    # a short and a long call of random lengths: a figure that does not follow the call is not a measurement
    figures = []
    for asked in (r.randrange(21, 41), r.randrange(250, 351)):
        token = _token(r)
        got = answer(_nap(asked, token))
        expect(
            isinstance(got, tuple) and len(got) == 2, f"expected a tuple (result, milliseconds), got {got!r}"
        )
        result, ms = got
        expect(result == token, f"the first item should be what fn() returned ({token!r}), got {result!r}")
        expect(isinstance(ms, float), f"the time should be a float in milliseconds, got {type(ms).__name__}")
        expect(
            ms >= asked,
            f"fn slept {asked} ms but you measured {ms!r}: time the call itself, in milliseconds (not "
            "seconds), starting the clock before calling fn, on a clock of elapsed time (time.process_time "
            "counts CPU time only: a sleep adds nothing to it)",
        )
        expect(
            ms < asked * 20 + 500, f"{ms:.1f} is far too long for a {asked} ms call: are those microseconds?"
        )
        figures.append((asked, ms))
    (short, short_ms), (long, long_ms) = figures
    expect(  # half the difference: room for a busy machine that delays the short call, none for a constant
        long_ms - short_ms >= (long - short) / 2,
        f"fn slept {short} ms, then {long} ms, and you measured {short_ms:.1f} and {long_ms:.1f}: a figure "
        "that does not follow the call is not a measurement. Time each call of fn itself",
    )
    calls = []
    answer(lambda: calls.append(1))
    expect(calls == [1], f"measure should call fn exactly once, it called it {len(calls)} times")
    # the lesson of "Which clock": a call during which the clock is set
    with SettableWallClock(answer) as wall:

        def nap_while_the_clock_is_set():
            wall.step()
            return _nap(40, "")()

        _, ms = answer(nap_while_the_clock_is_set)
    expect(
        40 <= ms < 40 * 20 + 500,
        f"fn slept 40 ms while the wall clock was set an hour ahead, and you measured {ms:.1f} ms: your "
        "figure moved with the clock. Which clock can nobody set?",
    )
    _nested(answer, r)  # after the clock: a shared Timer on a wall clock is told about its clock first
    _overlapping(answer, r)  # after nesting: a global stack of start times handles nesting, not this


# How long the overlap case waits for one thread to reach a point the other waits for: nothing the check's
# own calls do takes more than a fraction of a second, so only a measure that makes calls wait runs into it.
_WAIT_S = 5.0


def _nested(answer, r: random.Random) -> None:
    """Calls of measure nest, as a handler timed inside a timed request. Both time one function, as one handler
    serves many requests: its first call naps, then measures its second call, a shorter nap."""
    outer, inner, token = r.randrange(150, 251), r.randrange(21, 41), _token(r)
    calls, inside = [], []

    def handler():
        calls.append(1)
        if len(calls) > 1:
            return _nap(inner, "")()
        _nap(outer, "")()
        inside.append(answer(handler))
        return token

    said = f"fn slept {outer} ms, then called measure on itself, a {inner} ms call this time"
    try:
        got = answer(handler)
    except Exception as exc:  # noqa: BLE001 - the learner's measure failed on a nested call
        raise Wrong(
            f"{said}, and your measure raised {type(exc).__name__}: the inner measurement changed the outer one. "
            "Calls of measure nest, often on the same function: where does each call keep its start?"
        ) from exc
    expect(
        isinstance(got, tuple) and len(got) == 2 and got[0] == token, f"expected ({token!r}, ms), got {got!r}"
    )
    (_, inner_ms), outer_ms = inside[0], got[1]
    expect(
        outer_ms >= outer + inner,
        f"{said}, and you measured {outer_ms:.1f} ms for the whole of fn: the inner measurement changed the "
        "outer one. Calls of measure nest (a handler timed inside a timed request) and overlap (two requests at "
        "once), often on the same function",
    )
    expect(  # the inner call lies inside fn, after the nap: on a clock nobody sets, this holds on any machine
        outer_ms - inner_ms >= outer,
        f"{said}, and you measured {inner_ms:.1f} ms for that call and {outer_ms:.1f} ms for the whole of fn: "
        f"the inner figure should leave out the {outer} ms nap before it. Is your figure the time since the "
        "first call of all, not since this call began?",
    )


def _overlapping(answer, r: random.Random) -> None:
    """Calls of measure overlap, as two requests to one handler served by two threads at once: the first call
    naps, the second begins, then the first ends while the second still runs. Events, not sleeps, fix that order,
    so it holds on a busy machine too; the first figure must still count the nap the second call never saw."""
    before, after, late = r.randrange(150, 251), r.randrange(21, 41), r.randrange(100, 151)
    first_token, second_token = _token(r), _token(r)
    napped, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seconds: list = []  # what the second thread's call returned, or raised

    def first():
        _nap(before, "")()
        napped.set()
        overlapped = second_in.wait(_WAIT_S)
        _nap(after, "")()
        return first_token if overlapped else None

    def second():
        second_in.set()
        first_out.wait(_WAIT_S)
        return _nap(late, second_token)()

    parts = [first, second]

    def handler():  # one function for both requests: its first call plays the first, its next the second
        return parts.pop(0)()

    def second_thread():
        try:
            if napped.wait(_WAIT_S):
                seconds.append(answer(handler))
        except Exception as exc:  # noqa: BLE001 - raised below, in the check's own thread
            seconds.append(exc)

    thread = threading.Thread(target=second_thread, name="measure-overlap", daemon=True)
    thread.start()
    try:
        got = answer(handler)
    finally:
        napped.set()  # a first call that raised leaves nothing to wait for
        first_out.set()
    thread.join(_WAIT_S + (before + after + late) / 1000 + 5)
    expect(
        isinstance(got, tuple) and len(got) == 2 and got[0] in (first_token, None),
        f"expected ({first_token!r}, ms), got {got!r}",
    )
    expect(
        got[0] == first_token,
        f"measure was running on a {before + after} ms call when another thread called it on a second call, "
        f"which did not begin within {_WAIT_S:.0f} s: calls of measure overlap (two requests at once), so a "
        "second call must not wait for the first to end",
    )
    both = (
        f"two threads called measure on the same function at once: the first on a call of {before + after} "
        f"ms, the second on a call that began once the first had run {before} ms, and ended {late} ms after "
        "the first did"
    )
    first_ms = got[1]
    expect(  # before the second call's outcome: a start taken by the second call shows here first
        before + after <= first_ms < (before + after) * 20 + 500,
        f"{both}. You measured {first_ms:.1f} ms for the first: the second call changed the first one's "
        "figure. Calls of measure overlap (two requests at once, often to the same handler): can one call's "
        "start be taken by another?",
    )
    expect(seconds != [], f"measure, called from a second thread, did not return within {_WAIT_S:.0f} s")
    if isinstance(seconds[0], Exception):
        raise seconds[0]
    second_got = seconds[0]
    expect(
        isinstance(second_got, tuple) and len(second_got) == 2 and second_got[0] == second_token,
        f"expected ({second_token!r}, ms) from the second thread's call, got {second_got!r}",
    )
    second_ms = second_got[1]
    expect(
        late <= second_ms < late * 20 + 500,
        f"{both}. You measured {second_ms:.1f} ms for the second: the first call changed the second one's figure",
    )


class _Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def at(self, ms: float) -> None:
        self.ns = round(ms * 1_000_000)


def _timeline(spans: list[tuple[str, float, float]], raises: str = "") -> Timeline:
    """Spans ``(label, start_ms, end_ms)`` on a fake clock, each opened and closed at its own moment (so they
    may overlap or nest, as chapter 6's threads make them), a plain event before each start and one long after
    the last end. The span labelled ``raises`` ends with an exception, caught outside its ``with``."""
    clock = _Clock()
    tl = Timeline(Timer(clock))
    tl.timer.now()  # the timeline's 0 is the fake clock's 0
    moments = sorted(
        [(start, 1, label) for label, start, _ in spans] + [(end, 0, label) for label, _, end in spans]
    )  # at one instant, ends before starts
    opened = {}
    for ms, is_start, label in moments:
        clock.at(ms)
        if is_start:
            tl.event(f"about to {label}")
            opened[label] = tl.span(label)
            opened[label].__enter__()
        elif label == raises:
            try:
                raise RuntimeError(f"{label} failed")
            except RuntimeError as exc:
                opened.pop(label).__exit__(type(exc), exc, exc.__traceback__)
        else:
            opened.pop(label).__exit__(None, None, None)
    clock.at(max(end for *_, end in spans) + 900)
    tl.event("a plain event long after")  # late, but it lasts no time at all
    return tl


def _busy_cases() -> list[tuple[str, list[tuple[str, float, float]], str]]:
    """(what the case is, its spans, the span that raises), with random lengths: no figure can be learnt. The
    lengths have fractions of a millisecond down to the nanosecond, as on a real clock: no grid of whole
    milliseconds or microseconds is fine enough."""
    r = random.Random()
    # whole nanoseconds, as a real clock reads, a fraction in 0.000001-0.199999 each: sums of two or three keep
    # a fraction, so no span ends on a whole ms, and few on a whole microsecond
    a, b, c, gap = (r.randrange(50, 400) + r.randrange(1, 200_000) / 1_000_000 for _ in range(4))
    cases = [
        ("one after the other", [("GET /firstname", 0, a), ("GET /lastname", a, a + b)], ""),
        ("with a gap between", [("connect", 10, 10 + a), ("query", 10 + a + gap, 10 + a + gap + b)], ""),
        ("overlapping", [("GET /firstname", 0, a + b), ("GET /lastname", a, 2 * a + b + c)], ""),
        ("one inside another", [("handle", 5, 5 + a + b + c), ("query", 5 + a, 5 + a + b)], ""),
        (
            "a long span, one inside it, one that outlasts it",
            [("handle", 0, a + b + c), ("auth", a, a + b), ("encode", a + b + 1, 2 * (a + b + c))],
            "",
        ),
        (  # at a moment all three run: what two-at-a-time reasoning counts is not enough here
            "three at once",
            [("GET /a", 0, a + b), ("GET /b", a // 2, a + b + c), ("GET /c", a, 2 * a + b)],
            "",
        ),
        ("one that raised", [("GET /firstname", 0, a), ("GET /broken", a + gap, a + gap + b)], "GET /broken"),
    ]
    return [(case, [(label, round(start, 6), round(end, 6)) for label, start, end in spans], raises)
            for case, spans, raises in cases]  # fmt: skip


def _union_ms(spans: list[tuple[str, float, float]]) -> float:
    """The length of the union of the spans: sorted by start, merged, summed."""
    total, covered_to = 0.0, float("-inf")
    for start, end in sorted((start, end) for _, start, end in spans):
        if end > covered_to:
            total += end - max(start, covered_to)
            covered_to = end
    return total


@exercise("03.busy_ms")
def busy_ms(answer):
    expect(callable(answer), "expected a function busy_ms(timeline)")
    for case, spans, raises in _busy_cases():
        want = _union_ms(spans)
        got = answer(_timeline(spans, raises))
        expect(
            isinstance(got, int | float) and not isinstance(got, bool),
            f"expected a number of milliseconds, got {type(got).__name__}: {got!r}",
        )
        length = ", ".join(f"{label} {start}-{end} ms" for label, start, end in spans)
        expect(
            abs(got - want) < 1e-6,
            f"spans {case} ({length}): you said {got!r} ms, but that is not the time during which at least one "
            "span was running. Draw the bars on a line: which stretches of time are covered, and how often?",
        )


# Imports the learner's package in a fresh interpreter (no module cached from an earlier attempt), starts its
# clock, waits, resets it through the package, and reports what each name saw.
_PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import clock, clock.timer
seen = {"first": clock.now()}
start = getattr(clock.timer, "start_time", None)  # set by that first call, in the module whose now() ran
read = getattr(getattr(clock.timer, "now", None), "__globals__", {"start_time": start}).get("start_time")
seen["started"] = type(start) in (int, float) and start > 0 and read == start
time.sleep(0.05)
seen["later"] = clock.timer.now()
clock.reset()
seen["after_reset"] = clock.timer.now()
start = getattr(clock.timer, "start_time", None)
seen["start_time"] = start if type(start) in (int, float) else repr(start)
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
        50 <= seen["later"] < 5000,
        f"50 ms after the first clock.now(), clock.timer.now() gave {seen['later']!r}: both should read "
        "milliseconds since the first call, on one start time",
    )
    expect(
        seen["after_reset"] < 5,
        f"after clock.reset(), clock.timer.now() still gives {seen['after_reset']:.1f} ms: reset() changed a "
        "name, but not the start time now() reads (the rebinding trap above)",
    )
    expect(
        isinstance(seen["start_time"], int | float),
        f"clock.timer has no module-level number start_time (it holds {seen['start_time']}): the exercise "
        "asks for the book's clock, whose global start time is the one reset() has to restart",
    )
    expect(
        seen["started"],
        "the first clock.now() did not set clock.timer.start_time: the now() that ran keeps its start time in "
        "another module. The exercise asks for the clock itself in clock/timer.py",
    )
