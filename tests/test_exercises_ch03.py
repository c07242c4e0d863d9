"""Chapter 3's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import datetime
import functools
import sys
import tempfile
import threading
import time
from datetime import datetime as Datetime
from pathlib import Path
from time import time as wall_time

import pandas as pd
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


def _wall_clock(fn):
    start = time.time()
    result = fn()
    return result, (time.time() - start) * 1000


def _wall_clock_imported(fn):
    start = wall_time()  # from time import time: the real function, not the time module's attribute
    result = fn()
    return result, (wall_time() - start) * 1000


def _datetime_module(fn):
    start = datetime.datetime.now()
    result = fn()
    return result, (datetime.datetime.now() - start) / datetime.timedelta(milliseconds=1)


def _wall_clock_ns(fn):
    timer = Timer(clock=time.time_ns)  # the book's clock, time.Now().UnixNano()
    timer.now()
    result = fn()
    return result, timer.now()


def _wall_clock_as_default(fn, clock=time.time):
    start = clock()  # bound when the function was defined: the time module's attribute is never read again
    result = fn()
    return result, (clock() - start) * 1000


def _wall_clock_in_a_closure():
    clock = time.time_ns

    def measure(fn):
        start = clock()
        result = fn()
        return result, (clock() - start) / 1_000_000

    return measure


def _clock_gettime_realtime(fn):
    start = time.clock_gettime(time.CLOCK_REALTIME)
    result = fn()
    return result, (time.clock_gettime(time.CLOCK_REALTIME) - start) * 1000


WALL = Timer(clock=time.time_ns)  # the notebook's Timer(clock=...), kept at the top level


def _wall_clock_in_a_global_timer(fn):
    WALL.reset()
    WALL.now()
    result = fn()
    return result, WALL.now()


REALTIME = functools.partial(time.clock_gettime_ns, time.CLOCK_REALTIME)


def _realtime_partial(fn):
    start = REALTIME()
    result = fn()
    return result, (REALTIME() - start) / 1_000_000


def _wall_clock_as_a_class_attribute():
    class Stopwatch:  # defined here: only the bound method's __self__ leads to it
        clock = time.time  # a builtin function: self.clock() calls it with no self

        def measure(self, fn):
            start = self.clock()
            result = fn()
            return result, (self.clock() - start) * 1000

    return Stopwatch().measure


class Stopwatch:
    clock = time.time

    def measure(self, fn):
        start = self.clock()
        result = fn()
        return result, (self.clock() - start) * 1000


STOPWATCH = Stopwatch()


def _stopwatch_at_the_top_level(fn):
    return STOPWATCH.measure(fn)


def _pandas_timestamp_now(fn):
    start = pd.Timestamp.now()  # pandas reads the system clock in C, not through datetime.now or time.time
    result = fn()
    return result, (pd.Timestamp.now() - start).total_seconds() * 1000


def _datetime_imported_inside(fn):
    from datetime import datetime  # a local import reads sys.modules while the answer runs

    start = datetime.now()
    result = fn()
    return result, (datetime.now() - start).total_seconds() * 1000


def _datetime_module_imported_inside(fn):
    import datetime

    start = datetime.datetime.now()
    result = fn()
    return result, (datetime.datetime.now() - start).total_seconds() * 1000


def _time_imported_inside(fn):
    import time

    start = time.time()
    result = fn()
    return result, (time.time() - start) * 1000


def wall_ms(clock=time.time):  # a helper the answer calls: the wall clock sits in the helper's default
    return clock() * 1000


def _wall_clock_in_a_helpers_default(fn):
    start = wall_ms()
    result = fn()
    return result, wall_ms() - start


class MyTimer:  # the notebook's Timer written out, with the book's clock in __init__'s default
    def __init__(self, clock=time.time_ns):
        self.clock, self.start = clock, None

    def now(self):
        t = self.clock()
        if self.start is None:
            self.start = t
        return (t - self.start) / 1e6


def _wall_clock_in_a_methods_default(fn):
    timer = MyTimer()
    timer.now()
    result = fn()
    return result, timer.now()


def _length_read_off_the_result(fn):
    result = fn()
    return result, float("".join(c for c in str(result) if c.isdigit()) or 0)


SHARED = Timer()  # one timer for the whole notebook, as `t` in the cell that reruns the book's example


def _one_shared_timer_reset_on_each_call(fn):
    SHARED.reset()  # the trap of "Why not a global": a call of measure inside fn resets the outer one's start
    SHARED.now()
    result = fn()
    return result, SHARED.now()


COUNTER = Timer()  # started once, never reset: each figure counts from the first call of all


def _one_shared_timer_never_reset(fn):
    COUNTER.now()
    result = fn()
    return result, COUNTER.now()


STARTS = []  # one stack of start times for every call: last in, first out, which nesting keeps


def _global_stack_of_starts(fn):
    """The textbook fix for nesting; two calls that overlap in two threads pop each other's start."""
    STARTS.append(time.perf_counter())
    result = fn()
    return result, (time.perf_counter() - STARTS.pop()) * 1000


LOCK = threading.RLock()  # re-entrant: a nested call in the same thread goes through


def _global_stack_under_a_lock(fn):
    """The stack again, one call at a time: a second thread's call waits for the first to end."""
    with LOCK:
        return _global_stack_of_starts(fn)


BY_FN: dict = {}  # one start time per function: the global of "Why not a global", one for each handler


def _start_keyed_by_fn(fn):
    """Two requests to the same handler at once: the second call's start replaces the first's."""
    BY_FN[fn] = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - BY_FN.pop(fn)) * 1000


def _start_kept_on_fn(fn):
    fn.started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - fn.started) * 1000


STACKS: dict = {}  # a stack of start times per function: nesting on one handler works, overlap does not


def _stack_of_starts_per_fn(fn):
    STACKS.setdefault(fn, []).append(time.perf_counter())
    result = fn()
    return result, (time.perf_counter() - STACKS[fn].pop()) * 1000


BY_FN_AND_THREAD: dict = {}  # one start per function and thread: overlap works, a handler timed inside itself not


def _start_keyed_by_fn_and_thread(fn):
    key = fn, threading.get_ident()
    BY_FN_AND_THREAD[key] = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - BY_FN_AND_THREAD.pop(key)) * 1000


def _cpu_clock(fn):  # a clock nobody can set, but of CPU time: fn's sleep adds nothing
    start = time.process_time()
    result = fn()
    return result, (time.process_time() - start) * 1000


MOVES = "your figure moved with the clock"
NESTED = "the inner measurement changed the outer one"
FOLLOW = "a figure that does not follow the call"
OVERLAP = "the second call changed the first one's figure"

MEASURE_WRONG = [
    pytest.param(lambda fn: (fn(), 20.0), "but you measured 20.0", id="hard-coded-20"),
    pytest.param(lambda fn: (fn(), 221.0), "but you measured 221.0", id="hard-coded-221-from-the-output"),
    pytest.param(lambda fn: (fn(), 400.0), FOLLOW, id="hard-coded-mid-range"),
    pytest.param(_length_read_off_the_result, "you measured", id="length-read-off-the-result"),
    pytest.param(lambda fn: (fn(), 0.1436), "but you measured 0.1436", id="read-off-the-output"),
    pytest.param(_seconds, "(not seconds)", id="seconds"),
    pytest.param(_microseconds, "are those microseconds?", id="microseconds"),
    pytest.param(_clock_started_after, "starting the clock before calling fn", id="clock-started-late"),
    pytest.param(_cpu_clock, "time.process_time counts CPU time only", id="cpu-time"),
    pytest.param(_calls_twice, "exactly once, it called it 2 times", id="calls-fn-twice"),
    pytest.param(
        lambda fn: (fn(), round(elapsed_ms(lambda: None)) + 100), "float in milliseconds", id="an-int"
    ),
    pytest.param(_wall_clock, "your figure moved with the clock", id="wall-clock"),
    pytest.param(_wall_clock_ns, "your figure moved with the clock", id="wall-clock-ns-in-a-timer"),
    pytest.param(_wall_clock_imported, "your figure moved with the clock", id="from-time-import-time"),
    pytest.param(  # datetime.now() reads the system clock in C: patching time.time alone does not move it
        lambda fn: (s := Datetime.now(), r := fn(), (r, (Datetime.now() - s).total_seconds() * 1000))[-1],
        "your figure moved with the clock",
        id="datetime-now",
    ),
    pytest.param(_datetime_module, "your figure moved with the clock", id="datetime-module-now"),
    pytest.param(_wall_clock_as_default, MOVES, id="wall-clock-as-a-default-argument"),
    pytest.param(_wall_clock_in_a_closure(), MOVES, id="wall-clock-in-a-closure"),
    pytest.param(
        lambda fn, *, now=Datetime.now: (s := now(), r := fn(), (r, (now() - s).total_seconds() * 1000))[-1],
        MOVES,
        id="datetime-now-as-a-keyword-default",
    ),
    pytest.param(_clock_gettime_realtime, MOVES, id="clock-gettime-realtime"),
    pytest.param(_wall_clock_in_a_global_timer, MOVES, id="wall-clock-in-a-global-timer"),
    pytest.param(_realtime_partial, MOVES, id="realtime-in-a-partial"),
    pytest.param(_wall_clock_as_a_class_attribute(), MOVES, id="wall-clock-as-a-class-attribute"),
    pytest.param(_stopwatch_at_the_top_level, MOVES, id="wall-clock-in-a-top-level-class"),
    pytest.param(_pandas_timestamp_now, MOVES, id="pd-timestamp-now"),
    pytest.param(_datetime_imported_inside, MOVES, id="datetime-now-imported-inside-the-function"),
    pytest.param(_datetime_module_imported_inside, MOVES, id="datetime-module-imported-inside-the-function"),
    pytest.param(_time_imported_inside, MOVES, id="time-imported-inside-the-function"),
    pytest.param(
        lambda fn, now=pd.Timestamp.now: (s := now(), r := fn(), (r, (now() - s).total_seconds() * 1000))[-1],
        MOVES,
        id="pd-timestamp-now-as-a-default",
    ),
    pytest.param(_wall_clock_in_a_helpers_default, MOVES, id="wall-clock-in-a-helpers-default"),
    pytest.param(_wall_clock_in_a_methods_default, MOVES, id="wall-clock-in-a-methods-default"),
    pytest.param(_one_shared_timer_reset_on_each_call, NESTED, id="one-shared-timer-reset-on-each-call"),
    pytest.param(
        _one_shared_timer_never_reset, "since the first call of all", id="one-shared-timer-never-reset"
    ),
    pytest.param(_global_stack_of_starts, OVERLAP, id="one-global-stack-of-start-times"),
    pytest.param(_global_stack_under_a_lock, "did not begin", id="one-global-stack-under-a-lock"),
    pytest.param(_start_keyed_by_fn, NESTED, id="a-start-time-per-function"),
    pytest.param(_start_kept_on_fn, NESTED, id="the-start-time-kept-on-the-function"),
    pytest.param(_stack_of_starts_per_fn, OVERLAP, id="a-stack-of-start-times-per-function"),
    pytest.param(_start_keyed_by_fn_and_thread, NESTED, id="a-start-time-per-function-and-thread"),
]


def test_measure_on_a_monotonic_clock_passes_and_the_step_is_undone():
    def monotonic(fn):
        start = time.monotonic()
        return fn(), (time.monotonic() - start) * 1000

    before = time.time
    assert exercises.verdict("03.measure", monotonic) is None
    assert time.time is before  # the check sets the clock back as it found it


def test_measure_puts_back_the_answers_names_for_the_wall_clock():
    assert "your figure moved" in exercises.verdict("03.measure", _datetime_module)
    assert "your figure moved" in exercises.verdict("03.measure", _wall_clock_imported)
    real, clocks = sys.modules["datetime"], (time.time, time.time_ns)
    for answer in (_datetime_imported_inside, _datetime_module_imported_inside, _time_imported_inside):
        assert MOVES in exercises.verdict("03.measure", answer)
    assert sys.modules["datetime"] is real and (time.time, time.time_ns) == clocks
    assert datetime is real and Datetime is real.datetime and wall_time is time.time


def test_measure_puts_back_the_answers_defaults_closure_and_clock_gettime():
    closure = _wall_clock_in_a_closure()
    before = time.clock_gettime, time.clock_gettime_ns
    for answer in (_wall_clock_as_default, closure, _clock_gettime_realtime):
        assert MOVES in exercises.verdict("03.measure", answer)
    assert _wall_clock_as_default.__defaults__ == (time.time,)
    assert closure.__closure__[0].cell_contents is time.time_ns
    assert (time.clock_gettime, time.clock_gettime_ns) == before


def test_measure_puts_back_the_clocks_it_found_inside_objects():
    partial, method = REALTIME, _wall_clock_as_a_class_attribute()
    for answer in (_wall_clock_in_a_global_timer, _realtime_partial, method, _stopwatch_at_the_top_level):
        assert MOVES in exercises.verdict("03.measure", answer)
    assert vars(Stopwatch)["clock"] is time.time
    assert WALL._clock is time.time_ns
    assert REALTIME is partial and partial.func is time.clock_gettime_ns
    assert vars(type(method.__self__))["clock"] is time.time


def test_measure_puts_back_the_defaults_of_helpers_and_methods():
    for answer in (_wall_clock_in_a_helpers_default, _wall_clock_in_a_methods_default):
        assert MOVES in exercises.verdict("03.measure", answer)
    assert wall_ms.__defaults__ == (time.time,)
    assert MyTimer.__init__.__defaults__ == (time.time_ns,)


def test_measure_puts_back_pandas_timestamp():
    before = {name: vars(pd.Timestamp)[name] for name in ("now", "today", "utcnow")}
    assert MOVES in exercises.verdict("03.measure", _pandas_timestamp_now)
    assert {name: vars(pd.Timestamp)[name] for name in before} == before


@pytest.mark.parametrize("answer, message", MEASURE_WRONG)
def test_measure_rejects(answer, message):
    assert message in exercises.verdict("03.measure", answer)


BUSY = "not the time during which at least one span was running"


def _spans(timeline):
    return [e for e in timeline.events if e.span]


def _sum_of_durations(timeline):
    return sum(e.duration_ms for e in _spans(timeline))


def _first_start_to_last_end(timeline):
    spans = _spans(timeline)
    return max(e.end_ms for e in spans) - min(e.start_ms for e in spans)


def _every_event_first_to_last(timeline):
    frame = timeline.frame()
    return frame.end_ms.max() - frame.start_ms.min()


def _merged(spans):
    total, covered_to = 0.0, float("-inf")
    for e in spans:
        if e.end_ms > covered_to:
            total += e.end_ms - max(e.start_ms, covered_to)
            covered_to = e.end_ms
    return total


def _merged_in_recorded_order(timeline):
    """The right merge, on the events as recorded: they come in the order they *ended*."""
    return _merged(_spans(timeline))


def _overlap_with_the_previous_only(timeline):
    """Sorted by start, but each span is compared with the one before it, not with all that came before."""
    spans = sorted(_spans(timeline), key=lambda e: e.start_ms)
    total = spans[0].duration_ms
    for before, span in zip(spans, spans[1:], strict=False):
        total += span.end_ms - max(span.start_ms, min(before.end_ms, span.end_ms))
    return total


def _skips_the_failed_span(timeline):
    return _merged(sorted((e for e in _spans(timeline) if "broken" not in e.label), key=lambda e: e.start_ms))


def _minus_pairwise_overlaps(timeline):
    """Every duration, less each pair's overlap: right while at most two spans run at once."""
    spans = _spans(timeline)
    overlaps = sum(
        max(0.0, min(x.end_ms, y.end_ms) - max(x.start_ms, y.start_ms))
        for i, x in enumerate(spans)
        for y in spans[i + 1 :]
    )
    return _sum_of_durations(timeline) - overlaps


def _whole_milliseconds(timeline):
    """A set of the whole milliseconds some span covers: off by up to 1 ms a span on a real timeline."""
    covered = set()
    for e in _spans(timeline):
        covered.update(range(int(e.start_ms), int(e.end_ms)))
    return len(covered)


def _microsecond_grid(timeline):
    """The whole-millisecond set, a thousand times finer: off by up to 0.0005 ms an edge on a real timeline."""
    covered = set()
    for e in _spans(timeline):
        covered.update(range(round(e.start_ms * 1000), round(e.end_ms * 1000)))
    return len(covered) / 1000


BUSY_WRONG = [
    pytest.param(_sum_of_durations, "spans overlapping", id="sum-of-durations"),
    pytest.param(_first_start_to_last_end, "spans with a gap between", id="last-end-minus-first-start"),
    pytest.param(_every_event_first_to_last, "spans one after the other", id="plain-events-counted"),
    pytest.param(_merged_in_recorded_order, "spans one inside another", id="merged-in-end-order"),
    pytest.param(_overlap_with_the_previous_only, "one that outlasts it", id="overlap-with-previous-only"),
    pytest.param(_minus_pairwise_overlaps, "spans three at once", id="minus-pairwise-overlaps"),
    pytest.param(_skips_the_failed_span, "spans one that raised", id="failed-span-left-out"),
    pytest.param(lambda timeline: 500.0, BUSY, id="a-figure-from-the-notebook"),
    pytest.param(_whole_milliseconds, BUSY, id="whole-milliseconds"),
    pytest.param(_microsecond_grid, BUSY, id="microsecond-grid"),
    pytest.param(lambda timeline: str(_merged_in_recorded_order(timeline)), "expected a number", id="a-str"),
]


@pytest.mark.parametrize("answer, message", BUSY_WRONG)
def test_busy_ms_rejects(answer, message):
    verdict = exercises.verdict("03.busy_ms", answer)
    assert message in verdict
    if message != "expected a number":
        assert BUSY in verdict


def test_busy_ms_shows_the_whole_figure():
    """The check compares to within 1e-6 ms: a figure off by less than its printed digits would look right."""
    said = []

    def slightly_off(timeline):
        said.append(_merged(sorted(_spans(timeline), key=lambda e: e.start_ms)) + 0.0004)
        return said[-1]

    verdict = exercises.verdict("03.busy_ms", slightly_off)
    assert BUSY in verdict and repr(said[0]) in verdict, verdict


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


A_TIMER_OBJECT = """import time


class _Clock:
    def __init__(self):
        self.start = None

    def now(self):
        t = time.perf_counter_ns()
        if self.start is None:
            self.start = t
        return (t - self.start) / 1_000_000

    def reset(self):
        self.start = None


_clock = _Clock()
now, reset = _clock.now, _clock.reset
"""
A_LIST = """import time

start_time = [0.0]


def now():
    t = time.time_ns() / 1_000_000.0
    if start_time[0] < 0.000001:
        start_time[0] = t
    return t - start_time[0]
"""
NO_GLOBAL = "no module-level number start_time"
INVERTED_INIT = (
    TIMER_PY + "\n\ndef reset():\n    global start_time\n    start_time = 0\n"
)  # the clock in __init__

CLOCK_PACKAGE_WRONG = [
    pytest.param(
        _package(THE_TRAP), "reset() changed a name, but not the start time", id="the-rebinding-trap"
    ),
    pytest.param(_package(None), "clock/ has no __init__.py", id="no-init"),
    pytest.param(_package(A_COPY), "clock.timer.now() gave 0", id="a-copy-of-now-in-init"),
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
    pytest.param(_package("from .timer import now, reset\n", A_TIMER_OBJECT), NO_GLOBAL, id="a-timer-object"),
    pytest.param(
        _package("from .timer import now, start_time\n\n\ndef reset():\n    start_time[0] = 0\n", A_LIST),
        NO_GLOBAL,
        id="start-time-in-a-list",
    ),
    pytest.param(
        _package(INVERTED_INIT, "from clock import now, start_time\n"),
        "clock/timer.py",
        id="the-clock-in-init-timer-imports-it",
    ),
]


@pytest.mark.parametrize("answer, message", CLOCK_PACKAGE_WRONG)
def test_clock_package_rejects(answer, message):
    assert message in exercises.verdict("03.clock_package", answer)


DELEGATES = "from . import timer\n\n\ndef now():\n    return timer.now()\n\n\ndef reset():\n    timer.start_time = 0\n"


def test_clock_package_accepts_a_now_that_calls_the_timer_modules():
    """clock.now need not *be* clock.timer.now: a function that calls it reads the same start time."""
    assert exercises.verdict("03.clock_package", _package(DELEGATES)) is None
