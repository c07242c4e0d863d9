"""The worker processes the check of 11.worker_counters (``ch11``) runs: counting all at once, one of them
from several threads made to take turns anywhere in the answer's code, and workers killed mid-count."""

import multiprocessing
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from foundations.course.exercises import expect

WORKERS, COUNTS = 4, 1000
# The killed worker's count: a prime, drawn each run, so that an answer that saves every N counts (N > 1) has
# unsaved counts when that worker dies, whatever N it picked
KILLED_COUNTS = tuple(n for n in range(1001, 1100) if all(n % d for d in range(2, 34)))  # the primes
# The first two workers count from four threads each, as a server worker runs its handlers in threads.
THREADED, THREADS = 2, 4


def _take_turns(counters) -> None:
    """Let this thread's ``counters`` give way to the other threads between any two of its bytecodes, as a
    free-threaded Python may: CPython 3.11's GIL happens never to switch threads inside ``cells[i] += 1``,
    but the language does not promise it, so a count that needs a lock must fail without one."""
    files = {
        f.__code__.co_filename
        for c in type(counters).__mro__
        for f in vars(c).values()
        if hasattr(f, "__code__")
    }

    def step(frame, event, arg):
        if event == "opcode" and random.random() < 0.2:
            time.sleep(0)  # lets go of the GIL: another thread may run now
        return step

    def enter(frame, event, arg):  # the answer's own code only: its calls into the library run as usual
        if frame.f_code.co_filename not in files:
            return None
        frame.f_trace_opcodes = True
        return step

    sys.settrace(enter)


def _worker(make, folder, name, start, times: int, killed: bool, threads: int, failures) -> None:
    counters, failed = make(folder), []

    def counting(times: int) -> None:
        if threads > 1:
            _take_turns(counters)
        try:
            for _ in range(times):
                counters.count(name)
        except Exception as exc:  # noqa: BLE001 - the learner's count failed: told to the check, not lost
            failed.append(f"{type(exc).__name__}: {exc}")

    start.wait(30)  # every worker counts at the same time, as under load
    running = [threading.Thread(target=counting, args=(times // threads,)) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    if failed:
        failures.put(f"{failed[0]} (in a worker counting from {threads} thread{'s' * (threads > 1)})")
        os._exit(3)
    if killed:  # as a crashed or OOM-killed server worker: no atexit, no __del__, no flush
        os.kill(os.getpid(), signal.SIGKILL)


def run_workers(make, folder: Path, names: list[str], scrape: Callable[[], None], last: int) -> list[str]:
    """``make(folder).count(name)`` ``COUNTS`` times in each of ``len(names)`` processes at once (the first
    ``THREADED`` from ``THREADS`` threads each; the last ``last`` times, then killed) while this process
    calls ``scrape()`` over and over; what went wrong in the workers, if anything."""
    context = multiprocessing.get_context("fork")
    start, failures = context.Event(), context.SimpleQueue()
    final = len(names) - 1  # the one killed after its last count
    plans = [(COUNTS, False, THREADS if i < THREADED else 1) for i in range(final)] + [(last, True, 1)]
    workers = [
        context.Process(target=_worker, args=(make, folder, name, start, *plan, failures))
        for name, plan in zip(names, plans, strict=True)
    ]
    for worker in workers:
        worker.start()
    start.set()
    deadline = time.monotonic() + 120
    try:
        while any(worker.is_alive() for worker in workers) and time.monotonic() < deadline:
            scrape()  # as /debug/vars is polled under load
    except BaseException:
        for worker in workers:  # the scrape failed: no worker outlives the check
            worker.kill()
            worker.join()
        raise
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    problems = [] if failures.empty() else [f"a worker's count() failed: {failures.get()}"]
    exits = [worker.exitcode for worker in workers]
    if not problems and exits != [0] * (len(names) - 1) + [-signal.SIGKILL]:
        problems.append(f"a worker process failed (exit codes {exits}; the last one is killed on purpose)")
    return problems


# workers killed mid-load per run, each at a random moment: one kill may miss an answer's short unsafe window
KILLS = 10


def _count_until_killed(make, folder: Path, name: str, returned) -> None:
    counters = make(folder)
    while True:
        counters.count(name)
        returned.value += 1  # one more count has returned


def kill_mid_load(make, name: str) -> None:
    """Kill a worker at a random moment while it counts ``name``, ``KILLS`` times: no count that returned is
    lost."""
    context = multiprocessing.get_context("fork")
    for _ in range(KILLS):
        with tempfile.TemporaryDirectory(prefix="foundations-ch11-") as tmp:
            returned = context.Value("q", 0, lock=False)
            worker = context.Process(target=_count_until_killed, args=(make, Path(tmp), name, returned))
            worker.start()
            after, deadline = random.randint(5, 50), time.monotonic() + 60
            while returned.value < after and worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0)
            time.sleep(random.uniform(0, 0.002))  # then a random moment, mid-count or not
            worker.kill()
            worker.join()
            expect(
                worker.exitcode == -signal.SIGKILL, f"a worker's count() failed (exit code {worker.exitcode})"
            )
            done = returned.value
            try:
                says = saved = make(Path(tmp)).totals().get(name, 0)
            except Exception as exc:  # noqa: BLE001 - the learner's reader failed on what the worker left
                saved, says = None, f"nothing: its totals() raised {type(exc).__name__}: {exc}"
            expect(
                isinstance(saved, int) and done <= saved <= done + 1,
                f"a worker killed at a random moment while it counted {name!r} had returned from count() "
                f"{done} times; a new WorkerCounters on its folder says {says}, not {done} (or {done + 1}, "
                "if it was killed after saving a count but before count() returned). A worker may be killed "
                "in the middle of saving a count, and what it saved before must survive it",
            )
