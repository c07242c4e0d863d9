"""Chapter 8: MySQL (Percona or MariaDB) through PyMySQL: typed rows, a pool, and errors for people.

- ``connect(dsn)``: one PyMySQL connection, dialled now (Go's ``sql.Open`` makes a pool), autocommit on;
- ``select(conn, Database, "SHOW DATABASES")``: rows into typed dataclasses (the book's sqlx ``Select``);
  ``frame(conn, sql)``: the same rows as a pandas DataFrame;
- ``Pool(dsn, size=4)``: SQLAlchemy's ``QueuePool`` around PyMySQL, no ORM (the book's Vitess pool); it has a
  checkout *timeout* (DBUtils' ``PooledDB`` blocks forever or fails at once), recycling and a pre-ping;
- how big a pool should be (the book's "2-3× the CPUs" and "2-3 MB per connection"): ``poolsizing``;
- ``statement_digests``, ``digests_lost`` and ``digest_row``: performance_schema's per-query statistics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import typing
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import pymysql
import sqlalchemy
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.pool import QueuePool

from foundations import net
from foundations.errors import FIX_DOWN, ConfigError, ServerRefused, ServiceError

T = TypeVar("T")
SIMPLE_TYPES = (int, float, str, bool)
# What Go's Scan into a bool takes (strconv.ParseBool's words, any case here); anything else is refused, as
# there: Python's bool("OFF") and bool("0") would both say True
BOOL_WORDS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}


class PoolExhausted(ServiceError):
    """Every pooled connection is in use and none came back in time."""


def where(dsn: str) -> str:
    params = net.mysql_params(dsn)
    return f"{params['host']}:{params['port']}"


def refused(params: dict[str, Any], code: int) -> str | None:
    """What the server's own refusal ``code`` means and what to do, for the refusals a learner meets:
    1045 (user or password), 1040 (too many connections), 1049 (no such database); else None."""
    where = f"{params['host']}:{params['port']}"
    if code == 1045:
        return (
            f"MySQL at {where} refused user {params['user']!r}: wrong password (check the DSN, "
            "FOUNDATIONS_MYSQL_DSN), or the user was never created (`services up` creates api/api)"
        )
    if code == 1040:
        return (
            f"MySQL at {where} has no connection left (Too many connections): close the pools you hold "
            "(another notebook's kernel?), or raise the server's max_connections"
        )
    if code == 1049:
        return f"MySQL at {where} has no database {params['database']!r}: create it, or fix the DSN's /database part"
    return None


def connect(dsn: str, timeout: float = 2.0, read_timeout: float | None = 30.0) -> pymysql.Connection:
    """One connection to the DSN's server, autocommit on; failures become one-line ``ServiceError``s."""
    params = net.mysql_params(dsn)
    try:
        return pymysql.connect(**params, connect_timeout=timeout, read_timeout=read_timeout, autocommit=True)
    except pymysql.err.OperationalError as exc:
        refusal = refused(params, exc.args[0] if exc.args else 0)
        if refusal:
            raise ServerRefused(refusal) from exc
        raise ServiceError(f"MySQL at {where(dsn)} does not answer ({exc.args[-1]}); {FIX_DOWN}") from exc


def _column(f: dataclasses.Field) -> str:
    return f.metadata.get("db", f.name)


def select(conn: Any, cls: type[T], sql: str, params: Sequence[Any] | None = None) -> list[T]:
    """Run ``sql`` and return one ``cls`` (a dataclass) per row. A field reads the column named like it,
    or ``field(metadata={"db": "Column"})`` (Go's ``db:"Column"`` tag); simple types are converted."""
    hints = typing.get_type_hints(cls)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        columns = [d[0] for d in cur.description or ()]
        bits = {d[0] for d in cur.description or () if d[1] == pymysql.constants.FIELD_TYPE.BIT}
        rows = cur.fetchall()
    fields = {_column(f): f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # cls is a dataclass
    extra = [c for c in columns if c not in fields]
    missing = [
        c
        for c, f in fields.items()
        if c not in columns and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if extra or missing:
        raise ConfigError(
            f"{cls.__name__} does not fit the columns {columns}: "
            + (
                f"no field for {extra} (add one, or alias the column with AS)"
                if extra
                else f"no column for {missing} (alias a column AS {missing[0]!r})"
            )
        )

    def convert(name: str, value: Any) -> Any:
        typ = hints.get(fields[name].name)
        if typ not in SIMPLE_TYPES or value is None or isinstance(value, typ):
            return value
        if isinstance(value, bytes):  # a BIT column's bits (b"\x01" is 1, not "\x01"), a binary string's text
            value = int.from_bytes(value, "big") if name in bits else value.decode()
        if typ is bool:
            return _as_bool(name, value)
        try:
            converted = typ(value)
        except ValueError:  # int("2.5"), float("n/a")
            converted = None
        if converted is None or (typ is int and converted != value and not isinstance(value, str)):
            raise ConfigError(  # int(Decimal("2.5")) would say 2: Go's Scan into an int refuses it too
                f"column {name!r} holds {value!r}, which is no {typ.__name__}: change the field's type, or "
                "convert the column in the SQL"
            )
        return converted

    return [cls(**{fields[c].name: convert(c, v) for c, v in zip(columns, row)}) for row in rows]


def _as_bool(column: str, value: Any) -> bool:
    """0 or 1, or one of ``BOOL_WORDS``, as a bool; else a ConfigError naming the column."""
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in BOOL_WORDS:
        return BOOL_WORDS[value.lower()]
    raise ConfigError(
        f"column {column!r} holds {value!r}, which is no bool (0 or 1, true or false): convert it in the "
        f"SQL, e.g. {column} = 'ON' AS {column}"
    )


def frame(conn: Any, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The rows of ``sql`` as a pandas DataFrame, columns named as the query names them."""
    import pandas as pd  # only the notebooks need pandas

    with conn.cursor() as cur:
        cur.execute(sql, params)
        return pd.DataFrame(list(cur.fetchall()), columns=[d[0] for d in cur.description or ()])


class Pool:
    """Up to ``size`` + ``overflow`` connections to one server; ``with pool.connection() as conn:`` is the
    book's ``SqlxGetConnection`` / ``SqlxReleaseConnection`` pair. Waits ``timeout`` seconds for a free one."""

    def __init__(
        self,
        dsn: str,
        size: int = 4,
        overflow: int = 0,
        timeout: float = 1.0,
        recycle: float = 3600,
        pre_ping: bool = True,
    ) -> None:
        if size < 1 or overflow < 0:
            raise ConfigError(f"pool size must be >= 1 and overflow >= 0, got {size} and {overflow}")
        self.dsn, self.where, self.timeout = dsn, where(dsn), timeout
        # The pymysql dialect only supplies the ping for pre_ping; no engine, no ORM.
        self._pool = QueuePool(
            lambda: connect(dsn),
            pool_size=size,
            max_overflow=overflow,
            timeout=timeout,
            recycle=int(recycle),
            pre_ping=pre_ping,
            dialect=MySQLDialect_pymysql(dbapi=pymysql),
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled PyMySQL connection, returned to the pool (rolled back) when the block ends."""
        try:
            conn = self._pool.connect()
        except sqlalchemy.exc.TimeoutError as exc:
            raise PoolExhausted(
                f"MySQL pool for {self.where}: all {self.status()['checked_out']} connections are "
                f"in use after {self.timeout} s; return them sooner (use `with pool.connection()`) "
                "or make the pool larger (size=..., overflow=...)"
            ) from exc
        try:
            yield conn
        finally:
            conn.close()

    def warm_up(self, count: int | None = None) -> int:
        """Open ``count`` (default: the pool size) connections now, so the first queries skip the connect."""
        with contextlib.ExitStack() as stack:
            for _ in range(count or self._pool.size()):
                stack.enter_context(self.connection()).ping(reconnect=False)
        return self._pool.checkedin()

    def status(self) -> dict[str, int]:
        return {
            "size": self._pool.size(),
            "idle": self._pool.checkedin(),
            "checked_out": self._pool.checkedout(),
        }

    def close(self) -> None:
        self._pool.dispose()


def status_values(conn: Any, *names: str, scope: str = "GLOBAL") -> dict[str, int]:
    """The server's (or, ``scope="SESSION"``, this connection's) status variables of those ``names`` it has."""
    with conn.cursor() as cur:
        cur.execute(f"SHOW {scope} STATUS WHERE Variable_name IN ({', '.join(repr(n) for n in names)})")
        return {name: int(value) for name, value in cur.fetchall()}


def statement_digests(conn: Any) -> Any:
    """performance_schema's statements of this connection's database so far, one row per shape (the literals
    taken out): ``statement``, ``calls``, ``total_ms``. It counts from the server's start, so a notebook that
    runs twice compares two readings instead of trusting one."""
    return frame(
        conn,
        "SELECT DIGEST_TEXT AS statement, COUNT_STAR AS calls, SUM_TIMER_WAIT / 1e9 AS total_ms "
        "FROM performance_schema.events_statements_summary_by_digest "
        "WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT IS NOT NULL",
    )


def digests_lost(conn: Any) -> int:
    """Statements since the server started that found the digest table (``performance_schema_digests_size`` rows)
    full: their shapes are missing from ``statement_digests`` (counted in the one row whose digest is NULL)."""
    return status_values(conn, "Performance_schema_digest_lost").get("Performance_schema_digest_lost", 0)


class DigestMissing(ServiceError):
    """A statement shape has no row in performance_schema's digest table."""


def _shape(statement: str) -> str:
    return re.sub(r"[`\s]", "", statement)  # MySQL and MariaDB differ in backticks and spaces


def digest_row(digests: Any, statement: str, lost: int = 0) -> Any:
    """The row of ``statement`` (``SELECT SLEEP(?) AS slept``: literals as ``?``; backticks and spaces do not
    matter) in a frame indexed by statement, as ``statement_digests(...).set_index("statement")``. With none,
    a ``DigestMissing`` that says why: ``lost`` > 0 (``digests_lost`` grew meanwhile) means the table is full."""
    for text, row in digests.iterrows():
        if _shape(text) == _shape(statement):
            return row
    if lost > 0:
        raise DigestMissing(
            f"no digest row for {statement!r}: the digest table is full ({lost} statements found no row of their "
            "own); as root, TRUNCATE performance_schema.events_statements_summary_by_digest (or restart the "
            "server, or raise performance_schema_digests_size) and run again"
        )
    raise DigestMissing(
        f"no digest row for {statement!r}, and none lost: the statement did not run on this database"
    )
