"""A wall clock that a check can set an hour ahead while it runs, for the checks of notebook 03 ("Which clock"):
an answer timed on it moves with the step, one timed on a clock nobody can set does not. Everything it swaps is
put back on the way out."""

import datetime
import functools
import sys
import threading
import time
import types
from collections.abc import Callable, Mapping
from typing import Any

_HOUR_NS = 3600 * 1_000_000_000
_WALL_CLOCK_IDS = {getattr(time, name) for name in ("CLOCK_REALTIME", "CLOCK_TAI") if hasattr(time, name)}


class SettableWallClock:
    """The wall clock as it is, until ``step()`` sets it an hour ahead, as NTP or a person might. Only the
    checking thread sees the step: the kernel's other threads keep real time.

    ``time.time``, ``time.time_ns`` and ``time.clock_gettime(_ns)`` (for a wall clock id such as
    ``CLOCK_REALTIME``) are replaced in the ``time`` module. ``datetime.now()`` reads the system clock in C and
    would not see that, and ``from time import time`` or a default argument ``clock=time.time`` holds the real
    function: so the answer's own names for a wall clock (in its globals, its defaults and its closure, bound to
    one of those functions, ``datetime.now``, the ``datetime`` module or the ``datetime.datetime`` class) are
    rebound too, while the check runs, and put back after. So are a ``functools.partial`` of a wall clock and,
    one level further in, the attributes of the objects those names hold and of their classes (a ``Timer``'s
    clock, a class attribute ``clock = time.time``), as are those of the answer itself and of its ``self``, and
    the defaults and closures of the functions among them (a helper ``wall_ms(clock=time.time)`` the answer
    calls, a class's ``__init__(self, clock=time.time_ns)``).
    ``import datetime`` made inside the answer's body finds the stepped module in ``sys.modules``, and
    ``import time`` finds the ``time`` module with its functions replaced. If pandas is loaded, ``pandas.Timestamp.now``, ``today`` and ``utcnow`` take the step as well."""

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

    def _step_pandas(self) -> list[tuple[object, object]]:
        """``pandas.Timestamp.now``, ``today`` and ``utcnow`` read the system clock in C, as ``datetime.now``
        does: if pandas is loaded, they are stepped too, on the class, and put back after. Returns the pairs
        (real method, stepped method) for an answer that holds one of them."""
        timestamp = getattr(sys.modules.get("pandas"), "Timestamp", None)
        if not isinstance(timestamp, type):
            return []
        pairs: list[tuple[object, object]] = []
        for name in ("now", "today", "utcnow"):
            if name not in vars(timestamp):
                continue
            original, real = vars(timestamp)[name], getattr(timestamp, name)

            def stepped(
                cls: type, /, *args: object, real: Callable[..., Any] = real, **kwargs: object
            ) -> object:
                return real(*args, **kwargs) + datetime.timedelta(microseconds=self._offset() // 1000)

            setattr(timestamp, name, classmethod(stepped))
            self.undo.append(functools.partial(setattr, timestamp, name, original))
            pairs.append((real, getattr(timestamp, name)))
        return pairs

    def _stand_in(self, stepped_module: types.ModuleType) -> None:
        """``import datetime`` or ``from datetime import datetime`` inside the answer's body reads
        ``sys.modules`` while the answer runs: the stepped module stands in there, and is put back after."""
        real = sys.modules.get("datetime")
        sys.modules["datetime"] = stepped_module

        def put_back() -> None:
            if sys.modules.get("datetime") is stepped_module:  # unless something replaced it meanwhile
                if real is None:
                    del sys.modules["datetime"]
                else:
                    sys.modules["datetime"] = real

        self.undo.append(put_back)

    def _rebind(self, pairs: list[tuple[object, object]]) -> None:
        """Points the answer's globals, defaults and closure cells that hold a real wall clock at its stand-in."""

        def stepped(value: object) -> object:
            if isinstance(value, functools.partial):  # partial(time.clock_gettime_ns, time.CLOCK_REALTIME)
                func = stepped(value.func)
                return functools.partial(func, *value.args, **value.keywords) if callable(func) else None
            for real, replacement in pairs:  # a bound method like datetime.now is a new object at each lookup
                if value is real or (
                    isinstance(value, types.BuiltinMethodType | types.MethodType) and value == real
                ):
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

        def step_function(function: object) -> list[object]:
            """Steps a function's defaults, keyword defaults and closure cells that hold a wall clock; returns
            the other values they hold."""
            function = getattr(function, "__func__", function)  # a staticmethod or classmethod in a class
            if not isinstance(function, types.FunctionType) or id(function) in seen:
                return []
            seen.add(id(function))
            defaults = function.__defaults__ or ()
            if any(stepped(value) is not None for value in defaults):
                function.__defaults__ = tuple(stepped(value) or value for value in defaults)
                self.undo.append(functools.partial(setattr, function, "__defaults__", defaults))
            kwdefaults = function.__kwdefaults__ or {}
            if any(stepped(value) is not None for value in kwdefaults.values()):
                function.__kwdefaults__ = {k: stepped(v) or v for k, v in kwdefaults.items()}
                self.undo.append(functools.partial(setattr, function, "__kwdefaults__", kwdefaults))
            others = [v for v in (*defaults, *kwdefaults.values()) if stepped(v) is None]
            for cell in function.__closure__ or ():
                try:
                    value = cell.cell_contents
                except ValueError:  # a cell not filled yet
                    continue
                if (replacement := stepped(value)) is not None:
                    cell.cell_contents = replacement
                    self.undo.append(functools.partial(setattr, cell, "cell_contents", value))
                else:
                    others.append(value)
            return others

        def inside(value: object) -> None:
            """One level into an object: its own attributes and its class's (or a class's, and its bases'), and
            the defaults and closure of a function (a helper the answer calls, a method such as ``__init__``)."""
            if isinstance(value, types.FunctionType):
                step_function(value)
                return
            if isinstance(value, types.ModuleType | functools.partial):
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
                    for attribute in list(vars(cls).values()):
                        step_function(attribute)

        names: dict[str, object] = getattr(self.answer, "__globals__", {})
        self.holders += [value for value in names.values() if stepped(value) is None]
        rebind(names, names.__setitem__)
        self.holders += step_function(self.answer)
        for holder in self.holders:
            if holder is not None:
                inside(holder)

    def __enter__(self) -> "SettableWallClock":
        try:
            stepped_time = self._stepped_time()
            for name, function in stepped_time.items():
                setattr(time, name, function)
            stepped_class = self._stepped_datetime()
            stepped_module = types.ModuleType("datetime", datetime.__doc__)
            stepped_module.__dict__.update({**vars(datetime), "datetime": stepped_class})
            self._stand_in(stepped_module)
            self._rebind(
                [(self.module[name], function) for name, function in stepped_time.items()]
                + [
                    (datetime, stepped_module),
                    (datetime.datetime, stepped_class),
                    (datetime.datetime.now, stepped_class.now),
                    (datetime.datetime.today, stepped_class.today),
                ]
                + self._step_pandas()
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for name, function in self.module.items():
            setattr(time, name, function)
        for undo in reversed(self.undo):
            undo()

    def step(self) -> None:
        self.offset_ns += _HOUR_NS
