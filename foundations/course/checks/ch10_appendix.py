"""Checks for the exercise of notebook 10's appendix (the HTTP server on one thread): stepping a request's
coroutine without a Task, as its server does. ``ch10`` imports this module, so its exercise is chapter 10's last."""

import asyncio
import contextvars
import random
import selectors
import threading

from foundations.course.exercises import Wrong, exercise, expect

_REQUEST = contextvars.ContextVar("request", default="none")  # what each run sets: its own request's id
_CALLER = contextvars.ContextVar("caller", default="none")  # what the caller set: each run's copy inherits it
RUN_SECONDS = 5  # the whole scenario; a loop that never gets control back ends the check here
IDLE_S, IDLE_TURNS = 0.1, 5  # while every request waits on its future, the loop sleeps: a few turns at most
NEXT_TURNS = 2  # a request steps again within this many turns of its future being done (its done callback)
NOT_THE_REQUESTS = "A SystemExit or KeyboardInterrupt is not the request's to keep: let it pass"
EXITS = (SystemExit, KeyboardInterrupt)  # not the request's: raised at a first step and a later one, shuffled


class _CountingSelector(selectors.DefaultSelector):
    """The loop's selector, counting its turns: an asyncio loop selects once per turn, sleeping when idle."""

    turns = 0

    def select(self, timeout=None):
        self.turns += 1
        return super().select(timeout)


@exercise("10.run_without_task")
def run_without_task(answer):
    expect(callable(answer), "expected a function run_without_task(coroutine) that returns a future")
    outcome: list[BaseException | None] = []

    def scenario() -> None:  # a loop of its own, in a thread: the kernel's thread already runs one
        selector = _CountingSelector()
        loop = asyncio.SelectorEventLoop(selector)
        try:
            loop.run_until_complete(_runs(answer, selector))
            for kind in random.sample(EXITS, len(EXITS)):
                _exits_later(answer, loop, kind)
            outcome.append(None)
        except EXITS as error:  # not one the check expected, where it came out (never past this thread)
            outcome.append(
                Wrong(f"your code let {error!r} out of the loop, where the check did not expect it")
            )
        except BaseException as error:  # noqa: BLE001 - a Wrong, or the learner's code failing: raised below
            outcome.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=scenario, name="check 10.run_without_task", daemon=True)
    thread.start()
    thread.join(RUN_SECONDS + 2)
    expect(
        bool(outcome),
        f"the runs had not ended after {RUN_SECONDS + 2} s: the loop never got control back. Take one step, "
        "then return; step again from a callback (restart the kernel: that loop's thread is still busy)",
    )
    if outcome[0] is not None:
        raise outcome[0]


async def _runs(answer, selector: _CountingSelector) -> None:
    """Several requests started together from a loop callback (where a protocol's data arrives: outside any
    Task), each setting its own context variable, awaiting a future the check resolves in a shuffled order,
    yielding bare a few times, setting its variable again, awaiting a second future resolved in another
    order, then resetting its variable with both tokens; then runs whose awaited future fails or is cancelled,
    whose coroutine raises (later, or at its first step), returns at its first step (a word, or None) or None
    after a bare yield, and two that raise at their first step, one SystemExit and one KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    failures: list[str] = []  # what the learner's code raised inside the loop's callbacks
    loop.set_exception_handler(lambda _, context: failures.append(_failure(context)))
    count = random.randint(5, 9)
    gates = [loop.create_future() for _ in range(count)]
    seconds = [loop.create_future() for _ in range(count)]  # awaited after the bare yields
    pauses = [random.randint(1, 3) for _ in range(count)]
    seen: dict[int, tuple] = {}
    turns_seen: dict[int, list[int]] = {}  # the loop's turn at each of a request's steps after its future
    second_at: dict[int, int] = {}  # the loop's turn when a request stepped again after its second future

    async def request(i):
        token = _REQUEST.set(f"request {i}")
        at_start, inherited = asyncio.current_task(), _CALLER.get()
        value = await gates[i]
        turns_seen[i] = [selector.turns]
        for _ in range(pauses[i]):
            await asyncio.sleep(0)
            turns_seen[i].append(selector.turns)
        later = _REQUEST.set(f"request {i}, after its yields")  # in a step that a bare yield led to
        second_at[i] = -1  # waiting on the second future
        second = await seconds[i]
        second_at[i] = selector.turns
        variable = _REQUEST.get()  # then reset with both tokens, as code setting a variable for a while does
        reset = _resets(later) and _REQUEST.get() == f"request {i}" and _resets(token)
        seen[i] = (at_start, asyncio.current_task(), variable, inherited, _CALLER.get(), reset)
        return f"{value}, {second}, request {i}"

    async def failed_call(gate):
        try:
            await gate
        except LookupError as error:
            return f"caught {error}"
        return "the future's exception never reached the coroutine"

    own_error = ValueError(f"no such key {random.randint(100, 999)}")

    async def raises():
        await asyncio.sleep(0)
        raise own_error

    first_error = LookupError(f"no key {random.randint(100, 999)} given")

    async def raises_at_once():  # at its first step, inside the run_without_task(...) call
        raise first_error

    async def never_waits(word):
        return word

    async def returns_none_later():  # as every request the server steps does: StopIteration() has no args
        await asyncio.sleep(0)

    async def cancelled_call(gate):  # its future is cancelled: a CancelledError, which is no Exception
        try:
            return await gate
        except asyncio.CancelledError:  # a handler's cleanup (a finally would run at close() too)
            cleaned_up.append(True)
            raise

    failing_gate, cancelled_gate = loop.create_future(), loop.create_future()
    word = random.choice(["hello", "world", "Tit", "Petric"])
    started: dict = {}
    caller_saw: list[str] = []
    at_once: list[bool] = []  # whether a run that returns at its first step was done when the call returned
    cleaned_up: list[bool] = []  # whether the cancelled run's coroutine got its CancelledError, at its await
    caller = f"caller {random.randint(100, 999)}"

    def start_all() -> None:
        _CALLER.set(caller)  # in the caller's context: a copy of it carries this into every run
        for i in range(count):
            started[i] = answer(request(i))
        started["failed call"] = answer(failed_call(failing_gate))
        started["raises"] = answer(raises())
        started["cancelled"] = answer(cancelled_call(cancelled_gate))
        started["never waits"] = answer(never_waits(word))
        started["returns None later"] = answer(returns_none_later())
        caller_saw.append(_REQUEST.get())
        at_once.append(asyncio.isfuture(started["never waits"]) and started["never waits"].done())
        for name, coroutine, holds in (
            ("raises at once", raises_at_once(), "that error"),
            ("returns None", never_waits(None), "None (StopIteration.value: its args are empty then)"),
        ):
            try:
                started[name] = answer(coroutine)
            except Exception as error:  # noqa: BLE001 - named in the message below
                failures.append(
                    f"run_without_task itself raised {error!r}, for {_named(name)}: "
                    f"its future should hold {holds}"
                )

    loop.call_soon(start_all)
    for _ in range(3):
        await asyncio.sleep(0)
    expect(not failures, failures[0] if failures else "")  # what the code raised in a callback
    expect(bool(caller_saw), "run_without_task did not return: step the coroutine once, then return a future")
    for future in started.values():
        expect(
            asyncio.isfuture(future) and not isinstance(future, asyncio.Task),
            f"it returned {type(future).__name__}: expected a future made with loop.create_future(), "
            "which the run completes (a Task is what this exercise does without)",
        )
    expect(
        at_once[0],
        "a coroutine that returns at its first step: its future was not done yet when run_without_task returned. "
        "Take the first step inside the call, as Server.run does, not on a later turn of the loop",
    )
    expect(
        caller_saw[0] == "none",
        f"after your function returned, its caller's context held {caller_saw[0]!r}: a request's variables "
        "belong to that request (run its steps in a copy of the context)",
    )
    for kind in random.sample(EXITS, len(EXITS)):
        _exits_at_once(answer, kind)
    idle_from = selector.turns
    await asyncio.sleep(IDLE_S)  # every request waits on its future now: nothing to do but wait
    expect(
        selector.turns - idle_from <= IDLE_TURNS,
        f"while every request waited on its future, the loop turned {selector.turns - idle_from} times in "
        f"{IDLE_S * 1000:.0f} ms instead of sleeping: step a request again when its future is done, not by "
        "looking at the future on every turn",
    )
    order = random.sample(range(count), count)
    done_at = {}  # the loop's turn when each request's future was done
    for i in order:
        gates[i].set_result(f"answer {i}")
        done_at[i] = selector.turns
        await asyncio.sleep(0)
    deadline = loop.time() + 1.0  # each request reaches its second future a few turns after its first
    while len(second_at) < count and loop.time() < deadline:
        await asyncio.sleep(0)
    random.shuffle(order)
    second_done_at = {}
    for i in order:
        if not seconds[i].done() and second_at.get(i) == -1:  # only a future it already waits on
            seconds[i].set_result(f"then {i}")
            second_done_at[i] = selector.turns
            await asyncio.sleep(0)
    failing_gate.set_exception(LookupError(word))
    cancelled_gate.cancel()
    await asyncio.wait(list(started.values()), timeout=1.0)
    expect(not failures, failures[0] if failures else "")  # what the code raised in a callback
    for name, future in started.items():
        expect(
            future.done(),
            f"{_named(name)} never finished: step it again when the future it awaits is done, and on the "
            "loop's next turn when it awaits nothing (asyncio.sleep(0) yields None)",
        )
    for i in range(count):
        expect(
            started[i].exception() is None,
            f"request {i} ended in {type(started[i].exception()).__name__}: {started[i].exception()} "
            "(was it stepped before the future it awaits was done?)",
        )
        at_start, at_end, variable, inherited, inherited_later, reset = seen[i]
        expect(
            at_start is None and at_end is None, "a Task ran the coroutine: step it yourself, with send(None)"
        )
        expect(
            variable == f"request {i}, after its yields",
            f"request {i} set its context variable, and read {variable!r} after its awaits: every step of a "
            "request runs in that request's one copy of the context, made when it starts",
        )
        expect(
            reset,
            "a later step ran in another context than the first (call_soon and add_done_callback each copy "
            "the current one): a token set before an await could not reset its variable after it. Run every "
            "step in the one copy made when the run starts (context.run, or context= on the callbacks)",
        )
        expect(
            inherited == inherited_later == caller,
            f"request {i} read {inherited!r}, then {inherited_later!r} after its awaits, from a context variable its "
            f"caller had set to {caller!r}: a request's context is a copy of its caller's, not an empty one",
        )
        expect(
            turns_seen[i][0] - done_at[i] <= NEXT_TURNS,
            f"request {i} stepped again {turns_seen[i][0] - done_at[i]} turns of the loop after its future was "
            "done: step it when the future is done (a done callback), not on a timer or by looking at it",
        )
        expect(
            all(later > earlier for earlier, later in zip(turns_seen[i], turns_seen[i][1:])),
            f"request {i}'s steps around its `await asyncio.sleep(0)` ran in one turn of the loop: a bare yield "
            "gives the loop its turn, so the next step waits for the next one",
        )
        expect(
            second_at[i] - second_done_at[i] <= NEXT_TURNS,
            f"request {i} stepped again {second_at[i] - second_done_at[i]} turns of the loop after the second "
            "future it awaited was done: a request may await a future at any step, not only its first",
        )
        expected = f"answer {i}, then {i}, request {i}"
        expect(
            started[i].result() == expected,
            f"request {i} returned {expected!r}, its future holds {started[i].result()!r}",
        )
    failed = started["failed call"]
    expect(
        failed.exception() is None and failed.result() == f"caught {word}",
        "a coroutine whose awaited future failed should get the error at its await, and may catch it there; "
        f"its future holds {failed.exception() or failed.result()!r}",
    )
    expect(
        started["raises"].exception() is own_error,
        f"a coroutine that raised {own_error!r}: its future should hold that exception (set_exception), "
        f"not {started['raises'].exception() or started['raises'].result()!r}",
    )
    expect(
        started["raises at once"].exception() is first_error,
        f"a coroutine that raised {first_error!r} at its first step: its future should hold that exception, "
        f"not {started['raises at once'].exception() or started['raises at once'].result()!r}",
    )
    cancelled = started["cancelled"]
    if not cancelled.cancelled():  # a cancelled future's exception() raises: ask only when it is not
        expect(
            isinstance(cancelled.exception(), asyncio.CancelledError),
            "a coroutine whose awaited future was cancelled: its future should be cancelled too, or hold the "
            f"CancelledError, not {cancelled.exception() or cancelled.result()!r}",
        )
    expect(
        bool(cleaned_up),
        "a coroutine whose awaited future was cancelled never got the CancelledError, so its own except/finally "
        "never ran: step it again as for any done future, or throw it in (coro.throw(...)), as a Task does",
    )
    for name, returned in (("never waits", word), ("returns None", None), ("returns None later", None)):
        run = started[name]
        expect(
            run.exception() is None and run.result() == returned,
            f"{_named(name)}: its future should hold {returned!r}, not {run.exception() or run.result()!r}",
        )


def _exits_at_once(answer, kind: type[BaseException]) -> None:
    """A run whose coroutine raises ``kind`` (SystemExit or KeyboardInterrupt) at its first step: it comes out
    of the call. Any other one, or this one with other arguments, goes on up to ``scenario``'s safety net."""
    code = random.randint(3, 99)

    async def exits_at_once():
        raise kind(code)

    try:
        kept = answer(exits_at_once())
    except kind as error:
        if error.args != (code,):
            raise
    else:
        expect(
            False,
            f"a coroutine raised {kind.__name__}({code}) at its first step, and {_kept(kept)}. "
            f"{NOT_THE_REQUESTS}, out of the call",
        )


def _exits_later(answer, loop: asyncio.AbstractEventLoop, kind: type[BaseException]) -> None:
    """A run whose coroutine raises ``kind`` (SystemExit or KeyboardInterrupt) at a later step, stepped from the
    done callback of the future it awaited: as from a Task's step, it comes out of the callback, and asyncio
    lets it out of the loop. Any other one goes on up to ``scenario``'s safety net."""
    code = random.randint(3, 99)
    gate = loop.create_future()

    async def exits_later():
        await gate
        raise kind(code)

    runs = []

    def start() -> None:
        runs.append(answer(exits_later()))
        gate.set_result(None)
        if asyncio.isfuture(runs[0]):
            runs[0].add_done_callback(lambda _: loop.stop())
        timers.append(loop.call_later(1.0, loop.stop))  # a run that neither ends nor lets it pass

    timers: list[asyncio.TimerHandle] = []
    loop.set_exception_handler(None)
    loop.call_soon(start)
    try:
        loop.run_forever()
    except kind as error:
        if error.args == (code,):
            return
        raise
    finally:
        for timer in timers:  # not to stop the next run early
            timer.cancel()
    expect(
        False,
        f"a coroutine raised {kind.__name__}({code}) at a later step, stepped from a done callback, and "
        f"{_kept(runs[0]) if runs else 'the loop stopped'}. {NOT_THE_REQUESTS}, out of that callback",
    )


def _kept(run) -> str:
    """What run_without_task gave for a run whose SystemExit or KeyboardInterrupt it should have let pass."""
    if not asyncio.isfuture(run):
        return f"run_without_task returned {run!r}"
    if not run.done():
        return "run_without_task returned a future that never finished"
    if run.cancelled():
        return "run_without_task returned a future, then cancelled it"
    return f"run_without_task returned a future holding {run.exception() or run.result()!r}"


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


def _named(name) -> str:
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
