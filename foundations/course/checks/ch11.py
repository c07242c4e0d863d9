"""Checks for the exercises of notebook 11 (running your API in production: configuration, counters across worker processes)."""

import multiprocessing
import os
import random
import signal
import tempfile
from pathlib import Path

from foundations.course.exercises import exercise, expect


@exercise("11.resolve")
def resolve(answer):
    expect(callable(answer), "expected a function resolve(name, default, flags, environ, file)")
    port = random.randint(1024, 9999)  # fresh every time, so no answer can be written for one value

    def case(name, flags, environ, file, want, situation):
        got = answer(name, "default-value", flags, environ, file)
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"expected a tuple (value, source), got {got!r}",
        )
        expect(got == want, f"{situation}: got {got!r}")

    env = {"FOUNDATIONS_PORT": str(port), "PORT": "80", "HOME": "/root"}
    case("port", {"port": "81"}, env, {"port": 9000}, ("81", "flag"), "a flag, a variable and a file")
    case("port", {}, env, {"port": 9000}, (str(port), "env"), "a prefixed variable and a file")
    case("port", {}, {"PORT": "80"}, {"port": 9000}, (9000, "file"), "an unprefixed PORT and a file")
    case("port", {}, {"PORT": "80"}, {}, ("default-value", "default"), "only an unprefixed PORT")
    case(
        "redis_url",
        {"port": "81"},
        {"FOUNDATIONS_REDIS_URL": f"redis://127.0.0.1:{port}/0"},
        {"redis_url": "redis://file:6379/0"},
        (f"redis://127.0.0.1:{port}/0", "env"),
        "redis_url, with a flag for another setting and FOUNDATIONS_REDIS_URL set",
    )
    case(
        "access_log",
        {},
        {},
        {"access_log": False},
        (False, "file"),
        "the file says access_log = false",
    )
    case("workers", {"workers": 0}, {"FOUNDATIONS_WORKERS": "4"}, {}, (0, "flag"), "the flag --workers=0")
    case(
        "port",
        {},
        {"FOUNDATIONS_PORT": ""},
        {"port": 9000},
        ("", "env"),
        "FOUNDATIONS_PORT= (empty) and a file",
    )


WORKERS, COUNTS = 4, 1000


def _worker(make, folder, name, start, killed: bool) -> None:
    counters = make(folder)
    start.wait(30)  # every worker counts at the same time, as under load
    for _ in range(COUNTS):
        counters.count(name)
    if killed:  # as a crashed or OOM-killed server worker: no atexit, no __del__, no flush
        os.kill(os.getpid(), signal.SIGKILL)


def _run_workers(make, folder: Path, names: list[str]) -> list[int | None]:
    """``make(folder).count(name)`` ``COUNTS`` times in each of ``len(names)`` processes at once, the last one
    killed after its last count; exit codes."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [
        context.Process(target=_worker, args=(make, folder, name, start, i == len(names) - 1))
        for i, name in enumerate(names)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
    return [worker.exitcode for worker in workers]


@exercise("11.worker_counters")
def worker_counters(answer):
    expect(callable(answer), "expected a class WorkerCounters(folder) with count(name) and totals()")
    with tempfile.TemporaryDirectory(prefix="foundations-ch11-") as tmp:
        folder = Path(tmp)
        exits = _run_workers(answer, folder, ["hits"] * WORKERS)
        expect(
            exits == [0] * (WORKERS - 1) + [-signal.SIGKILL],
            f"a worker process failed (exit codes {exits}; the last one is killed on purpose): try it in "
            "one process first",
        )
        totals = answer(folder).totals()
        expect(isinstance(totals, dict), f"totals() should return a dict {{name: count}}, got {totals!r}")
        got = totals.get("hits", 0)
        expect(
            got == WORKERS * COUNTS,
            f"{WORKERS} worker processes each counted 'hits' {COUNTS} times and have exited (one killed "
            f"after its last count, as a crashed worker is); a new "
            f"WorkerCounters on the same folder says {got}, not {WORKERS * COUNTS}"
            + (
                ": counts were lost on the way (two workers that read the same value and write it back "
                "+1 count once)"
                if 0 < got < WORKERS * COUNTS
                else ""
            ),
        )
        extra = random.randint(3, 9)
        busy = answer(folder)
        for _ in range(extra):
            busy.count("misses")
        totals = answer(folder).totals()
        expect(
            totals.get("misses") == extra and totals.get("hits") == WORKERS * COUNTS,
            f"after another {extra} counts of 'misses' in this process, totals() gave {totals!r}: every name "
            "counts apart, and what the exited workers counted stays",
        )
        expect(
            busy.totals() == totals,
            "the worker that counted and a fresh reader disagree: either one may answer a scrape",
        )
