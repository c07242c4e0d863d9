"""Solutions to the exercises of notebook 03. The test suite runs each through its check."""

from pathlib import Path

from foundations.timer import Timer

TIMER_PY = '''"""The book's now.go: milliseconds since the first call, on a module-level start time."""
import time

start_time = 0.0


def now() -> float:
    global start_time
    my_time = time.time_ns() / 1_000_000.0
    if start_time < 0.000001:
        start_time = my_time
    return my_time - start_time
'''

INIT_PY = '''"""The package offers its timer module's now(), and a reset() that restarts that module's clock."""
from . import timer
from .timer import now


def reset() -> None:
    timer.start_time = 0  # through the module: `start_time = 0` here would rebind only this package's name
'''


def measure():
    def measure(fn):
        timer = Timer()
        timer.now()  # the first call starts the clock
        result = fn()
        return result, timer.now()

    return measure


def busy_ms():
    def busy_ms(timeline):
        # sorted by start: a timeline keeps its events in the order they ended
        spans = sorted((e.start_ms, e.end_ms) for e in timeline.events if e.span)
        total, covered_to = 0.0, float("-inf")
        for start, end in spans:
            if end > covered_to:  # the part of this span that no earlier span covers
                total += end - max(start, covered_to)
                covered_to = end
        return total

    return busy_ms


def clock_package():
    def make_clock_package(folder):
        package = Path(folder, "clock")
        package.mkdir()
        (package / "timer.py").write_text(TIMER_PY)
        (package / "__init__.py").write_text(INIT_PY)

    return make_clock_package


SOLUTIONS = {"03.measure": measure, "03.busy_ms": busy_ms, "03.clock_package": clock_package}
