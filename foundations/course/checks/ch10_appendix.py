"""Checks for the exercise of notebook 10's appendix (the HTTP server on one thread): stepping a request's
coroutine without a Task, as its server does. ``ch10`` imports this module, so its exercise is chapter 10's last.
The runs the check hands to an answer are in ``ch10_runs``; each thing it checks is a function here."""

import asyncio
import random
import threading

from foundations.course.checks.ch10_runs import CountingSelector, Runs, named
from foundations.course.exercises import Wrong, exercise, expect

RUN_SECONDS = 5  # the whole scenario; a loop that never gets control back ends the check here
IDLE_S, IDLE_TURNS = 0.1, 5  # while every request waits on its future, the loop sleeps: a few turns at most
NEXT_TURNS = 2  # a request steps again within this many turns of its future being done (its done callback)
NOT_THE_REQUESTS = "A SystemExit or KeyboardInterrupt is not the request's to keep: let it pass"
EXITS = (SystemExit, KeyboardInterrupt)  # not the request's: raised at a first step and a later one, shuffled


@exercise("10.run_without_task")
def run_without_task(answer):
    expect(callable(answer), "expected a function run_without_task(coroutine) that returns a future")
    outcome: list[BaseException | None] = []
    thread = threading.Thread(
        target=_scenario, args=(answer, outcome), name="check 10.run_without_task", daemon=True
    )
    thread.start()
    thread.join(RUN_SECONDS + 2)
    expect(
        bool(outcome),
        f"the runs had not ended after {RUN_SECONDS + 2} s: the loop never got control back. Take one step, "
        "then return; step again from a callback (restart the kernel: that loop's thread is still busy)",
    )
    if outcome[0] is not None:
        raise outcome[0]


def _scenario(answer, outcome: list[BaseException | None]) -> None:
    """The whole check, on a loop of its own in a thread (the kernel's thread already runs one)."""
    selector = CountingSelector()
    loop = asyncio.SelectorEventLoop(selector)
    try:
        loop.run_until_complete(_runs(answer, selector))
        for kind in random.sample(EXITS, len(EXITS)):
            _expect_exit_passes_later(answer, loop, kind)
        outcome.append(None)
    except EXITS as error:  # not one the check expected, where it came out (never past this thread)
        outcome.append(Wrong(f"your code let {error!r} out of the loop, where the check did not expect it"))
    except BaseException as error:  # noqa: BLE001 - a Wrong, or the learner's code failing: raised below
        outcome.append(error)
    finally:
        loop.close()


async def _runs(answer, selector: CountingSelector) -> None:
    """Starts the runs together, checks them as they start and wait, completes them and checks each."""
    runs = Runs(answer, selector)
    await runs.start()
    _expect_no_failures(runs)
    _expect_returned(runs)
    _expect_futures_not_tasks(runs)
    _expect_first_step_in_the_call(runs)
    _expect_callers_context_kept(runs)
    for kind in random.sample(EXITS, len(EXITS)):
        _expect_exit_passes_at_once(answer, kind)
    await _expect_loop_sleeps(runs)
    await runs.complete()
    _expect_no_failures(runs)
    _expect_all_finished(runs)
    for i in range(runs.count):
        for check in (
            _expect_request_succeeded,
            _expect_no_task,
            _expect_own_variable,
            _expect_resets,
            _expect_callers_variable,
            _expect_stepped_when_done,
            _expect_turn_per_yield,
            _expect_stepped_after_second,
            _expect_request_result,
        ):
            check(runs, i)
    _expect_failure_caught(runs)
    _expect_errors_kept(runs)
    _expect_cancelled(runs)
    _expect_cleaned_up(runs)
    _expect_returned_values(runs)


def _expect_no_failures(runs: Runs) -> None:
    """The answer raised nothing in the loop's callbacks."""
    expect(not runs.failures, runs.failures[0] if runs.failures else "")


def _expect_returned(runs: Runs) -> None:
    """run_without_task returned, having started every run."""
    expect(
        bool(runs.caller_saw),
        "run_without_task did not return: step the coroutine once, then return a future",
    )


def _expect_futures_not_tasks(runs: Runs) -> None:
    """Every run's future is one made with loop.create_future(), not a Task."""
    for future in runs.started.values():
        expect(
            asyncio.isfuture(future) and not isinstance(future, asyncio.Task),
            f"it returned {type(future).__name__}: expected a future made with loop.create_future(), "
            "which the run completes (a Task is what this exercise does without)",
        )


def _expect_first_step_in_the_call(runs: Runs) -> None:
    """A run that returns at its first step is done when run_without_task returns."""
    expect(
        runs.at_once[0],
        "a coroutine that returns at its first step: its future was not done yet when run_without_task returned. "
        "Take the first step inside the call, as Server.run does, not on a later turn of the loop",
    )


def _expect_callers_context_kept(runs: Runs) -> None:
    """The caller's context holds none of the variables its runs set."""
    expect(
        runs.caller_saw[0] == "none",
        f"after your function returned, its caller's context held {runs.caller_saw[0]!r}: a request's "
        "variables belong to that request (run its steps in a copy of the context)",
    )


async def _expect_loop_sleeps(runs: Runs) -> None:
    """While every request waits on its future, the loop sleeps: a few turns at most."""
    idle_from = runs.selector.turns
    await asyncio.sleep(IDLE_S)  # every request waits on its future now: nothing to do but wait
    turned = runs.selector.turns - idle_from
    expect(
        turned <= IDLE_TURNS,
        f"while every request waited on its future, the loop turned {turned} times in "
        f"{IDLE_S * 1000:.0f} ms instead of sleeping: step a request again when its future is done, not by "
        "looking at the future on every turn",
    )


def _expect_all_finished(runs: Runs) -> None:
    """Every run's future is done, once the futures its coroutine awaits are."""
    for name, future in runs.started.items():
        expect(
            future.done(),
            f"{named(name)} never finished: step it again when the future it awaits is done, and on the "
            "loop's next turn when it awaits nothing (asyncio.sleep(0) yields None)",
        )


def _expect_request_succeeded(runs: Runs, i: int) -> None:
    """Request ``i`` ended without an error."""
    run = runs.started[i]
    expect(
        run.exception() is None,
        f"request {i} ended in {type(run.exception()).__name__}: {run.exception()} "
        "(was it stepped before the future it awaits was done?)",
    )


def _expect_no_task(runs: Runs, i: int) -> None:
    """No Task ran request ``i``, at its first step or its last."""
    seen = runs.seen[i]
    expect(
        seen.at_start is None and seen.at_end is None,
        "a Task ran the coroutine: step it yourself, with send(None)",
    )


def _expect_own_variable(runs: Runs, i: int) -> None:
    """Request ``i`` read back, after its awaits, the variable it set."""
    variable = runs.seen[i].variable
    expect(
        variable == f"request {i}, after its yields",
        f"request {i} set its context variable, and read {variable!r} after its awaits: every step of a "
        "request runs in that request's one copy of the context, made when it starts",
    )


def _expect_resets(runs: Runs, i: int) -> None:
    """Request ``i``'s tokens reset its variable after its awaits: every step ran in one context."""
    expect(
        runs.seen[i].reset,
        "a later step ran in another context than the first (call_soon and add_done_callback each copy "
        "the current one): a token set before an await could not reset its variable after it. Run every "
        "step in the one copy made when the run starts (context.run, or context= on the callbacks)",
    )


def _expect_callers_variable(runs: Runs, i: int) -> None:
    """Request ``i`` read its caller's variable, at its first step and its last."""
    inherited, inherited_later, caller = runs.seen[i].inherited, runs.seen[i].inherited_later, runs.caller
    expect(
        inherited == inherited_later == caller,
        f"request {i} read {inherited!r}, then {inherited_later!r} after its awaits, from a context variable its "
        f"caller had set to {caller!r}: a request's context is a copy of its caller's, not an empty one",
    )


def _expect_stepped_when_done(runs: Runs, i: int) -> None:
    """Request ``i`` stepped again within NEXT_TURNS turns of its future being done."""
    late = runs.turns_seen[i][0] - runs.done_at[i]
    expect(
        late <= NEXT_TURNS,
        f"request {i} stepped again {late} turns of the loop after its future was "
        "done: step it when the future is done (a done callback), not on a timer or by looking at it",
    )


def _expect_turn_per_yield(runs: Runs, i: int) -> None:
    """Each bare yield of request ``i`` gave the loop a turn before its next step."""
    turns = runs.turns_seen[i]
    expect(
        all(later > earlier for earlier, later in zip(turns, turns[1:])),
        f"request {i}'s steps around its `await asyncio.sleep(0)` ran in one turn of the loop: a bare yield "
        "gives the loop its turn, so the next step waits for the next one",
    )


def _expect_stepped_after_second(runs: Runs, i: int) -> None:
    """Request ``i`` stepped again within NEXT_TURNS turns of its second future being done."""
    late = runs.second_at[i] - runs.second_done_at[i]
    expect(
        late <= NEXT_TURNS,
        f"request {i} stepped again {late} turns of the loop after the second "
        "future it awaited was done: a request may await a future at any step, not only its first",
    )


def _expect_request_result(runs: Runs, i: int) -> None:
    """Request ``i``'s future holds what its coroutine returned."""
    expected = f"answer {i}, then {i}, request {i}"
    expect(
        runs.started[i].result() == expected,
        f"request {i} returned {expected!r}, its future holds {runs.started[i].result()!r}",
    )


def _expect_failure_caught(runs: Runs) -> None:
    """A coroutine whose awaited future failed got the error at its await, and caught it."""
    failed = runs.started["failed call"]
    expect(
        failed.exception() is None and failed.result() == f"caught {runs.word}",
        "a coroutine whose awaited future failed should get the error at its await, and may catch it there; "
        f"its future holds {failed.exception() or failed.result()!r}",
    )


def _expect_errors_kept(runs: Runs) -> None:
    """The error a coroutine raised, at a later step or at its first, is its future's exception."""
    raised = runs.started["raises"]
    expect(
        raised.exception() is runs.own_error,
        f"a coroutine that raised {runs.own_error!r}: its future should hold that exception (set_exception), "
        f"not {raised.exception() or raised.result()!r}",
    )
    raised = runs.started["raises at once"]
    expect(
        raised.exception() is runs.first_error,
        f"a coroutine that raised {runs.first_error!r} at its first step: its future should hold that "
        f"exception, not {raised.exception() or raised.result()!r}",
    )


def _expect_cancelled(runs: Runs) -> None:
    """A run whose awaited future was cancelled is cancelled too, or holds the CancelledError."""
    cancelled = runs.started["cancelled"]
    if not cancelled.cancelled():  # a cancelled future's exception() raises: ask only when it is not
        expect(
            isinstance(cancelled.exception(), asyncio.CancelledError),
            "a coroutine whose awaited future was cancelled: its future should be cancelled too, or hold the "
            f"CancelledError, not {cancelled.exception() or cancelled.result()!r}",
        )


def _expect_cleaned_up(runs: Runs) -> None:
    """A coroutine whose awaited future was cancelled got the CancelledError at its await."""
    expect(
        bool(runs.cleaned_up),
        "a coroutine whose awaited future was cancelled never got the CancelledError, so its own except/finally "
        "never ran: step it again as for any done future, or throw it in (coro.throw(...)), as a Task does",
    )


def _expect_returned_values(runs: Runs) -> None:
    """Runs that return (a word or None at their first step, None later) hold what they returned."""
    for name, returned in (("never waits", runs.word), ("returns None", None), ("returns None later", None)):
        run = runs.started[name]
        expect(
            run.exception() is None and run.result() == returned,
            f"{named(name)}: its future should hold {returned!r}, not {run.exception() or run.result()!r}",
        )


def _expect_exit_passes_at_once(answer, kind: type[BaseException]) -> None:
    """A SystemExit or KeyboardInterrupt (``kind``) raised at a first step comes out of the call."""
    code = random.randint(3, 99)

    async def exits_at_once():
        raise kind(code)

    try:
        kept = answer(exits_at_once())
    except kind as error:
        if error.args != (code,):  # not this one: on up to _scenario's safety net
            raise
    else:
        expect(
            False,
            f"a coroutine raised {kind.__name__}({code}) at its first step, and {_kept(kept)}. "
            f"{NOT_THE_REQUESTS}, out of the call",
        )


def _expect_exit_passes_later(answer, loop: asyncio.AbstractEventLoop, kind: type[BaseException]) -> None:
    """A SystemExit or KeyboardInterrupt (``kind``) raised at a later step comes out of the loop."""
    code = random.randint(3, 99)
    gate = loop.create_future()

    async def exits_later():
        await gate
        raise kind(code)

    returned = []

    def start() -> None:  # stepped from a done callback, as a Task's step: asyncio lets it out of the loop
        returned.append(answer(exits_later()))
        gate.set_result(None)
        if asyncio.isfuture(returned[0]):
            returned[0].add_done_callback(lambda _: loop.stop())
        timers.append(loop.call_later(1.0, loop.stop))  # a run that neither ends nor lets it pass

    timers: list[asyncio.TimerHandle] = []
    loop.set_exception_handler(None)
    loop.call_soon(start)
    try:
        loop.run_forever()
    except kind as error:
        if error.args == (code,):
            return
        raise  # not this one: on up to _scenario's safety net
    finally:
        for timer in timers:  # not to stop the next run early
            timer.cancel()
    expect(
        False,
        f"a coroutine raised {kind.__name__}({code}) at a later step, stepped from a done callback, and "
        f"{_kept(returned[0]) if returned else 'the loop stopped'}. {NOT_THE_REQUESTS}, out of that callback",
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
