"""Chapter 8 against the live MySQL/MariaDB: typed rows, the pool, parallel sleeps, errors for people."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import pymysql
import pytest

from foundations import mysqldb, net
from foundations.errors import ConfigError, ServiceError


@dataclass
class Database:
    name: str = field(metadata={"db": "Database"})


@dataclass
class Typed:
    n: int
    x: float
    label: str
    maybe: str | None
    raw: Decimal
    note: str = "default"


def dsn_with(cfg, **changes) -> str:
    p = {**net.mysql_params(cfg.mysql_dsn), **changes}
    return f"mysql://{p['user']}:{p['password']}@{p['host']}:{p['port']}/{p['database']}"


@pytest.fixture
def conn(cfg):
    c = mysqldb.connect(cfg.mysql_dsn)
    yield c
    c.close()


def test_connect_is_autocommit_and_answers(conn):
    assert conn.get_autocommit() is True
    with conn.cursor() as cur:
        cur.execute("SELECT DATABASE() AS db")
        assert cur.fetchone() == ("api",)


def test_database_down_names_host_port_and_the_fix():
    with pytest.raises(ServiceError, match=r"MySQL at 127.0.0.1:1 does not answer \(.*\); start it with"):
        mysqldb.connect("mysql://api:api@127.0.0.1:1/api", timeout=0.5)


def test_wrong_password_and_unknown_database(cfg):
    host_port = "{}:{}".format(*cfg.endpoint("mysql_dsn"))
    with pytest.raises(ServiceError, match=f"MySQL at {host_port} refused user 'api': wrong password"):
        mysqldb.connect(dsn_with(cfg, password="not-the-password"))
    with pytest.raises(
        ServiceError, match=f"MySQL at {host_port} has no database 'api_t08_missing': create it"
    ):
        mysqldb.connect(dsn_with(cfg, database="api_t08_missing"))


def test_select_fills_typed_dataclasses(conn):
    names = [d.name for d in mysqldb.select(conn, Database, "SHOW DATABASES")]
    assert {"api", "information_schema"} <= set(names)
    rows = mysqldb.select(conn, Typed, "SELECT '42' AS n, 1.5 AS x, 7 AS label, NULL AS maybe, 2.50 AS raw")
    assert rows == [Typed(n=42, x=1.5, label="7", maybe=None, raw=Decimal("2.50"))]
    assert isinstance(rows[0].x, float)
    got = mysqldb.select(
        conn, Typed, "SELECT %s AS n, 0 AS x, %s AS label, 'y' AS maybe, 1 AS raw, 'z' AS note", (b"5", "a")
    )
    assert (got[0].n, got[0].label, got[0].note) == (5, "a", "z")


@dataclass
class Flags:
    on: bool
    off: bool
    n: int


def test_select_reads_bit_columns_as_bools(conn):
    # PyMySQL returns a BIT column as bytes: b"\x00" decoded would be "\x00", a non-empty str, so True,
    # and b"\x05" would be no number at all
    with conn.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE t08_flags (on_ BIT(1), off_ BIT(1), n BIT(8))")
        cur.execute("INSERT INTO t08_flags VALUES (1, 0, 5)")
    try:
        got = mysqldb.select(conn, Flags, "SELECT on_ AS `on`, off_ AS off, n FROM t08_flags")
        assert got == [Flags(on=True, off=False, n=5)]
        assert (type(got[0].on), type(got[0].off), type(got[0].n)) == (bool, bool, int)
        # 0 and 1 as integers (TINYINT(1), MySQL's BOOL) were already right
        assert mysqldb.select(conn, Flags, "SELECT 1 AS `on`, 0 AS off, '3' AS n") == [Flags(True, False, 3)]
    finally:
        conn.query("DROP TEMPORARY TABLE t08_flags")


def test_select_reads_a_bool_as_go_scans_one_and_refuses_the_rest(conn):
    """bool("OFF") and bool("0") are both True in Python; Go's Scan reads "0" as false and refuses "OFF"."""
    words = "SELECT 'true' AS `on`, '0' AS off, 7 AS n"
    assert mysqldb.select(conn, Flags, words) == [Flags(True, False, 7)]
    for wrong in ("'OFF'", "2", "''"):
        with pytest.raises(ConfigError, match="no bool"):
            mysqldb.select(conn, Flags, f"SELECT 1 AS `on`, {wrong} AS off, 7 AS n")


def test_select_refuses_to_cut_a_fraction_into_an_int(conn):
    """int(Decimal("2.5")) is 2 in Python; Go's Scan into an int refuses 2.5, and so does select."""
    assert mysqldb.select(conn, Flags, "SELECT 1 AS `on`, 0 AS off, 2.0 AS n") == [Flags(True, False, 2)]
    for fraction in ("2.5", "'2.5'"):  # a DECIMAL, and text
        with pytest.raises(ConfigError, match="no int"):
            mysqldb.select(conn, Flags, f"SELECT 1 AS `on`, 0 AS off, {fraction} AS n")


def test_select_says_how_columns_and_fields_disagree(conn):
    with pytest.raises(
        ConfigError,
        match=r"Database does not fit the columns \['Database', 'extra'\]: "
        r"no field for \['extra'\]",
    ):
        mysqldb.select(conn, Database, "SELECT 'api' AS `Database`, 1 AS extra")
    with pytest.raises(ConfigError, match=r"no column for \['raw'\] \(alias a column AS 'raw'\)"):
        mysqldb.select(conn, Typed, "SELECT 1 AS n, 2 AS x, 'a' AS label, NULL AS maybe")
    assert mysqldb.select(conn, Database, "SELECT 'api' AS `Database` FROM DUAL WHERE 1 = 0") == []


def test_frame_keeps_the_query_column_names(conn):
    df = mysqldb.frame(
        conn,
        "SELECT schema_name AS schema_name FROM information_schema.schemata WHERE schema_name = %s",
        ("api",),
    )
    assert list(df.columns) == ["schema_name"] and df["schema_name"].tolist() == ["api"]


def test_pool_warms_up_and_runs_two_sleeps_in_parallel(cfg):
    pool = mysqldb.Pool(cfg.mysql_dsn, size=2)
    assert pool.warm_up() == 2
    assert pool.status() == {"size": 2, "idle": 2, "checked_out": 0}

    def sleep(seconds):
        with pool.connection() as c, c.cursor() as cur:
            cur.execute("SELECT SLEEP(%s) AS slept", (seconds,))
            return cur.fetchone()[0]

    def both() -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as ex:
            assert list(ex.map(sleep, [0.1, 0.2])) == [0, 0]
        return time.perf_counter() - start

    # the best of three: a busy machine only adds time, and the claim is about overlap
    elapsed = min(both() for _ in range(3))
    assert 0.19 < elapsed < 0.28, f"parallel sleeps took {elapsed * 1000:.1f} ms (one after the other: 300)"
    pool.close()


def test_pool_exhausted_names_the_server_and_the_fix(cfg):
    pool = mysqldb.Pool(cfg.mysql_dsn, size=1, timeout=0.05)
    host_port = "{}:{}".format(*cfg.endpoint("mysql_dsn"))
    with pool.connection():
        with pytest.raises(
            mysqldb.PoolExhausted,
            match=f"MySQL pool for {host_port}: all 1 connections are in "
            "use after 0.05 s.*make the pool larger",
        ):
            with pool.connection():
                pass  # pragma: no cover - never reached
    with pool.connection() as c:  # given back, usable again
        assert c.ping(reconnect=False) is None
    pool.close()
    with pytest.raises(ConfigError, match="pool size must be >= 1 and overflow >= 0, got 0 and 0"):
        mysqldb.Pool(cfg.mysql_dsn, size=0)


def test_pool_replaces_a_connection_the_server_dropped(cfg, conn):
    pool = mysqldb.Pool(cfg.mysql_dsn, size=1)
    with pool.connection() as c:
        first = c.thread_id()
    with conn.cursor() as cur:
        cur.execute("KILL %s", (first,))  # what a server restart does to every idle connection
    with pool.connection() as c, c.cursor() as cur:  # pre-ping notices and reconnects
        cur.execute("SELECT CONNECTION_ID() AS id")
        assert cur.fetchone()[0] != first
    pool.close()


def test_pool_on_a_server_that_is_down():
    pool = mysqldb.Pool("mysql://api:api@127.0.0.1:1/api", size=1)
    with pytest.raises(ServiceError, match="MySQL at 127.0.0.1:1 does not answer"):
        with pool.connection():
            pass  # pragma: no cover - never reached


def test_too_many_connections_is_told_as_such(monkeypatch):
    def refuse(**params):
        raise pymysql.err.OperationalError(1040, "Too many connections")

    monkeypatch.setattr(pymysql, "connect", refuse)
    with pytest.raises(
        ServiceError, match=r"has no connection left \(Too many connections\): close the pools"
    ):
        mysqldb.connect("mysql://api:api@127.0.0.1:3306/api")


def test_digest_row_finds_a_shape_or_says_why_not():
    import pandas as pd

    digests = pd.DataFrame(
        {"calls": [3, 1], "total_ms": [60.0, 0.1]},
        index=pd.Index(["SELECT `SLEEP` (?) AS `slept`", "ROLLBACK"], name="statement"),
    )
    assert mysqldb.digest_row(digests, "SELECT SLEEP(?) AS slept").calls == 3
    with pytest.raises(mysqldb.DigestMissing, match=r"the digest table is full \(7 statements.*TRUNCATE"):
        mysqldb.digest_row(digests, "SELECT SLEEP(?) AS other", lost=7)
    with pytest.raises(mysqldb.DigestMissing, match="and none lost: the statement did not run"):
        mysqldb.digest_row(digests, "SELECT SLEEP(?) AS other")


def test_statement_digests_count_a_shape_and_the_lost_ones(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT @@performance_schema")
        counting = bool(cur.fetchone()[0])
    lost = mysqldb.digests_lost(conn)
    assert lost >= 0
    for n in range(3):
        conn.query(f"SELECT {n} AS t08_digest_probe")
    digests = mysqldb.statement_digests(conn).set_index("statement")
    if not counting:  # the offline image under compose (its command replaces the image's flags): nothing kept
        assert digests.empty and lost == mysqldb.digests_lost(conn) == 0
        with pytest.raises(mysqldb.DigestMissing):
            mysqldb.digest_row(digests, "SELECT ? AS t08_digest_probe")
        return
    try:
        row = mysqldb.digest_row(digests, "SELECT ? AS t08_digest_probe", mysqldb.digests_lost(conn) - lost)
    except mysqldb.DigestMissing as exc:  # a long-running server's full table: the message must say so
        assert "the digest table is full" in str(exc)
    else:
        assert row.calls >= 3
