"""Chapter 8's exercise checks reject plausible wrong answers, each with a message that helps."""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from foundations import config, mysqldb
from foundations.course import exercises


@dataclass
class AsText:  # the right columns, the wrong type
    name: str = field(metadata={"db": "Variable_name"})
    value: str = field(metadata={"db": "Value"})


@dataclass
class Untagged:  # field names that are not the column names
    name: str
    value: int


@dataclass
class Swapped:
    name: str = field(metadata={"db": "Value"})
    value: int = field(metadata={"db": "Variable_name"})


@dataclass
class Hardcoded:
    name: str = field(default="max_connections", metadata={"db": "Variable_name"})
    value: int = field(default=151, metadata={"db": "Value"})

    def __post_init__(self):
        self.value = 151


@pytest.mark.parametrize(
    "answer, message",
    [
        (AsText, "should be an int read from the Value column"),
        (AsText(name="max_connections", value="151"), "not an instance"),
        (Untagged, "does not fit the columns"),
        (Swapped, "raised ValueError"),
        (Hardcoded, "do not give the field a fixed value"),
    ],
)
def test_setting_rejects(answer, message):
    assert message in exercises.verdict("08.setting", answer)


def _sleep(pool, seconds):
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT SLEEP(%s)", (seconds,))
        return cur.fetchone()[0]


def one_after_the_other(pool):
    return [_sleep(pool, 0.1), _sleep(pool, 0.2)]


def short_sleeps(pool):  # parallel, but not the sleeps asked for
    with ThreadPoolExecutor(2) as threads:
        return list(threads.map(lambda s: _sleep(pool, s), [0.01, 0.02]))


def around_the_pool(pool):  # own connections: the pool never sees the queries
    cfg = config.load(argv=[])

    def sleep(seconds):
        with contextlib.closing(mysqldb.connect(cfg.mysql_dsn)) as conn, conn.cursor() as cur:
            cur.execute("SELECT SLEEP(%s)", (seconds,))
            return cur.fetchone()[0]

    with ThreadPoolExecutor(2) as threads:
        return list(threads.map(sleep, [0.1, 0.2]))


def one_query(pool):
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT SLEEP(0.1), SLEEP(0.2)")
        return list(cur.fetchone())


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda pool: [0, 0], "expected two queries through `pool.connection()`, saw 0"),
        (one_after_the_other, "ran one after the other"),
        (short_sleeps, "run SLEEP(0.1) and SLEEP(0.2)"),
        (around_the_pool, "saw 0"),
        (one_query, "saw 1"),
    ],
)
def test_parallel_sleeps_rejects(answer, message):
    assert message in exercises.verdict("08.parallel_sleeps", answer)
