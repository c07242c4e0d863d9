"""Checks for the exercises of notebook 03 (organizing your code: Timer, Timeline, a package of your own)."""

import datetime
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Mapping
from pathlib import Path

from foundations.course.exercises import exercise, expect
from foundations.timer import Timeline, Timer


def _nap(ms: int, token: str):
    """A call that lasts ``ms`` and returns ``token``, a word with no digits: the result gives no length away."""

    def fn():
        time.sleep(ms / 1000)
        return token

    return fn


def _token(r: random.Random) -> str:
    return "".join(r.choices("bcdfghjklmnpqrstvwxz", k=8))


_HOUR_NS = 3600 * 1_000_000_000
_WALL_CLOCK_IDS = {getattr(time, name) for name in ("CLOCK_REALTIME", "CLOCK_TAI") if hasattr(time, name)}


class _SettableWallClock:
    """The wall clock as it is, until ``step()`` sets it an hour ahead, as NTP or a person might. Only the
    checking thread sees the step: the kernel's other threads keep real time.

    ``time.time``, ``time.time_ns`` and ``time.clock_gettime(_ns)`` (for a wall clock id such as
    ``CLOCK_REALTIME``) are replaced in the ``time`` module. ``datetime.now()`` reads the system clock in C and
    would not see that, and ``from time import time`` or a default argument ``clock=time.time`` holds the real
    function: so the answer's own names for a wall clock (in its globals, its defaults and its closure, bound to
    one of those functions, ``datetime.now``, the ``datetime`` module or the ``datetime.datetime`` class) are
    rebound too, while the check runs, and put back after. So are a ``functools.partial`` of a wall clock and,
    one level further in, the attributes of the objects those names hold and of their classes (a ``Timer``'s
    clock, a class attribute ``clock = time.time``), as are those of the answer itself and of its ``self``."""

    def __init__(self, answer: object) -> None:
        self.answer = getattr(answer, "__func__", answer)  # a bound method's defaults live on its function
        self.holders = [answer, getattr(answer, "__self__", None)]  # a callable object, a method's instance
        self.thread = threading.get_ident()
        self.offset_ns = 0
        self.module: dict[str, object] = {}  # the time module's functions, as they were
        self.undo: list[Callable[[], None]] = []

    def _offset(self) -> int:
        return self.offset_ns if threading.get_ident() == self.thread else 0

    def _stepped_datetime(self) -> type[datetime.datetime]:
        wall = self

        class SteppedDatetime(datetime.datetime):
            @classmethod
            def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
                return datetime.datetime.now(tz) + datetime.timedelta(microseconds=wall._offset() // 1000)

            @classmethod
            def today(cls) -> datetime.datetime:  # type: ignore[override]
                return cls.now()

            @classmethod
            def utcnow(cls) -> datetime.datetime:  # type: ignore[override]
                return cls.now(datetime.UTC).replace(tzinfo=None)

        return SteppedDatetime

    def _stepped_time(self) -> dict[str, Callable[..., float | int]]:
        real = {name: getattr(time, name) for name in ("time", "time_ns", "clock_gettime", "clock_gettime_ns")
                if hasattr(time, name)}  # fmt: skip
        self.module = real
        seconds = lambda clock_id: self._offset() / 1e9 if clock_id in _WALL_CLOCK_IDS else 0  # noqa: E731
        nanoseconds = lambda clock_id: self._offset() if clock_id in _WALL_CLOCK_IDS else 0  # noqa: E731
        stepped: dict[str, Callable[..., float | int]] = {
            "time": lambda: real["time"]() + self._offset() / 1e9,
            "time_ns": lambda: real["time_ns"]() + self._offset(),
            "clock_gettime": lambda clock_id: real["clock_gettime"](clock_id) + seconds(clock_id),
            "clock_gettime_ns": lambda clock_id: real["clock_gettime_ns"](clock_id) + nanoseconds(clock_id),
        }
        return {name: stepped[name] for name in real}

    def _rebind(self, pairs: list[tuple[object, object]]) -> None:
        """Points the answer's globals, defaults and closure cells that hold a real wall clock at its stand-in."""

        def stepped(value: object) -> object:
            if isinstance(value, functools.partial):  # partial(time.clock_gettime_ns, time.CLOCK_REALTIME)
                func = stepped(value.func)
                return functools.partial(func, *value.args, **value.keywords) if callable(func) else None
            for real, replacement in pairs:  # a bound method like datetime.now is a new object at each lookup
                if value is real or (isinstance(value, types.BuiltinMethodType) and value == real):
                    return replacement
            return None

        def put_back(space: Mapping[str, object], put: Callable[..., None], name: str, value: object,
                     replacement: object) -> None:  # fmt: skip
            if space.get(name) is replacement:  # unless the answer rebound it meanwhile
                put(name, value)

        def rebind(space: Mapping[str, object], put: Callable[..., None], in_a_class: bool = False) -> None:
            for name, value in list(space.items()):
                if (replacement := stepped(value)) is None:
                    continue
                if in_a_class and isinstance(replacement, types.FunctionType):  # or self.clock() gets a self
                    replacement = staticmethod(replacement)
                try:
                    put(name, replacement)
                except (TypeError, AttributeError):  # a built-in class: its attributes cannot be set
                    continue
                self.undo.append(functools.partial(put_back, space, put, name, value, replacement))

        seen: set[int] = set()

        def inside(value: object) -> None:
            """One level into an object: its own attributes and its class's (or a class's, and its bases')."""
            if isinstance(value, types.ModuleType | types.FunctionType | functools.partial):
                return
            if not isinstance(value, type) and id(value) not in seen:
                seen.add(id(value))
                try:
                    own = value.__dict__
                except Exception:  # noqa: BLE001 -- an object without attributes, or a proxy that refuses
                    own = None
                if isinstance(own, dict):
                    rebind(own, own.__setitem__)
            for cls in (value if isinstance(value, type) else type(value)).__mro__[:-1]:
                if id(cls) not in seen:
                    seen.add(id(cls))
                    rebind(vars(cls), functools.partial(setattr, cls), in_a_class=True)

        names: dict[str, object] = getattr(self.answer, "__globals__", {})
        self.holders += [value for value in names.values() if stepped(value) is None]
        rebind(names, names.__setitem__)
        defaults = getattr(self.answer, "__defaults__", None) or ()
        if any(stepped(value) is not None for value in defaults):
            new = tuple(stepped(value) or value for value in defaults)
            self.answer.__defaults__ = new  # type: ignore[attr-defined]
            self.undo.append(lambda: setattr(self.answer, "__defaults__", defaults))
        kwdefaults = getattr(self.answer, "__kwdefaults__", None) or {}
        if any(stepped(value) is not None for value in kwdefaults.values()):
            self.answer.__kwdefaults__ = {k: stepped(v) or v for k, v in kwdefaults.items()}  # type: ignore[attr-defined]
            self.undo.append(lambda: setattr(self.answer, "__kwdefaults__", kwdefaults))
        for cell in getattr(self.answer, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not filled yet
                continue
            if (replacement := stepped(value)) is not None:
                cell.cell_contents = replacement
                self.undo.append(functools.partial(setattr, cell, "cell_contents", value))
            else:
                self.holders.append(value)
        self.holders += [v for v in (*defaults, *kwdefaults.values()) if stepped(v) is None]
        for holder in self.holders:
            if holder is not None:
                inside(holder)

    def __enter__(self) -> "_SettableWallClock":
        stepped_time = self._stepped_time()
        for name, function in stepped_time.items():
            setattr(time, name, function)
        stepped_class = self._stepped_datetime()
        stepped_module = types.ModuleType("datetime", datetime.__doc__)
        stepped_module.__dict__.update({**vars(datetime), "datetime": stepped_class})
        self._rebind(
            [(self.module[name], function) for name, function in stepped_time.items()]
            + [
                (datetime, stepped_module),
                (datetime.datetime, stepped_class),
                (datetime.datetime.now, stepped_class.now),
                (datetime.datetime.today, stepped_class.today),
            ]
        )
        return self

    def __exit__(self, *exc: object) -> None:
        for name, function in self.module.items():
            setattr(time, name, function)
        for undo in reversed(self.undo):
            undo()

    def step(self) -> None:
        self.offset_ns += _HOUR_NS


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
            f"fn slept {asked} ms but you measured {ms!r}: time the call itself, in "
            "milliseconds (not seconds), starting the clock before calling fn",
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
    with _SettableWallClock(answer) as wall:

        def nap_while_the_clock_is_set():
            wall.step()
            return _nap(40, "")()

        _, ms = answer(nap_while_the_clock_is_set)
    expect(
        40 <= ms < 40 * 20 + 500,
        f"fn slept 40 ms while the wall clock was set an hour ahead, and you measured {ms:.1f} ms: your "
        "figure moved with the clock. Which clock can nobody set?",
    )


class _Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def at(self, ms: int) -> None:
        self.ns = ms * 1_000_000


def _timeline(spans: list[tuple[str, int, int]], raises: str = "") -> Timeline:
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


def _busy_cases() -> list[tuple[str, list[tuple[str, int, int]], str]]:
    """(what the case is, its spans, the span that raises), with random lengths: no figure can be learnt."""
    r = random.Random()
    a, b, c, gap = (r.randrange(50, 400) for _ in range(4))
    return [
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


def _union_ms(spans: list[tuple[str, int, int]]) -> int:
    covered: set[int] = set()
    for _, start, end in spans:
        covered.update(range(start, end))  # whole milliseconds: small and exact
    return len(covered)


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
            f"spans {case} ({length}): you said {got:g} ms, but that is not the time during which at least one "
            "span was running. Draw the bars on a line: which stretches of time are covered, and how often?",
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
