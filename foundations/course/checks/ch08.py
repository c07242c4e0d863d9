"""Checks for the exercises of notebook 08 (MySQL: typed rows, parallel queries on a pool)."""

import contextlib
import dataclasses
import time

from foundations import config, mysqldb
from foundations.course.exercises import exercise, expect


@exercise("08.setting")
def setting(answer):
    expect(
        dataclasses.is_dataclass(answer) and isinstance(answer, type),
        "expected a dataclass (a class decorated with @dataclass), not an instance",
    )
    cfg = config.load(argv=[])
    with contextlib.closing(mysqldb.connect(cfg.mysql_dsn)) as conn:
        for variable in ("max_connections", "wait_timeout"):  # any setting, not only the one in the text
            rows = mysqldb.select(conn, answer, f"SHOW VARIABLES LIKE '{variable}'")
            with conn.cursor() as cur:
                cur.execute(f"SELECT @@{variable}")
                (actual,) = cur.fetchone()
            expect(len(rows) == 1, f"expected one row for {variable}, got {len(rows)}")
            row = rows[0]
            expect(
                getattr(row, "name", None) == variable,
                f"the field `name` should hold the Variable_name column ({variable!r}), "
                f"got {getattr(row, 'name', None)!r}",
            )
            value = getattr(row, "value", None)
            expect(
                isinstance(value, int) and not isinstance(value, bool),
                f"the field `value` should be an int read from the Value column, got {value!r}: "
                "mysqldb.select converts a column to the type the field declares",
            )
            expect(
                value == actual,
                f"{variable} is {actual} on this server, your Setting says {value}: read "
                "the Value column, do not give the field a fixed value",
            )


class _Recording:
    """Wraps a connection: each ``execute`` records when it ran, so the check sees overlap without timing."""

    def __init__(self, conn, spans):
        self._conn, self._spans = conn, spans

    def cursor(self):
        cursor, spans = self._conn.cursor(), self._spans

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                cursor.close()

            def execute(self, *args):
                start = time.perf_counter()
                try:
                    return cursor.execute(*args)
                finally:
                    spans.append((start, time.perf_counter()))

            def __getattr__(self, name):
                return getattr(cursor, name)

        return Cursor()

    def __getattr__(self, name):
        return getattr(self._conn, name)


class _RecordingPool:
    def __init__(self, pool):
        self._pool, self.spans = pool, []

    @contextlib.contextmanager
    def connection(self):
        with self._pool.connection() as conn:
            yield _Recording(conn, self.spans)


@exercise("08.parallel_sleeps")
def parallel_sleeps(answer):
    expect(callable(answer), "expected a function parallel_sleeps(pool)")
    cfg = config.load(argv=[])
    pool = mysqldb.Pool(cfg.mysql_dsn, size=2, timeout=2)
    recording = _RecordingPool(pool)
    try:
        result = answer(recording)
    finally:
        pool.close()
    expect(isinstance(result, list) and len(result) == 2, f"expected a list of two results, got {result!r}")
    expect(
        [int(r) if not isinstance(r, (tuple, list)) else int(r[0]) for r in result] == [0, 0],
        f"SLEEP returns 0 when it sleeps the whole time; got {result!r}",
    )
    spans = sorted(recording.spans)
    expect(len(spans) == 2, f"expected two queries through `pool.connection()`, saw {len(spans)}")
    took = sorted(end - start for start, end in spans)
    expect(
        took[0] >= 0.09 and took[1] >= 0.19,
        f"the queries took {took[0] * 1000:.0f} and "
        f"{took[1] * 1000:.0f} ms: run SLEEP(0.1) and SLEEP(0.2), "
        "the sleeps the exercise asks for",
    )
    expect(
        spans[1][0] < spans[0][1],
        "the two sleeps ran one after the other: they must overlap, each on a pooled connection of its own",
    )
