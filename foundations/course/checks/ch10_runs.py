"""The runs that the check of 10.run_without_task (``ch10_appendix``) hands to an answer: how it starts them,
completes the futures they await, what each request saw at its steps; a selector counting the loop's turns."""

import asyncio
import contextvars
import random
import selectors
from typing import NamedTuple

_REQUEST = contextvars.ContextVar("request", default="none")  # what each run sets: its own request's id
_CALLER = contextvars.ContextVar("caller", default="none")  # what the caller set: each run's copy inherits it


class CountingSelector(selectors.DefaultSelector):
    """The loop's selector, counting its turns: an asyncio loop selects once per turn, sleeping when idle."""

    turns = 0

    def select(self, timeout=None):
        self.turns += 1
        return super().select(timeout)


class Seen(NamedTuple):
    """What a request saw: the Task at its first and last steps, its variable after its awaits, whether its
    tokens reset it, and its caller's variable at its first step and its last."""

    at_start: asyncio.Task | None
    at_end: asyncio.Task | None
    variable: str
    inherited: str
    inherited_later: str
    reset: bool


class Runs:
    """Several requests started together from a loop callback (where a protocol's data arrives: outside any
    Task), each setting its own context variable, awaiting a future the check resolves in a shuffled order,
    yielding bare a few times, setting its variable again, awaiting a second future resolved in another
    order, then resetting its variable with both tokens; then runs whose awaited future fails or is cancelled,
    whose coroutine raises (later, or at its first step), returns at its first step (a word, or None) or None
    after a bare yield."""

    def __init__(self, answer, selector: CountingSelector) -> None:
        self.answer, self.selector = answer, selector
        self.loop = loop = asyncio.get_running_loop()
        self.failures: list[str] = []  # what the learner's code raised inside the loop's callbacks
        loop.set_exception_handler(lambda _, context: self.failures.append(_failure(context)))
        self.count = random.randint(5, 9)
        self.gates = [loop.create_future() for _ in range(self.count)]
        self.seconds = [loop.create_future() for _ in range(self.count)]  # awaited after the bare yields
        self.pauses = [random.randint(1, 3) for _ in range(self.count)]
        self.seen: dict[int, Seen] = {}
        self.turns_seen: dict[int, list[int]] = {}  # the loop's turn at each step after a request's future
        self.second_at: dict[int, int] = {}  # the loop's turn when it stepped again after its second future
        self.own_error = ValueError(f"no such key {random.randint(100, 999)}")
        self.first_error = LookupError(f"no key {random.randint(100, 999)} given")
        self.failing_gate, self.cancelled_gate = loop.create_future(), loop.create_future()
        self.word = random.choice(["hello", "world", "Tit", "Petric"])
        self.started: dict = {}
        self.caller_saw: list[str] = []
        self.at_once: list[bool] = []  # whether the run returning at its first step was done at once
        self.cleaned_up: list[bool] = []  # whether the cancelled run's coroutine got its CancelledError
        self.caller = f"caller {random.randint(100, 999)}"
        self.done_at: dict[int, int] = {}  # the loop's turn when each request's future was done
        self.second_done_at: dict[int, int] = {}  # the same for its second future

    async def request(self, i: int) -> str:
        token = _REQUEST.set(f"request {i}")
        at_start, inherited = asyncio.current_task(), _CALLER.get()
        value = await self.gates[i]
        self.turns_seen[i] = [self.selector.turns]
        for _ in range(self.pauses[i]):
            await asyncio.sleep(0)
            self.turns_seen[i].append(self.selector.turns)
        later = _REQUEST.set(f"request {i}, after its yields")  # in a step that a bare yield led to
        self.second_at[i] = -1  # waiting on the second future
        second = await self.seconds[i]
        self.second_at[i] = self.selector.turns
        variable = _REQUEST.get()  # then reset with both tokens, as code setting a variable for a while does
        reset = _resets(later) and _REQUEST.get() == f"request {i}" and _resets(token)
        self.seen[i] = Seen(at_start, asyncio.current_task(), variable, inherited, _CALLER.get(), reset)
        return f"{value}, {second}, request {i}"

    async def raises(self):
        await asyncio.sleep(0)
        raise self.own_error

    async def raises_at_once(self):  # at its first step, inside the run_without_task(...) call
        raise self.first_error

    async def cancelled_call(self, gate):  # its future is cancelled: a CancelledError, which is no Exception
        try:
            return await gate
        except asyncio.CancelledError:  # a handler's cleanup (a finally would run at close() too)
            self.cleaned_up.append(True)
            raise

    async def start(self) -> None:
        """Starts every run from a loop callback, then gives the loop a few turns."""
        self.loop.call_soon(self._start_all)
        for _ in range(3):
            await asyncio.sleep(0)

    def _start_all(self) -> None:
        _CALLER.set(self.caller)  # in the caller's context: a copy of it carries this into every run
        answer, started = self.answer, self.started
        for i in range(self.count):
            started[i] = answer(self.request(i))
        started["failed call"] = answer(_failed_call(self.failing_gate))
        started["raises"] = answer(self.raises())
        started["cancelled"] = answer(self.cancelled_call(self.cancelled_gate))
        started["never waits"] = answer(_never_waits(self.word))
        started["returns None later"] = answer(_returns_none_later())
        self.caller_saw.append(_REQUEST.get())
        self.at_once.append(asyncio.isfuture(started["never waits"]) and started["never waits"].done())
        for name, coroutine, holds in (
            ("raises at once", self.raises_at_once(), "that error"),
            ("returns None", _never_waits(None), "None (StopIteration.value: its args are empty then)"),
        ):
            try:
                started[name] = answer(coroutine)
            except Exception as error:  # noqa: BLE001 - named in the message below
                self.failures.append(
                    f"run_without_task itself raised {error!r}, for {named(name)}: "
                    f"its future should hold {holds}"
                )

    async def complete(self) -> None:
        """Completes the requests' first futures, then their second ones, each in a shuffled order; then fails
        one future and cancels another, and waits (1 s at most) for every run to end."""
        order = random.sample(range(self.count), self.count)
        for i in order:
            self.gates[i].set_result(f"answer {i}")
            self.done_at[i] = self.selector.turns
            await asyncio.sleep(0)
        # each request reaches its second future a few turns after its first
        deadline = self.loop.time() + 1.0
        while len(self.second_at) < self.count and self.loop.time() < deadline:
            await asyncio.sleep(0)
        random.shuffle(order)
        for i in order:
            if not self.seconds[i].done() and self.second_at.get(i) == -1:  # a future it already waits on
                self.seconds[i].set_result(f"then {i}")
                self.second_done_at[i] = self.selector.turns
                await asyncio.sleep(0)
        self.failing_gate.set_exception(LookupError(self.word))
        self.cancelled_gate.cancel()
        await asyncio.wait(list(self.started.values()), timeout=1.0)


async def _failed_call(gate):
    try:
        await gate
    except LookupError as error:
        return f"caught {error}"
    return "the future's exception never reached the coroutine"


async def _never_waits(word):
    return word


async def _returns_none_later():  # as every request the server steps does: StopIteration() has no args
    await asyncio.sleep(0)


def _resets(token: contextvars.Token) -> bool:
    """Whether ``token`` resets its variable here: only in the context where it was set."""
    try:
        _REQUEST.reset(token)
    except ValueError:  # "was created in a different Context"
        return False
    return True


def _failure(context: dict) -> str:
    error = context.get("exception")
    what = f"{type(error).__name__}: {error}" if error else str(context.get("message"))
    return f"your code raised in one of the loop's callbacks: {what}"


def named(name) -> str:
    """How a message names a run: ``name`` is a request's number, or a key of ``Runs.started``."""
    return f"request {name}" if isinstance(name, int) else f"the run whose coroutine {_WHAT[name]}"


_WHAT = {
    "failed call": "awaits a future that fails",
    "raises": "raises an error",
    "never waits": "returns a word at its first step",
    "returns None": "returns None at its first step",
    "returns None later": "returns None after a bare yield",
    "raises at once": "raises at its first step",
    "cancelled": "awaits a future that is cancelled",
}
