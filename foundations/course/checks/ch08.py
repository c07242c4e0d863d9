"""Checks for the exercises of notebook 08 (MySQL: queries in parallel on a pool, how big a pool must be)."""

import contextlib
import heapq
import math
import random
import threading
import time
from collections.abc import Iterator
from numbers import Integral
from typing import Any

import pymysql

from foundations import config, mysqldb
from foundations.course.exercises import Wrong, exercise, expect


class _Watched(mysqldb.Pool):
    """A real pool that also counts the connections asked for, the times one was not there in time (``timeout``),
    the most that were out at the same time, and ``unused_s``: the connection-seconds, up to the last time the
    answer asked for one, that fewer than ``can`` connections were asked for and not yet given back. An answer
    whose free connection takes the next query at once leaves that near 0; one that lets it wait for a batch to
    finish does not, however fast or slow the machine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self.out = self.held = 0
        self.watch(0)

    def watch(self, can: int) -> None:
        """Count afresh, from now, for a call that can keep ``can`` connections busy."""
        with self._lock:
            self.asked = self.most = self.exhausted = 0
            self.can, self.idle_s, self.unused_s, self._since = can, 0.0, 0.0, time.perf_counter()

    def _hold(self, change: int) -> None:  # under the lock: a connection asked for (+1) or given back (-1)
        now = time.perf_counter()
        self.idle_s += max(0, self.can - self.held) * (now - self._since)
        self._since, self.held = now, self.held + change

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self._lock:
            self.asked += 1
            self._hold(+1)  # held from the ask (a checkout's wait and dial are the pool's) until given back
            self.unused_s = self.idle_s
        try:
            with super().connection() as conn:
                with self._lock:
                    self.out += 1
                    self.most = max(self.most, self.out)
                try:
                    yield conn
                finally:
                    with self._lock:
                        self.out -= 1
        except mysqldb.PoolExhausted:  # counted even when the answer catches it and asks again
            with self._lock:
                self.exhausted += 1
            raise
        finally:  # after the pool's own ROLLBACK on return
            with self._lock:
                self._hold(-1)


def _rows(result: Any) -> list[tuple] | None:
    """``result`` as a list of row tuples, ``None`` when it is not a list or tuple of rows (a cursor iterates
    its buffered rows once, and has no len())."""
    if not isinstance(result, list | tuple):
        return None
    try:
        return [tuple(row) for row in result]
    except TypeError:
        return None


def _query(n: int, seconds: float, rows: int) -> tuple[str, list[tuple]]:
    """A query that sleeps ``seconds`` and returns ``rows`` rows, and those rows: (n, 0), (n + 1, 0), ... (SLEEP
    returns 0 when it sleeps the whole time). Several rows, as many as the check draws, tell every row from the
    first (``[cur.fetchone()]``, or ``cur.fetchmany()``, whose ``arraysize`` is 1)."""
    more = "".join(f" UNION ALL SELECT {n + k}, 0" for k in range(1, rows))
    return f"SELECT {n} AS n, SLEEP({seconds}) AS slept{more}", [(n + k, 0) for k in range(rows)]


# fewer queries than connections, the longest first (so they finish in the reverse order); more queries than
# connections; one query; none; a long query first, so only a connection that takes the next query as soon as it
# is free keeps both busy; and a pool warmed only in part
POOLS = [  # (pool size, each query's sleep, connections opened before the answer runs)
    (3, [0.4, 0.3, 0.2], 3),  # all three at once if they start within 0.3 s: a loaded machine's threads do
    (2, [0.1, 0.1, 0.1, 0.1, 0.1], 2),
    (4, [0.05], 4),
    (2, [], 2),
    (2, [1.2] + [0.2] * 6, 2),  # batches leave a connection unused 1 s and take 1.8 s; taken when free, 1.2 s
    (3, [0.3] * 3, 1),  # one warm: the pool's size is not how many are idle (its timing tells nothing else)
]
# connection-seconds unused before the last query started: batches leave 1 or more, a right answer only its
# threads' hand-offs (0.025 at most measured here, all cases; a loaded machine adds a few ms each)
UNUSED_S = 0.4
# the wall time, a backstop: threads and round trips on a busy machine (a query's SLEEP is never shorter)
SLACK_S = 0.35
TIMEOUT = 0.05  # the check's pools fail fast: queries beyond the pool's size must wait in the answer
LIMIT_S = 5.0  # an answer that has not returned (or raised) by then hangs: the longest case takes about 1.2 s
SIZING_LIMIT_S = (
    60.0  # exercise 2: a simulation of 100,000 queries per size tried takes seconds, not a minute
)


def _within(seconds: float, call: Any, hang: str) -> Any:
    """``call()``'s result, or what it raised; ``Wrong(hang)`` if it is still running after ``seconds``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the check's own thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)  # daemon: a hung answer does not keep Python alive
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise Wrong(hang)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _waited(size: int, queries: int) -> Wrong:
    return Wrong(
        f"with a pool of {size} and {queries} queries, a query waited more than the pool's {TIMEOUT} s for a "
        "free connection: at one moment more queries asked for a connection than the pool has"
    )


def _from_mysql(exc: BaseException | None) -> bool:
    """Whether ``exc`` is the server's error, or wraps it (as its cause or context, or in a group)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, pymysql.err.MySQLError):
            return True
        if isinstance(exc, BaseExceptionGroup) and any(_from_mysql(e) for e in exc.exceptions):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@exercise("08.query_all")
def query_all(answer):
    expect(callable(answer), "expected a function query_all(pool, queries)")
    dsn = config.load(argv=[]).mysql_dsn
    for size, sleeps, warm in POOLS:
        numbers = random.sample(range(1000, 10_000), len(sleeps))  # not a value the notebook ever shows
        # 2 to 4 rows each, drawn afresh every run: none can be hard-coded, and none is only its first row
        made = [_query(n, s, random.randint(2, 4)) for n, s in zip(numbers, sleeps)]
        queries, wanted = [sql for sql, _ in made], [rows for _, rows in made]
        can = min(size, len(queries))  # the connections the answer can keep busy at once
        pool = _Watched(dsn, size=size, timeout=TIMEOUT)
        try:
            pool.warm_up(warm)
            pool.watch(can)
            start = time.perf_counter()
            try:
                got = _within(
                    LIMIT_S,
                    lambda: answer(pool, list(queries)),  # noqa: B023 - called before the loop moves on
                    f"query_all(pool, <{len(queries)} queries>) on a pool of {size} had not returned after "
                    f"{LIMIT_S:.0f} s, where the queries take about {_busy_connections_s(size, sleeps):.2f} s",
                )
            except mysqldb.PoolExhausted:
                raise _waited(size, len(queries)) from None
            seconds = time.perf_counter() - start
            left = pool.status()["checked_out"]
        finally:
            pool.close()
        expect(
            isinstance(got, list | tuple) and len(got) == len(queries),
            f"query_all(pool, <{len(queries)} queries>) returned {got!r}: expected one result per query, "
            "in a list",
        )
        results = [_rows(result) for result in got]
        expect(
            all(rows is not None for rows in results),
            f"query_all returned {got!r}: each result should be the rows of its query, a list or tuple of rows "
            "(cur.fetchall(), not the cursor)",
        )
        if results != wanted and sorted(map(repr, results)) == sorted(map(repr, wanted)):
            raise Wrong(
                "every query's rows are there, but not in the order of `queries`: result i must be the "
                "rows of queries[i] (the check's queries finish in another order than they start)"
            )
        for sql, rows, want in zip(queries, results, wanted):
            expect(rows == want, f"the result for `{sql}` is {rows!r}; the server returns {want!r}")
        expect(
            left == 0,
            f"{left} of the pool's connections were still checked out after query_all returned: give each "
            "one back, or the pool runs dry",
        )
        if not queries:
            continue
        expect(
            pool.asked > 0,
            "your answer never took a connection from `pool`: the queries should run on the pool's connections",
        )
        expect(
            pool.exhausted == 0,
            f"{pool.exhausted} time(s) a query waited more than the pool's {TIMEOUT} s for a connection, and your "
            "answer asked again: queries beyond the pool's size must wait in your answer (for a connection "
            "that comes free), not retry the pool",
        )
        expect(
            pool.most >= can,
            f"with a pool of {size} and {len(queries)} queries, at most {pool.most} connection(s) were in use "
            "at once: the queries waited for one another instead of running at the same time (a busy machine? "
            "run the check again)",
        )
        expect(
            pool.unused_s < UNUSED_S,
            f"{len(queries)} queries on {size} connections: before the last one started, fewer than {can} "
            f"connections were in use for {pool.unused_s:.2f} connection-seconds, while queries waited to start: "
            "a free connection waited for others (each should take the next query as soon as it is free, not wait "
            "for a batch to finish; a busy machine? run the check again)",
        )
        if warm < can:  # the answer opens connections: what they cost a loaded machine would blur the timing
            continue
        busy = _busy_connections_s(size, sleeps)
        expect(
            seconds < busy + SLACK_S,
            f"{len(queries)} queries took {seconds:.2f} s on {size} connections, where connections that are "
            f"never idle while a query waits take about {busy:.2f} s: a free connection waited for others "
            "(a busy machine? run the check again)",
        )
    _one_query_fails(answer, dsn)


def _one_query_fails(answer: Any, dsn: str) -> None:
    """A query on a table that does not exist, first, while two others sleep: the server's error must reach the
    caller, and only once every connection is back in the pool."""
    n = random.randint(1000, 9999)
    bad = f"SELECT {n} AS n FROM no_such_table_{n}"
    queries = [
        bad,
        _query(n + 10, 0.3, random.randint(2, 4))[0],
        _query(n + 20, 0.1, random.randint(2, 4))[0],
    ]
    pool = _Watched(dsn, size=2, timeout=TIMEOUT)
    left: list[int] = []

    def attempt() -> Any:
        try:
            return answer(pool, list(queries))
        except Exception:
            left.append(pool.status()["checked_out"])  # when the error reached the caller
            raise

    try:
        pool.warm_up(2)
        got = _within(
            LIMIT_S,
            attempt,
            f"query_all(pool, <3 queries>) had not returned or raised after {LIMIT_S:.0f} s, where the queries "
            f"take about 0.3 s; one of them, `{bad}`, fails: does your answer wait for a result that never comes?",
        )
    except mysqldb.PoolExhausted:
        raise _waited(2, len(queries)) from None
    except Exception as exc:
        if not _from_mysql(exc):
            raise
    else:
        raise Wrong(
            f"one of the queries, `{bad}`, fails (the table does not exist), and query_all returned {got!r}: "
            "its error should reach the caller of query_all, not read as a result"
        )
    finally:
        pool.close()
    expect(
        left == [0],
        f"{left[0] if left else '?'} of the pool's connections were still checked out when query_all raised the "
        f"error of `{bad}`: the other queries were still running on them",
    )


def _busy_connections_s(size: int, sleeps: list[float]) -> float:
    """When the last query ends if each connection, once free, takes the next query of the list."""
    free_at = [0.0] * size
    for seconds in sleeps:
        free_at[free_at.index(min(free_at))] += seconds
    return max(free_at)


# (rate, query_ms, max_wait_ms): a pool of one, small and large pools, and waits short and long; each wait allowed
# lies at least 1.3x from the waits of the right size and of one less, so that two simulations agree on the answer
CASES = [
    (180, 20, 2.0),
    (180, 20, 10.0),
    (30, 20, 20.0),
    (400, 10, 0.5),
    (1000, 20, 1.2),
    (90, 50, 12.0),
]
_TOLERANCE = 1.25  # the check's simulation and yours are both random: far apart at high load, allowed for


def _mean_wait_ms(
    rate: float, query_ms: float, connections: int, queries: int = 60_000, seed: int = 2008
) -> float:
    """The check's own simulation: queries arriving at random at ``rate`` a second, each holding one of
    ``connections`` for ``query_ms``, first come first served: the mean wait for a free connection."""
    if connections * 1000 / query_ms <= rate:
        return math.inf  # busier than the pool can ever be: the queue grows without end
    rng, total, now = random.Random(seed), 0.0, 0.0
    free_at = [0.0] * connections
    for _ in range(queries):
        now += rng.expovariate(rate / 1000)
        start = max(now, heapq.heappop(free_at))
        heapq.heappush(free_at, start + query_ms)
        total += start - now
    return total / queries


@exercise("08.connections_needed")
def connections_needed(answer):
    expect(
        callable(answer),
        "expected a function connections_needed(requests_per_second, query_ms, max_wait_ms)",
    )
    # none of them in the text, each with a clear answer: the wait allowed lies well between two sizes, and one
    # connection less is at most 90 % busy (closer to full, two simulations of the same pool disagree widely)
    fresh: list[tuple[int, int, float]] = []
    while len(fresh) < 4:
        query_ms = random.randint(5, 100)
        rate = random.randint(10, 30 * 1000 // query_ms)  # up to 30 connections busy at once
        size = math.floor(rate * query_ms / 1000) + random.randint(2, 4)
        if rate * query_ms / 1000 > 0.9 * (size - 1):
            continue
        more, enough = _mean_wait_ms(rate, query_ms, size - 1), _mean_wait_ms(rate, query_ms, size)
        if enough > 0.01 and more > 1.8 * enough:
            fresh.append((rate, query_ms, float(f"{math.sqrt(more * enough):.2g}")))
    for rate, query_ms, max_wait_ms in CASES + fresh:
        shown = f"connections_needed({rate}, {query_ms}, {max_wait_ms})"
        got = _within(
            SIZING_LIMIT_S,
            lambda: answer(rate, query_ms, max_wait_ms),  # noqa: B023 - called at once, inside this iteration
            f"{shown} had not returned after {SIZING_LIMIT_S:.0f} s: does your loop stop? A pool whose "
            "connections are each more than 100 % busy never gets its wait down: is the utilisation you "
            "simulate the load per connection? (Its loop may still run: restart the kernel.)",
        )
        expect(
            isinstance(got, Integral) and not isinstance(got, bool),  # NumPy's integers are Integral
            f"{shown} returned {got!r}: a pool holds a whole number of connections (an int)",
        )
        got = int(got)
        expect(got >= 1, f"{shown} returned {got}: a pool needs at least one connection")
        busy = rate * query_ms / 1000
        expect(
            got > busy,
            f"{shown} returned {got}: {got} connections cannot keep up with {rate} queries a second of "
            f"{query_ms} ms: the queue grows without end",
        )
        expect(
            got <= 10 * busy + 10,
            f"{shown} returned {got}: far more connections than queries in progress at once",
        )
        wait = _mean_wait_ms(rate, query_ms, got)
        expect(
            wait <= max_wait_ms * _TOLERANCE,
            f"{shown} returned {got}: with {got} connections, queries arriving at random wait {wait:.2f} ms "
            f"on average, more than {max_wait_ms} ms",
        )
        fewer = _mean_wait_ms(rate, query_ms, got - 1) if got > 1 else math.inf
        expect(
            fewer > max_wait_ms / _TOLERANCE,
            f"{shown} returned {got}: a smaller pool already keeps the mean wait within {max_wait_ms} ms, "
            "and every connection more costs the server memory (the smallest such pool, please)",
        )
