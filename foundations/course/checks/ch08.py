"""Checks for the exercises of notebook 08 (MySQL: typed rows, how big a pool must be)."""

import contextlib
import dataclasses
import random

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


# (requests per second, ms each query holds its connection): the chart's own case, an exact fit, and a trickle
CASES = [(180, 20), (50, 20), (100, 30), (1, 5), (2400, 7)]


@exercise("08.connections_needed")
def connections_needed(answer):
    expect(callable(answer), "expected a function connections_needed(requests_per_second, query_ms)")
    fresh = [
        (random.randint(10, 3000), random.randint(1, 400)) for _ in range(20)
    ]  # none of them in the text
    for rate, query_ms in CASES + fresh:
        got = answer(rate, query_ms)
        expect(
            isinstance(got, int) and not isinstance(got, bool),
            f"connections_needed({rate}, {query_ms}) returned {got!r}: a pool holds a whole number of connections",
        )
        want = -(-rate * query_ms // 1000)  # the smallest whole number of connections, exactly
        expect(
            got >= want,
            f"connections_needed({rate}, {query_ms}) returned {got}: with {got} connections, each held {query_ms} ms "
            f"per query, at most {got * 1000 / query_ms:g} queries a second can finish, fewer than {rate}",
        )
        expect(
            got == want,
            f"connections_needed({rate}, {query_ms}) returned {got}: {got - 1} would already keep up, and "
            "every connection more costs the server memory (the smallest pool that keeps up, please)",
        )
