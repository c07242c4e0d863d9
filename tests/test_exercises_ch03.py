"""Chapter 3's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import time

import pytest

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
