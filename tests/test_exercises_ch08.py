"""Chapter 8's exercise checks reject plausible wrong answers, each with a message that helps."""

import functools
import heapq
import math
import os
import queue
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from foundations import mysqldb
from foundations.course import exercises
from foundations.course.checks import ch08


def run(pool, sql):
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def one_by_one(pool, queries):  # right results, no parallelism
    return [run(pool, sql) for sql in queries]


def two_threads(pool, queries):  # the notebook's two sleeps: ignores the pool's size
    with ThreadPoolExecutor(2) as threads:
        return list(threads.map(lambda sql: run(pool, sql), queries))


def thread_per_query(pool, queries):  # more callers than connections: they queue in the pool
    with ThreadPoolExecutor(max(1, len(queries))) as threads:
        return list(threads.map(lambda sql: run(pool, sql), queries))


def retries_the_pool(pool, queries):  # a thread per query; one that finds the pool busy asks again
    def until_served(sql):
        while True:
            try:
                return run(pool, sql)
            except mysqldb.PoolExhausted:
                continue

    with ThreadPoolExecutor(max(1, len(queries))) as threads:
        return list(threads.map(until_served, queries))


def queue_worker(pool, todo, results, lock):
    """The book's worker: hold one connection, run queries off the shared list until it is empty."""

    def worker():
        with pool.connection() as conn, conn.cursor() as cur:
            while True:
                with lock:
                    if not todo:
                        return
                    i, sql = todo.pop(0)
                cur.execute(sql)
                results[i] = cur.fetchall()

    return worker


def workers_holding_one_connection_each(pool, queries):  # the book's shape: `size` workers, one queue
    size, todo, results = pool.status()["size"], list(enumerate(queries)), [None] * len(queries)
    worker = queue_worker(pool, todo, results, threading.Lock())
    with ThreadPoolExecutor(size) as threads:
        for future in [threads.submit(worker) for _ in range(size)]:
            future.result()
    return results


def first_done_first(pool, queries):  # results in the order they finish
    with ThreadPoolExecutor(pool.status()["size"]) as threads:
        futures = [threads.submit(run, pool, sql) for sql in queries]
        return [f.result() for f in as_completed(futures)]


def own_pool(pool, queries):  # a pool of its own, as large as the batch: ignores `pool`
    mine = mysqldb.Pool(pool.dsn, size=max(1, len(queries)))
    try:
        return thread_per_query(mine, queries)
    finally:
        mine.close()


HELD = []  # where keeps_connections keeps its connections


def keeps_connections(pool, queries):  # takes connections, never gives them back
    def leak(sql):
        HELD.append(pool.connection())
        cur = HELD[-1].__enter__().cursor()
        cur.execute(sql)
        return cur.fetchall()

    with ThreadPoolExecutor(pool.status()["size"]) as threads:
        return list(threads.map(leak, queries))


def _each_pooled(read):
    """A wrong answer that does the threads and the pool right, and returns ``read(cursor)`` for each query."""

    def answer(pool, queries):
        def one(sql):
            with pool.connection() as conn, conn.cursor() as cur:
                cur.execute(sql)
                return read(cur)

        with ThreadPoolExecutor(pool.status()["size"]) as threads:
            return list(threads.map(one, queries))

    return answer


first_row_only = _each_pooled(lambda cur: cur.fetchone())  # a row, not the rows
the_cursors = _each_pooled(
    lambda cur: cur
)  # the cursor, not its rows: a buffered cursor still iterates them once
first_row_in_a_list = _each_pooled(lambda cur: [cur.fetchone()])  # the shape of the rows, but only the first
fetchmany_unsized = _each_pooled(lambda cur: cur.fetchmany())  # `arraysize` rows, and PyMySQL's is 1


def sleeps_skipped(pool, queries):  # every row's numbers parsed from the SQL, nothing run: fast and wrong
    return [[(int(n), 0) for n in re.findall(r"SELECT (\d+)", sql)] for sql in queries]


def one_connection(pool, queries):  # the threads share one connection: the server runs them one at a time
    lock = threading.Lock()
    with pool.connection() as conn:

        def shared(sql):
            with lock, conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        with ThreadPoolExecutor(pool.status()["size"]) as threads:
            return list(threads.map(shared, queries))


def in_batches(pool, queries):  # `size` at a time, the next batch only when the whole batch is done
    size = pool.status()["size"]
    with ThreadPoolExecutor(size) as threads:
        return [
            rows
            for i in range(0, len(queries), size)
            for rows in threads.map(lambda sql: run(pool, sql), queries[i : i + size])
        ]


def first_batch_then_serial(pool, queries):  # the first `size` at once, the rest one after the other
    size = pool.status()["size"]
    with ThreadPoolExecutor(size) as threads:
        first = list(threads.map(lambda sql: run(pool, sql), queries[:size]))
    return first + [run(pool, sql) for sql in queries[size:]]


def idle_not_size(pool, queries):  # as many threads as connections are idle now: none on a cold pool
    with ThreadPoolExecutor(max(1, pool.status()["idle"])) as threads:
        return list(threads.map(lambda sql: run(pool, sql), queries))


def swallows_errors(pool, queries):  # a failing query reads as no rows
    def quiet(sql):
        try:
            return run(pool, sql)
        except Exception:  # noqa: BLE001 - the half-solution under test
            return []

    with ThreadPoolExecutor(pool.status()["size"]) as threads:
        return list(threads.map(quiet, queries))


def workers_die_quietly(pool, queries):  # plain threads: one that fails leaves None in its slots
    todo, results = list(enumerate(queries)), [None] * len(queries)
    worker = queue_worker(pool, todo, results, threading.Lock())
    workers = [threading.Thread(target=worker) for _ in range(pool.status()["size"])]
    for worker_thread in workers:
        worker_thread.start()
    for worker_thread in workers:
        worker_thread.join()
    return results


def waits_for_every_query(pool, queries):  # a queue joined until each query is done: a failed one never is
    todo, results = queue.Queue(), [None] * len(queries)
    for item in enumerate(queries):
        todo.put(item)

    def worker():
        with pool.connection() as conn, conn.cursor() as cur:
            while True:
                try:
                    i, sql = todo.get_nowait()
                except queue.Empty:
                    return
                cur.execute(sql)
                results[i] = cur.fetchall()
                todo.task_done()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(pool.status()["size"])]
    for worker_thread in workers:
        worker_thread.start()
    todo.join()
    for worker_thread in workers:
        worker_thread.join()
    return results


def raises_before_the_others_end(pool, queries):  # the first error goes up, the other queries still running
    threads = ThreadPoolExecutor(pool.status()["size"])
    futures = [threads.submit(run, pool, sql) for sql in queries]
    try:
        return [future.result() for future in futures]
    finally:
        threads.shutdown(wait=False)


@pytest.mark.parametrize(
    "answer, message",
    [
        (swallows_errors, "its error should reach"),
        (workers_die_quietly, "its error should reach"),
        (waits_for_every_query, "had not returned or raised"),
        (raises_before_the_others_end, "still checked out when query_all raised"),
        (one_by_one, "at most 1 connection(s) were in use at once"),
        (two_threads, "at most 2 connection(s) were in use at once"),
        (thread_per_query, "more queries asked for a connection than the pool has"),
        (first_done_first, "not in the order of `queries`"),
        (own_pool, "never took a connection from `pool`"),
        (keeps_connections, "still checked out after query_all returned"),
        (first_row_only, "should be the rows of its query"),
        (the_cursors, "cur.fetchall(), not the cursor"),
        (first_row_in_a_list, "the server returns"),
        (fetchmany_unsized, "the server returns"),
        (lambda pool, queries: [[(1234, 0)]] * len(queries), "the server returns"),  # made-up rows
        (sleeps_skipped, "never took a connection from `pool`"),
        (one_connection, "at most 1 connection(s) were in use at once"),
        (in_batches, "a free connection waited for others"),
        (first_batch_then_serial, "a free connection waited for others"),
        (retries_the_pool, "not retry the pool"),
        (idle_not_size, "at most 1 connection(s) were in use at once"),
    ],
    ids=[
        "swallows-errors",
        "workers-die-quietly",
        "waits-for-every-query",
        "raises-before-the-others-end",
        "sequential",
        "two-threads",
        "thread-per-query",
        "as-completed",
        "own-pool",
        "leak",
        "fetchone",
        "the-cursors",
        "fetchone-in-a-list",
        "fetchmany",
        "hard-coded",
        "parsed",
        "one-connection",
        "in-batches",
        "first-batch-then-serial",
        "retries-the-pool",
        "idle-not-size",
    ],
)
# the half-solutions' plain threads report their queries' errors on their own: expected here
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_query_all_rejects(answer, message):
    verdict = exercises.verdict("08.query_all", answer)
    while HELD:  # what keeps_connections kept, given back now rather than at exit
        HELD.pop().__exit__(None, None, None)
    assert verdict is not None and message in verdict, verdict


def separate_queues(rate, ms, max_wait_ms):  # c pools of one, each with its share of the queries (M/D/1 each)
    connections = math.floor(rate * ms / 1000) + 1
    while True:
        rho = rate * ms / 1000 / connections
        if rho / (2 * (1 - rho)) * ms <= max_wait_ms:
            return connections
        connections += 1


def unscaled_simulation(rate, ms, max_wait_ms):
    # the notebook's simulation, its utilisation not per connection
    from foundations.course.checks.ch08 import _mean_wait_ms

    connections = 1
    while _mean_wait_ms(rate / connections, ms, connections) > max_wait_ms:
        connections += 1
    return connections


def notebook_simulate(utilisation, connections=1, query_ms=20.0, queries=100_000, seed=8):
    """The notebook's ``simulate``, copied unchanged: its queries last 20 ms unless told otherwise."""
    rng, total, waited, now = random.Random(seed), 0.0, 0, 0.0
    free_at = [0.0] * connections
    for _ in range(queries):
        now += rng.expovariate(utilisation * connections / query_ms)
        start = max(now, heapq.heappop(free_at))
        heapq.heappush(free_at, start + query_ms)
        total += start - now
        waited += start > now
    return total / queries, waited / queries


def notebooks_mean_wait_as_is(rate, ms, max_wait_ms):
    """The most likely wrong answer: the notebook's ``mean_wait_ms(utilisation, connections)`` used unchanged,
    each connection's share of the load right, but its queries still 20 ms long whatever ``ms`` is given."""

    def mean_wait_ms(utilisation, connections=1):
        return notebook_simulate(utilisation, connections)[0]

    busy = rate * ms / 1000
    connections = math.floor(busy) + 1
    while mean_wait_ms(busy / connections, connections) > max_wait_ms:
        connections += 1
    return connections


def test_connections_needed_rejects_the_notebooks_simulation_as_is():
    """Right whenever queries last 20 ms, as in the notebook: the check's fixed cases (tried before its random
    ones) hold other durations that refuse it on every run, whatever the random cases drawn."""
    from foundations.course.checks.ch08 import CASES

    verdict = exercises.verdict("08.connections_needed", notebooks_mean_wait_as_is)
    assert verdict is not None, "the notebook's 20 ms simulation, unchanged, passed the check"
    assert any(f"connections_needed({r}, {ms}, {w}) returned" in verdict for r, ms, w in CASES), verdict


def erlang_c(rate, ms, max_wait_ms):  # M/M/c: exponential query times, longer waits than fixed ones
    busy = rate * ms / 1000
    connections = math.floor(busy) + 1
    while True:
        below = sum(busy**k / math.factorial(k) for k in range(connections))
        top = busy**connections / math.factorial(connections) * connections / (connections - busy)
        waits = top / (below + top)  # Erlang C: the chance that a query finds every connection busy
        if waits * ms / (connections - busy) <= max_wait_ms:
            return connections
        connections += 1


@pytest.mark.parametrize(
    "answer, message",
    [
        # 80 % busy, every size
        (lambda rate, ms, w: math.ceil(rate * ms / 1000 / 0.8), "connections_needed("),
        # a fixed headroom
        (lambda rate, ms, w: math.ceil(rate * ms / 1000) + 1, "connections_needed("),
        # runs nearly full
        (lambda rate, ms, w: math.ceil(rate * ms / 1000), "on average, more than"),
        # 70 %: too many
        (lambda rate, ms, w: math.ceil(rate * ms / 1000 / 0.7), "a smaller pool already keeps the mean wait"),
        # the book's rule for computing queries
        (lambda rate, ms, w: 3 * os.cpu_count(), "connections_needed("),
        # ms taken for seconds
        (lambda rate, ms, w: math.ceil(rate * ms), "far more connections"),
        (lambda rate, ms, w: rate * ms / 1000 / 0.8, "a whole number of connections"),
        # fewer than are busy
        (lambda rate, ms, w: math.floor(rate * ms / 1000), "cannot keep up"),
        # one queue per connection waits longer than one shared
        (separate_queues, "a smaller pool already keeps the mean wait"),
        (unscaled_simulation, "connections_needed("),
        # the textbook formula for random query times: too many for fixed ones
        (erlang_c, "a smaller pool already keeps the mean wait"),
        # no max wait
        (lambda rate, ms: math.ceil(rate * ms / 1000 / 0.8), "your answer raised TypeError"),
    ],
    ids=[
        "eighty-percent",
        "plus-one",
        "full",
        "seventy-percent",
        "cpus",
        "ms-as-s",
        "float",
        "floor",
        "separate-queues",
        "unscaled-simulation",
        "erlang-c",
        "two-arguments",
    ],
)
def test_connections_needed_rejects(answer, message):
    verdict = exercises.verdict("08.connections_needed", answer)
    assert verdict is not None and message in verdict, verdict


def test_connections_needed_that_never_returns_is_told_not_waited_for_forever(monkeypatch):
    """A loop that never stops (each connection over 100 % busy, say) gets a message, not a hung cell."""
    monkeypatch.setattr(ch08, "SIZING_LIMIT_S", 0.5)
    stop = threading.Event()

    def never_returns(rate, query_ms, max_wait_ms):
        stop.wait()  # the notebook's loop, for a pool that never gets its wait down
        return 1

    try:
        verdict = exercises.verdict("08.connections_needed", never_returns)
    finally:
        stop.set()
    assert verdict is not None and "had not returned after 0 s: does your loop stop?" in verdict, verdict


def test_query_all_accepts_workers_that_each_hold_a_connection():
    """More workers than queries ask the pool more often than there are queries, and wait for nothing."""
    assert exercises.verdict("08.query_all", workers_holding_one_connection_each) is None


def smallest_pool(rate, ms, max_wait_ms, mean_wait_ms):
    """The fewest connections whose ``mean_wait_ms(rate, ms, connections)`` is within ``max_wait_ms``."""
    connections = math.floor(rate * ms / 1000) + 1  # fewer can never keep up
    while mean_wait_ms(rate, ms, connections) > max_wait_ms:
        connections += 1
    return connections


def simulation_of_its_own(queries, seed):
    """A right answer: the notebook's simulation (the check's, with another run length and seed)."""
    from foundations.course.checks.ch08 import _mean_wait_ms

    return lambda rate, ms, max_wait_ms: smallest_pool(
        rate, ms, max_wait_ms, functools.partial(_mean_wait_ms, queries=queries, seed=seed)
    )


@pytest.mark.parametrize(
    "queries, seed", [(100_000, 8), (50_000, 1), (20_000, 4)], ids=["notebook-run", "half", "fifth"]
)
def test_connections_needed_accepts_simulations_of_other_lengths_and_seeds(queries, seed):
    """The check's tolerance lets through a right answer whose simulation is not the check's own."""
    assert exercises.verdict("08.connections_needed", simulation_of_its_own(queries, seed)) is None


def test_connections_needed_accepts_a_numpy_integer():
    """A right answer that picks its size with NumPy (``np.argmax(...) + 1``) returns a NumPy integer: a whole
    number of connections, accepted like an int."""
    import numpy as np

    right = simulation_of_its_own(50_000, 1)
    verdict = exercises.verdict("08.connections_needed", lambda r, ms, w: np.int64(right(r, ms, w)))
    assert verdict is None, verdict


def test_every_fixed_case_has_a_clear_answer():
    """Each wait allowed lies at least 1.3x from the waits of the right size and of one less (the check's
    simulation): wider than its tolerance, so two simulations cannot disagree on the answer."""
    from foundations.course.checks.ch08 import _TOLERANCE, CASES, _mean_wait_ms

    for rate, ms, max_wait_ms in CASES:
        size = smallest_pool(rate, ms, max_wait_ms, _mean_wait_ms)
        fewer = _mean_wait_ms(rate, ms, size - 1) if size > 1 else math.inf
        assert max_wait_ms / _mean_wait_ms(rate, ms, size) >= 1.3 > _TOLERANCE, (rate, ms, max_wait_ms)
        assert fewer / max_wait_ms >= 1.3, (rate, ms, max_wait_ms)


def slow_server(
    pool, queries
):  # the model answer, each query 30 ms slower after its checkout: a busy shared server
    def run_slowly(sql):
        with pool.connection() as conn, conn.cursor() as cur:
            time.sleep(0.03)  # the round trips of a server that other participants keep busy
            cur.execute(sql)
            return cur.fetchall()

    with ThreadPoolExecutor(pool.status()["size"]) as threads:
        return list(threads.map(run_slowly, queries))


def test_query_all_accepts_a_right_answer_on_a_busy_server():
    """A workshop's shared MariaDB, busy with other participants' sweeps, slows every round trip: a right answer
    that runs each query 30 ms late still passes (the deciding case had 0.15 s of slack for 6 queries in a row)."""
    assert exercises.verdict("08.query_all", slow_server) is None


def test_query_all_rejects_batches_by_the_idle_connection_not_the_clock(monkeypatch):
    """The check sees a free connection wait for a batch in the pool itself, not only in the wall time: with the
    wall time's slack out of the way, batches are still refused."""
    monkeypatch.setattr(ch08, "SLACK_S", 10.0)
    for answer in (in_batches, first_batch_then_serial):
        verdict = exercises.verdict("08.query_all", answer)
        assert verdict is not None and "connection-seconds" in verdict, verdict
