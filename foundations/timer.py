"""Chapter 3, "Organizing your code": the book's ``bootstrap.Now()`` as a ``Timer``, plus a ``Timeline`` recorder.

The book keeps the start time in a package global (``bootstrap.StartTime``) that anyone may reset; here every
user owns a ``Timer``, so two concurrent measurements cannot reset each other's clock.

    >>> t = Timer()
    >>> t.now()                      # the first call starts the clock, as in the book
    0.0

    tl = Timeline(echo=print)        # prints as it records, like the book's fmt.Printf("[%.4f] ...", Now())
    with tl.span("GET /firstname"):  # [0.0000] GET /firstname
        fetch()                      # [202.3157] GET /firstname done
    tl.frame()                       # label, start_ms, end_ms, duration_ms: ready for a plot
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is heavy; only frame() needs it, and the API server imports this module
    import pandas as pd

Clock = Callable[[], int]


class Timer:
    """Milliseconds since the first ``now()`` after creation or ``reset()``.

    ``clock`` returns nanoseconds; the default is monotonic (``time.perf_counter_ns``) because the book's
    wall clock (``time.Now().UnixNano()``) jumps when the system time is adjusted.
    """

    def __init__(self, clock: Clock = time.perf_counter_ns) -> None:
        self._clock = clock
        self._start: int | None = None
        self._lock = threading.Lock()

    def now(self) -> float:
        """Milliseconds since the clock started; the first call starts it and returns ``0.0``."""
        with self._lock:  # two threads making the first call agree on one start, and read the clock after it
            current = self._clock()
            if self._start is None:
                self._start = current
            start = self._start
        return (current - start) / 1_000_000

    def reset(self) -> None:
        """Restart the count: the book's ``bootstrap.StartTime = 0``."""
        with self._lock:
            self._start = None


@dataclass(frozen=True)
class Event:
    """One recorded moment (``start_ms == end_ms``) or span of time, in ms on the timeline's timer."""

    label: str
    start_ms: float
    end_ms: float
    span: bool = False

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


class Timeline:
    """Records events and spans on one ``Timer``; prints them like the book (``[202.3157] Fetching url: ...``).

    ``echo`` (e.g. ``print``) receives each line as it happens, as the book's ``fmt.Printf`` calls do.
    Safe to use from several threads at once (chapter 6 fetches in parallel).
    """

    def __init__(self, timer: Timer | None = None, echo: Callable[[str], None] | None = None) -> None:
        self.timer = timer if timer is not None else Timer()
        self.echo = echo
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def _record(self, event: Event, line: str) -> None:
        with self._lock:
            self._events.append(event)
        if self.echo is not None:
            self.echo(line)

    def event(self, label: str) -> Event:
        """Record that ``label`` happened now."""
        at = self.timer.now()
        event = Event(label, at, at)
        self._record(event, _line(at, label))
        return event

    @contextmanager
    def span(self, label: str) -> Iterator[None]:
        """Record the time the ``with`` block takes, even if it raises (its start line is echoed first, so
        printing it is not in the block's time)."""
        if self.echo is not None:
            self.echo(_line(self.timer.now(), label))
        start = self.timer.now()
        try:
            yield
        finally:
            end = self.timer.now()
            self._record(Event(label, start, end, span=True), _line(end, f"{label} done"))

    @property
    def events(self) -> list[Event]:
        """A copy of the events recorded so far, in the order they ended."""
        with self._lock:
            return list(self._events)

    def lines(self, together_by_label: bool = False) -> list[str]:
        """The book's log lines in time order: one per event, a start and a ``done`` line per span. With
        ``together_by_label``, the starts of the spans that began before any span ended are listed together,
        at the first one's place, in label order: threads started together record their starts in whichever
        order they happen to run, and a printed log (a stored notebook output) should not depend on that."""
        events = self.events  # one snapshot: other threads may still be recording
        first_end = min((e.end_ms for e in events if e.span), default=float("inf"))
        together = [
            i for i, e in enumerate(events) if together_by_label and e.span and e.start_ms < first_end
        ]
        ranks = {i: rank for rank, i in enumerate(sorted(together, key=lambda i: events[i].label))}
        anchor = min(((events[i].start_ms, 2 * i) for i in together), default=(0.0, 0))
        stamped: list[tuple[float, int, int, str]] = []
        for i, event in enumerate(events):
            key = (*anchor, ranks[i]) if i in ranks else (event.start_ms, 2 * i, 0)
            stamped.append((*key, _line(event.start_ms, event.label)))
            if event.span:
                stamped.append((event.end_ms, 2 * i + 1, 0, _line(event.end_ms, f"{event.label} done")))
        return [line for *_, line in sorted(stamped)]

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame (label, start_ms, end_ms, duration_ms), sorted by start, for plots."""
        import pandas as pd

        rows = [(e.label, e.start_ms, e.end_ms, e.duration_ms) for e in self.events]
        frame = pd.DataFrame(rows, columns=["label", "start_ms", "end_ms", "duration_ms"])
        return frame.sort_values("start_ms", kind="stable").reset_index(drop=True)

    def reset(self) -> None:
        """Forget every event and restart the timer."""
        with self._lock:
            self._events.clear()
        self.timer.reset()


def elapsed_ms(fn: Callable[[], object]) -> float:
    """Milliseconds one call of ``fn`` took (the notebooks' stopwatch)."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def best_ms(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` calls of ``fn`` in milliseconds: the run least disturbed by the rest of the machine."""
    return min(elapsed_ms(fn) for _ in range(repeat))


def median_ms(fn: Callable[[], object], times: int = 10) -> float:
    """The median of ``times`` calls of ``fn`` in milliseconds: what a call usually costs, every call paying
    it (where ``best_ms`` keeps the least disturbed one); a moment when the machine is busy does not count."""
    return statistics.median(elapsed_ms(fn) for _ in range(times))


def median_ms_by_turns(ways: dict[str, Callable[[], object]], times: int = 10) -> dict[str, float]:
    """``median_ms`` of each of ``ways``, which take turns call by call: a busy stretch of the machine falls on
    every way alike, not on the one measured at that moment."""
    took: dict[str, list[float]] = {label: [] for label in ways}
    for _ in range(times):
        for label, way in ways.items():
            took[label].append(elapsed_ms(way))
    return {label: statistics.median(ms) for label, ms in took.items()}


def per_call_us(
    fn: Callable[[], object], number: int, repeat: int = 3, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Microseconds per call of ``fn``: the best of ``repeat`` rounds of ``number`` calls. ``clock``: wall time
    (``time.perf_counter``), or ``time.process_time`` for this process's CPU time, waiting not counted."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number * 1e6)
    return best


def per_call_us_by_turns(
    ways: dict[str, Callable[[], object]],
    number: int,
    rounds: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """``per_call_us`` of each of ``ways``, which take turns for ``rounds`` rounds, each keeping its best: a busy
    moment on the machine falls on one round of one way, not on every round of it."""
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for label, way in ways.items():
            best[label] = min(best[label], per_call_us(way, number, 1, clock))
    return best


def _line(at_ms: float, label: str) -> str:
    return f"[{at_ms:.4f}] {label}"
