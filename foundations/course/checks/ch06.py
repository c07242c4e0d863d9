"""Checks for the exercises of notebook 06 (parallel fetching of data)."""

import functools
import heapq
import json
import math
import multiprocessing
import random
import secrets
import time

import requests

from foundations import fetch, processes
from foundations.course.checks import swap, unlabelled
from foundations.course.checks.pools import expect_pool_from_urls, expect_threads_per_url, pools
from foundations.course.exercises import Wrong, exercise, expect

# Five calls in these proportions, scaled afresh each run: they finish in another order than they were asked, so
# an answer kept in finishing order shows; in parallel they take about the slowest, one after the other the sum.
DELAYS_MS = (400, 100, 300, 200, 250)
# The slowest call of a first list and of a second. Every answer must come back, and soon after the slowest
# (_due): no fixed wait does both, as one long enough for the second (650 ms) is late for the first (590 ms).
SLOWEST_MS = ((300, 400), (650, 750))
# Then a few hundred calls, how many drawn each time, that the upstream answers only once all of them are in
# flight together: a pool smaller than that never gets there (a round 256 included). A larger fixed pool gets
# there, but shows as the same max_workers for a list of five and one of hundreds. The cap on how many: a
# workshop container's 1,024 tasks, which hold the learner's threads and the upstream's.
TOGETHER = (300, 400)
# The upstream waits up to 4 s for the whole group (room to start them all on a busy machine); fetch_all_by
# gets less, so a pool too small for them runs out of its budget.
TOGETHER_WAIT_MS, ALL_AT_ONCE_BUDGET = 4000, 3.5


def _scaled(low, high):
    """``DELAYS_MS`` scaled so that the slowest takes from ``low`` to ``high`` ms, drawn afresh."""
    slowest = random.randint(low, high)
    return [round(ms * slowest / max(DELAYS_MS)) for ms in DELAYS_MS]


def _due(delays):
    """When every answer should be in: the slowest call's time, with room for a busy machine (as fetch_all_by)."""
    return max(delays) / 1000 * 1.1 + 0.15


def _timed(answer, base, delays):
    names = [f"n{secrets.token_hex(3)}" for _ in delays]  # fresh every run: no answer is known in advance
    urls = [f"{base}/firstname?firstname={name}&delay_ms={ms}" for name, ms in zip(names, delays)]
    start = time.perf_counter()
    result = answer(urls)
    return result, names, time.perf_counter() - start


def _runs(answer, base, delays):
    """The runs on ``delays``, a second only if the first is late (a busy machine is ok), and the faster's time."""
    runs = [_timed(answer, base, delays)]
    if runs[0][2] >= _due(delays):
        runs.append(_timed(answer, base, delays))
    return runs, min(seconds for *_, seconds in runs)


@exercise("06.fetch_all")
def fetch_all(answer):
    expect(callable(answer), "expected a function fetch_all(urls) returning the decoded JSON answers")
    refused = ("fetch_parallel", "fan_out", "fetch_async")
    message = "fetch_all calls one of the chapter's fetch functions: start the threads yourself"
    expect(not _names_used(answer) & set(refused), message)
    answer = _refusing(answer, refused, message)
    with processes.start_module("foundations.fullname", name="check 06.fetch_all") as upstream:
        lists = [_scaled(*slowest) for slowest in SLOWEST_MS]
        with pools() as few:
            timed = [(delays, *_runs(answer, upstream.url, delays)) for delays in lists]
        expect_threads_per_url(few, len(DELAYS_MS), sum(len(runs) for _, runs, _ in timed), upstream.url)
        for delays, runs, _ in timed:
            for result, names, seconds in runs:
                _expect_answers(result, names, delays, seconds)
        _expect_in_parallel([(delays, seconds) for delays, _, seconds in timed])
        with pools() as many:
            size = _all_at_once(answer, upstream.url, "fetch_all")
        expect_pool_from_urls(few, len(DELAYS_MS), many, size)
        empty = answer([])
        expect(empty == [], f"fetch_all([]) returned {empty!r}: no URLs, no answers")


def _expect_answers(result, names, delays, seconds):
    expect(isinstance(result, list), f"expected a list with one answer per URL, got {type(result).__name__}")
    expect(len(result) == len(names), f"expected {len(names)} answers, one per URL, got {len(result)}")
    missing = [i for i, item in enumerate(result) if item is None]
    expect(
        not missing,
        f"your function returned after {seconds * 1000:.0f} ms with answers missing (None at {missing}, "
        f"{len(missing)} of {len(names)}), from calls of {delays} ms: return only once every call has "
        "answered. Wait for the calls themselves: join their threads, or take each future's result",
    )
    odd = next((item for item in result if not isinstance(item, dict)), None)
    expect(odd is None, f"expected each answer decoded from JSON (a dict), got {type(odd).__name__}")
    wanted = [{"firstname": name} for name in names]
    expect(
        sorted(map(str, result)) == sorted(map(str, wanted)),
        f"expected the answers of the URLs given, got {result!r:.120}: call each URL, do not make up answers",
    )
    expect(
        result == wanted,
        "the answers are there but not in the order of the URLs: the calls finish in "
        "another order than they start",
    )


def _expect_in_parallel(timed):
    """Each list of calls answered soon after its slowest. "One after the other" only when every list took about
    its sum, which no fixed wait does: the lists' sums are too far apart."""
    one_by_one = all(0.9 * sum(d) / 1000 <= seconds <= 1.2 * sum(d) / 1000 + 0.1 for d, seconds in timed)
    for delays, seconds in timed:
        took = f"{len(delays)} calls of {delays} ms took {seconds * 1000:.0f} ms"
        expect(
            seconds < _due(delays) or not one_by_one,
            f"{took}, about their sum ({sum(delays)} ms), and so did the other list: they ran one after the "
            f"other, not in parallel (the slowest, {max(delays)} ms)",
        )
        expect(
            seconds < _due(delays),
            f"{took}, {seconds * 1000 - max(delays):.0f} ms after the slowest answer came: what were you "
            "waiting for? Have every call in flight at once, and return as soon as the last answer is in "
            "(join the threads, or take each future's result)",
        )


def _all_at_once(call, base, shown, *args):
    """``call(urls, *args)`` on URLs of ``/together``, which answers only once all of them are in flight: the
    check fails unless every answer comes back, in order. Returns how many URLs it sent."""
    size, group = random.randint(*TOGETHER), secrets.token_hex(4)
    names = [f"n{secrets.token_hex(3)}" for _ in range(size)]
    urls = [
        f"{base}/together?firstname={name}&group={group}&size={size}&wait_ms={TOGETHER_WAIT_MS}"
        for name in names
    ]
    asked = f"{shown}(<{size} URLs answered only once all {size} calls are in flight together>"
    asked += "".join(f", {arg}" for arg in args) + ")"
    try:
        result = call(urls, *args)
    except Wrong:  # the check's own refusal, raised inside the call
        raise
    except Exception as exc:  # a 504 or a TimeoutError: the calls were not all in flight
        expect(False, f"{asked} raised {type(exc).__name__}: were all {size} calls in flight at once?")
    expect(
        result == [{"firstname": name} for name in names],
        f"{asked} returned {result!r:.120}: expected their decoded answers, in order. Were all {size} calls in "
        "flight at once?",
    )
    return size


def _pool_ms(delays_ms, size):
    """When the last call ends if each starts, in order, as soon as one of ``size`` threads is free."""
    ends: list[float] = []
    for delay in delays_ms:
        start = heapq.heappop(ends) if len(ends) == size else 0  # the earliest a thread comes free
        heapq.heappush(ends, start + delay)
    return max(ends, default=0)


def _models(delays, size):
    """Plausible wrong models of a pool, each with what it gets wrong."""
    groups = [delays[i : i + size] for i in range(0, len(delays), size)]
    slowest = max(delays, default=0)
    return [
        (sum(max(group) for group in groups), "that is batches: each group of calls waits for its slowest"),
        (math.ceil(len(delays) / size) * slowest, "that is rounds as long as the slowest call"),
        (sum(delays) / size, "that spreads the time evenly over the threads, but calls are not divisible"),
        (slowest, "that ignores the pool's size"),
    ]


def _short(delays):
    return f"[{delays[0]}] * {len(delays)}" if len(delays) > 5 and len(set(delays)) == 1 else str(delays)


@exercise("06.predicted_ms")
def predicted_ms(answer):
    expect(callable(answer), "expected a function predicted_ms(delays_ms, pool_size)")
    fresh = [random.randrange(10, 500) for _ in range(random.randrange(8, 15))]  # nobody knows it in advance
    cases = [
        ([50] * 20, 1),
        ([50] * 20, 3),
        ([50] * 20, 20),
        ([400, 100, 300, 200, 250], 2),
        ([400, 100, 300, 200, 250], 3),
        ([100, 100, 500], 2),
        # the last call listed ends before the first: the answer is when the last one ends
        ([500, 100, 100], 2),
        ([30, 30, 30], 10),
        ([], 4),
        (fresh, 3),
    ]
    for delays, size in cases:
        expected, got = _pool_ms(delays, size), answer(list(delays), size)
        shown = f"predicted_ms({_short(delays)}, {size})"
        expect(isinstance(got, (int, float)), f"{shown} returned {got!r}, not a number of milliseconds")
        right = math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6)  # the same model in seconds rounds
        hint = next((why for value, why in _models(delays, size) if value == got and not right), "")
        hint = hint or "trace this case by hand, on paper: which thread takes each call, and when?"
        expect(right, f"{shown} returned {got!r}, not when the last call ends: {hint}")


# The chapter's own fetch functions: an exercise refuses those that do its work, by name or by identity
_CHAPTER = ("fetch_parallel", "fetch_sequential", "fan_out", "fetch_async")


def _content(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _cells(fn) -> list:
    return [_content(cell) for cell in getattr(fn, "__closure__", None) or ()]


def _names_used(function) -> set[str]:
    """The global and attribute names ``function`` uses, and the name of each of the chapter's functions it holds
    under another (an alias, a default, a closure's cell), with those of the functions defined inside it and of
    the learner's own functions it calls: a helper of theirs that calls ``fan_out`` counts, as does a
    ``functools.partial`` of it."""
    if isinstance(function, functools.partial):
        return {function.func.__name__} | _names_used(function.func)
    chapter = {id(getattr(fetch, name)): name for name in _CHAPTER}
    names: set[str] = set()
    pending, seen = [function], set()
    while pending:
        fn = pending.pop()
        space = getattr(fn, "__globals__", {})
        held = [
            *(getattr(fn, "__defaults__", None) or ()),
            *(getattr(fn, "__kwdefaults__", None) or {}).values(),
        ]
        held += _cells(fn)
        codes = [getattr(fn, "__code__", None)]
        while codes:
            code = codes.pop()
            if code is not None and code not in seen:
                seen.add(code)
                names.update(code.co_names)
                codes.extend(const for const in code.co_consts if hasattr(const, "co_names"))
                for name in code.co_names:  # the learner's own helpers, defined where the answer is
                    helper = space.get(name)
                    held.append(helper)
                    if callable(helper) and getattr(helper, "__module__", None) == getattr(
                        fn, "__module__", 0
                    ):
                        pending.append(helper)
        names.update(chapter[id(obj)] for obj in held if id(obj) in chapter)
    return names


def _refusing(answer, refused, message):
    """``answer``, run while the chapter's functions named ``refused`` refuse, however it reaches them (a name
    built at call time escapes ``_names_used``): ``foundations.fetch``'s own names for them, and the names in the
    answer's globals and the cells of its closure that hold them. A refusal the answer swallows still counts."""
    originals = [getattr(fetch, name) for name in refused]

    def guarded(*args):
        called = []

        def refusal(*_args, **_kwargs):
            called.append(True)
            raise Wrong(message)

        try:
            with swap.swapped(answer, [fetch], originals, refusal):
                return answer(*args)
        finally:
            expect(not called, message)

    return guarded


def _deadline_urls(base, delays, drip_at=None, drip_s=2.0):
    """Fresh names, one URL per delay; with ``drip_at``, one more URL at that place: an upstream that
    trickles its answer for ``drip_s``. Every URL is an unguessable token of ``unlabelled``'s."""
    names = [f"n{secrets.token_hex(3)}" for _ in range(len(delays) + (drip_at is not None))]
    plans = [(ms / 1000, 0, json.dumps({"firstname": name}).encode()) for name, ms in zip(names, delays)]
    if drip_at is not None:
        plans.insert(drip_at, (0.0, round(drip_s * 10), json.dumps({"lastname": names[-1]}).encode()))
    return unlabelled.urls(base, plans), [{"firstname": name} for name in names[: len(delays)]]


def _run(answer, urls, budget):
    start = time.perf_counter()
    try:
        outcome = answer(urls, budget)
    except TimeoutError as exc:
        outcome = exc
    except multiprocessing.TimeoutError:  # a ThreadPool's AsyncResult.get(timeout=): not the builtin
        expect(
            False,
            f"fetch_all_by(..., budget={budget}) raised multiprocessing.TimeoutError after "
            f"{(time.perf_counter() - start) * 1000:.0f} ms: it is not the builtin TimeoutError the caller catches",
        )
    except requests.Timeout as exc:  # the learner's own timeout=, which is not the exercise's TimeoutError
        expect(
            False,
            f"fetch_all_by(..., budget={budget}) raised requests' {type(exc).__name__} after "
            f"{(time.perf_counter() - start) * 1000:.0f} ms: the caller catches TimeoutError when the budget "
            "is spent, whatever ran out inside",
        )
    return outcome, time.perf_counter() - start


@exercise("06.fetch_all_by")
def fetch_all_by(answer):
    expect(callable(answer), "expected a function fetch_all_by(urls, budget)")
    refused = ("fetch_parallel", "fetch_sequential", "fan_out", "fetch_async")
    message = "fetch_all_by calls one of the chapter's fetch functions: write the deadline yourself"
    expect(not _names_used(answer) & set(refused), message)
    answer = _refusing(answer, refused, message)
    empty = answer([], 0.5)
    expect(empty == [], f"fetch_all_by([], budget=0.5) returned {empty!r}: no URLs, no answers")
    with (
        processes.start_module("foundations.fullname", name="check 06.fetch_all_by") as upstream,
        unlabelled.serve() as base,
    ):
        # 1. every answer comes within a budget of more than a second: all of them, in the order of the URLs
        # (seven calls listed in another order than they finish, so no other order passes by chance)
        # (the slowest over 1.1 s, so a wait of a fixed second cannot catch it just in time)
        budget = round(random.uniform(1.5, 1.8), 2)
        delays = [random.randint(1100, 1200)] + [100 + 120 * i + random.randint(0, 60) for i in range(6)]
        while delays == sorted(delays) or delays == sorted(delays, reverse=True):
            random.shuffle(delays)
        urls, wanted = _deadline_urls(base, delays)
        with pools() as few:
            outcome, seconds = _run(answer, urls, budget)
        expect_threads_per_url(few, len(delays), 1, base)
        expect(
            not isinstance(outcome, TimeoutError),
            f"fetch_all_by(<calls of {sorted(delays)} ms>, budget={budget}) raised TimeoutError after "
            f"{seconds * 1000:.0f} ms, before its budget ran out: each call had time to answer",
        )
        expect(
            outcome == wanted,
            f"fetch_all_by(<calls of {sorted(delays)} ms>, budget={budget}) returned {outcome!r:.120}: expected "
            "the decoded JSON answers of the URLs given, in their order",
        )
        expect(
            seconds < budget + 0.2,
            f"fetch_all_by(<calls of {sorted(delays)} ms>, budget={budget}) returned after {seconds * 1000:.0f} ms, "
            "past its budget: the answers were due by then, or a TimeoutError",
        )
        slowest = max(delays) / 1000
        expect(  # the slowest call's own time beyond its sleep grows with the sleep on a busy virtual machine
            seconds < slowest * 1.1 + 0.15,
            f"fetch_all_by(<calls of {sorted(delays)} ms>, budget={budget}) returned after {seconds * 1000:.0f} ms, "
            f"{(seconds - slowest) * 1000:.0f} ms after the slowest answer came: what were you waiting for?",
        )
        # 2. a few hundred calls answered only once all of them are in flight, on a budget that leaves room to
        # start them on a busy machine: a pool smaller than the list runs out of it
        with pools() as many:
            size = _all_at_once(answer, upstream.url, "fetch_all_by", ALL_AT_ONCE_BUDGET)
        expect_pool_from_urls(few, len(delays), many, size)
        # 3. one upstream trickles its answer for 2 s: TimeoutError when the budget is spent, not later
        delays = [100, 250, 300]
        for budget in (round(random.uniform(0.35, 0.55), 2), round(random.uniform(0.6, 0.8), 2)):
            for drip_at in (len(delays), random.randrange(len(delays))):  # last, then anywhere
                urls, _ = _deadline_urls(base, delays, drip_at=drip_at)
                outcome, seconds = _run(answer, urls, budget)
                shown = f"fetch_all_by(<calls of {delays} ms and one trickling its answer for 2 s>, budget={budget})"
                expect(
                    isinstance(outcome, TimeoutError),
                    f"{shown} returned after {seconds * 1000:.0f} ms instead of raising TimeoutError: "
                    "does anything in your code watch the whole call, not each wait for data?",
                )
                expect(
                    seconds >= budget - 0.05,
                    f"{shown} raised TimeoutError after {seconds * 1000:.0f} ms, before the budget was spent",
                )
                expect(
                    seconds < budget + 0.2,
                    f"{shown} raised TimeoutError after {seconds * 1000:.0f} ms, "
                    f"{(seconds - budget) * 1000:.0f} ms past the budget: what did your function wait for "
                    "after the deadline?",
                )
        # 4. an ordinary call, silent until it answers, slower than the budget: TimeoutError at the budget too
        budget = round(random.uniform(0.4, 0.7), 2)
        late = random.randint(1500, 2000)
        for slow_at in (len(delays), random.randrange(len(delays))):  # last, then anywhere
            calls = [*delays[:slow_at], late, *delays[slow_at:]]
            urls, _ = _deadline_urls(base, calls)
            outcome, seconds = _run(answer, urls, budget)
            shown = f"fetch_all_by(<calls of {calls} ms>, budget={budget})"
            expect(
                isinstance(outcome, TimeoutError),
                f"{shown} returned after {seconds * 1000:.0f} ms instead of raising TimeoutError: "
                f"the {late} ms call answered after the budget",
            )
            expect(
                budget - 0.05 <= seconds < budget + 0.2,
                f"{shown} raised TimeoutError after {seconds * 1000:.0f} ms, not when the budget was spent: "
                "a call that sends nothing until it answers must not hold your function past the budget either",
            )
