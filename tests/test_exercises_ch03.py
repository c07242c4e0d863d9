"""Chapter 3's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import tempfile
import time
from pathlib import Path

import pytest
from test_exercises import NOTEBOOKS, solutions

from foundations.course import exercises
from foundations.timer import Timer, elapsed_ms


def _seconds(fn):
    start = time.perf_counter()
    return fn(), time.perf_counter() - start


def _microseconds(fn):
    start = time.perf_counter()
    return fn(), (time.perf_counter() - start) * 1_000_000


def _clock_started_after(fn):
    timer = Timer()
    result = fn()
    timer.now()
    return result, timer.now()


def _calls_twice(fn):
    return fn(), elapsed_ms(fn)


MEASURE_WRONG = [
    pytest.param(lambda fn: (fn(), 20.0), "fn slept 60 ms but you measured 20.0", id="hard-coded-20"),
    pytest.param(lambda fn: (fn(), 0.1436), "but you measured 0.1436", id="read-off-the-output"),
    pytest.param(_seconds, "(not seconds)", id="seconds"),
    pytest.param(_microseconds, "are those microseconds?", id="microseconds"),
    pytest.param(_clock_started_after, "starting the clock before calling fn", id="clock-started-late"),
    pytest.param(_calls_twice, "exactly once, it called it 2 times", id="calls-fn-twice"),
    pytest.param(
        lambda fn: (fn(), round(elapsed_ms(lambda: None)) + 100), "float in milliseconds", id="an-int"
    ),
]


@pytest.mark.parametrize("answer, message", MEASURE_WRONG)
def test_measure_rejects(answer, message):
    assert message in exercises.verdict("03.measure", answer)


def _by(column):
    def pick(timeline):
        frame = timeline.frame()
        return frame.loc[frame[column].idxmax(), "label"]

    return pick


def _spans_by_start(timeline):
    spans = [e for e in timeline.events if e.span]
    return max(spans, key=lambda e: e.start_ms).label


SLOWEST_WRONG = [
    pytest.param(lambda timeline: "GET /lastname", "the longest span is 'query' (700 ms)", id="hard-coded"),
    pytest.param(_by("end_ms"), "is a plain event (no duration)", id="latest-end"),
    pytest.param(_spans_by_start, "compare durations (end - start)", id="latest-start-span"),
    pytest.param(
        lambda timeline: max(timeline.events, key=lambda e: e.duration_ms),
        "expected the span's label",
        id="the-event-not-its-label",
    ),
    pytest.param(
        lambda timeline: timeline.frame().duration_ms.max(), "expected the span's label", id="the-duration"
    ),
    pytest.param(
        lambda timeline: [e for e in timeline.events if e.span][1].label,
        "the longest span is 'send' (120 ms)",
        id="always-the-second-span",
    ),
]


@pytest.mark.parametrize("answer, message", SLOWEST_WRONG)
def test_slowest_rejects(answer, message):
    assert message in exercises.verdict("03.slowest", answer)


TIMER_PY = solutions(NOTEBOOKS / "solutions" / "ch03.py")["03.clock_package"].__globals__["TIMER_PY"]


def _package(init: str | None, timer: str | None = TIMER_PY, name: str = "clock"):
    """An answer that writes ``clock/__init__.py`` and ``clock/timer.py`` (``None``: leaves that file out)."""

    def make_clock_package(folder):
        package = Path(folder, name)
        package.mkdir()
        for filename, text in [("__init__.py", init), ("timer.py", timer)]:
            if text is not None:
                (package / filename).write_text(text)

    return make_clock_package


THE_TRAP = """from .timer import now, start_time


def reset():
    global start_time
    start_time = 0
"""
A_COPY = TIMER_PY + "\n\ndef reset():\n    global start_time\n    start_time = 0\n"  # the module, pasted
RIGHT_INIT = "from . import timer\nfrom .timer import now\n\n\ndef reset():\n    timer.start_time = 0\n"


def _ignores_the_folder(folder):
    with tempfile.TemporaryDirectory() as elsewhere:
        _package(RIGHT_INIT)(elsewhere)


def _one_module(folder):
    Path(folder, "clock.py").write_text(
        TIMER_PY + "\n\ndef reset():\n    global start_time\n    start_time = 0\n"
    )


CLOCK_PACKAGE_WRONG = [
    pytest.param(
        _package(THE_TRAP), "reset() changed a name, but not the start time", id="the-rebinding-trap"
    ),
    pytest.param(_package(None), "clock/ has no __init__.py", id="no-init"),
    pytest.param(_package(A_COPY), "not clock.timer.now", id="a-copy-of-now-in-init"),
    pytest.param(_package(RIGHT_INIT, timer=None), "clock/timer.py", id="no-timer-module"),
    pytest.param(
        _package(RIGHT_INIT, timer=TIMER_PY.replace("/ 1_000_000.0", "/ 1e9")),
        "50 ms after the first clock.now()",
        id="seconds",
    ),
    pytest.param(_package(RIGHT_INIT, name="Clock"), "no folder clock/", id="wrong-folder-name"),
    pytest.param(_one_module, "no folder clock/", id="a-module-not-a-package"),
    pytest.param(
        _ignores_the_folder, "no folder clock/ in the folder you were given", id="ignores-the-folder"
    ),
    pytest.param(_package("from .timer import now\n"), "AttributeError", id="no-reset"),
]


@pytest.mark.parametrize("answer, message", CLOCK_PACKAGE_WRONG)
def test_clock_package_rejects(answer, message):
    assert message in exercises.verdict("03.clock_package", answer)
