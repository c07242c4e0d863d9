"""Chapter 8's exercise checks reject plausible wrong answers, each with a message that helps."""

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from foundations import mysqldb
from foundations.course import exercises


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


def first_row_only(pool, queries):  # fetchone: a row, not the rows
    def one(sql):
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()

    with ThreadPoolExecutor(pool.status()["size"]) as threads:
        return list(threads.map(one, queries))


def sleeps_skipped(pool, queries):  # the numbers parsed from the SQL, nothing run: fast and wrong
    return [[(int(sql.split()[1]), 0)] for sql in queries]


def one_connection(pool, queries):  # the threads share one connection: the server runs them one at a time
    lock = threading.Lock()
    with pool.connection() as conn:

        def shared(sql):
            with lock, conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        with ThreadPoolExecutor(pool.status()["size"]) as threads:
            return list(threads.map(shared, queries))


@pytest.mark.parametrize(
    "answer, message",
    [
        (one_by_one, "at most 1 connection(s) were in use at once"),
        (two_threads, "at most 2 connection(s) were in use at once"),
        (thread_per_query, "more queries asked for a connection than the pool has"),
        (first_done_first, "not in the order of `queries`"),
        (own_pool, "never took a connection from `pool`"),
        (keeps_connections, "still checked out after query_all returned"),
        (first_row_only, "should be the rows of its query"),
        (lambda pool, queries: [[(1234, 0)]] * len(queries), "the server returns"),  # made-up rows
        (sleeps_skipped, "never took a connection from `pool`"),
        (one_connection, "at most 1 connection(s) were in use at once"),
    ],
    ids=[
        "sequential",
        "two-threads",
        "thread-per-query",
        "as-completed",
        "own-pool",
        "leak",
        "fetchone",
        "hard-coded",
        "parsed",
        "one-connection",
    ],
)
def test_query_all_rejects(answer, message):
    verdict = exercises.verdict("08.query_all", answer)
    while HELD:  # what keeps_connections kept, given back now rather than at exit
        HELD.pop().__exit__(None, None, None)
    assert verdict is not None and message in verdict, verdict


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda rate, ms, u=0.8: math.ceil(rate / 50 / u), "cannot keep up"),  # written for the chart's 20 ms
        (
            lambda rate, ms, u=0.8: 3 * os.cpu_count(),
            "connections_needed(",
        ),  # the book's rule for computing queries
        (lambda rate, ms, u=0.8: round(rate * ms / 1000 / u), "cannot keep up"),
        (lambda rate, ms, u=0.8: int(rate * ms / 1000 / u), "cannot keep up"),
        (lambda rate, ms, u=0.8: math.ceil(rate * ms / u), "would already be busy"),  # ms taken for seconds
        (lambda rate, ms, u=0.8: rate * ms / 1000 / u, "a whole number of connections"),
        (
            lambda rate, ms, u=0.8: math.ceil(rate * ms / 1000),
            "cannot keep up",
        ),  # ignores utilisation: runs full
        (lambda rate, ms, u=1.0: math.ceil(rate * ms / 1000 / u), "cannot keep up"),  # full by default
        (
            lambda rate, ms, u=0.8: math.ceil(rate * ms / 1000 * u),
            "cannot keep up",
        ),  # multiplies: busier still
        (
            lambda rate, ms, u=0.8: math.ceil(rate * ms / 1000) + 1,
            "connections_needed(",
        ),  # a fixed "headroom"
        (
            lambda rate, ms, u=0.8: math.ceil(1.25 * rate * ms / 1000),
            "connections_needed(180, 20, 1.0)",
        ),  # 80 % always
        (
            lambda rate, ms, u=0.8: {(180, 20): 5}.get((rate, ms), 1),
            "connections_needed(180, 20, 1.0)",
        ),  # the text's example
        (
            lambda rate, ms, u=0.8: max(1, math.ceil(rate * 20 / 1000 / u)),
            "connections_needed(",
        ),  # ignores query_ms
        (
            lambda rate, ms: math.ceil(rate * ms / 1000 / 0.8),
            "your answer raised TypeError",
        ),  # no utilisation
    ],
    ids=[
        "per-20ms",
        "cpus",
        "round",
        "floor",
        "ms-as-s",
        "float",
        "ignores-utilisation",
        "full-default",
        "multiplies",
        "plus-one",
        "fixed-80",
        "example",
        "fixed-ms",
        "two-arguments",
    ],
)
def test_connections_needed_rejects(answer, message):
    verdict = exercises.verdict("08.connections_needed", answer)
    assert verdict is not None and message in verdict, verdict
