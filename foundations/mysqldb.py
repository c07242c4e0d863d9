"""Chapter 8: MySQL (Percona or MariaDB) through PyMySQL: typed rows, a pool, and errors for people.

- ``connect(dsn)``: one PyMySQL connection, dialled now (Go's ``sql.Open`` makes a pool), autocommit on;
- ``select(conn, Database, "SHOW DATABASES")``: rows into typed dataclasses (the book's sqlx ``Select``);
  ``frame(conn, sql)``: the same rows as a pandas DataFrame;
- ``Pool(dsn, size=4)``: SQLAlchemy's ``QueuePool`` around PyMySQL, no ORM (the book's Vitess pool); it has a
  checkout *timeout* (DBUtils' ``PooledDB`` blocks forever or fails at once), recycling and a pre-ping;
- ``throughput``, ``cpu_shares``, ``sweep``, ``quiet``, ``knee`` and ``memory_per_connection``:
  the book's "2-3× the CPUs" and "2-3 MB per connection", put to the test;
- ``statement_digests``, ``digests_lost`` and ``digest_row``: performance_schema's per-query statistics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psutil
import pymysql
import sqlalchemy
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.pool import QueuePool

from foundations import footprint, net
from foundations.errors import FIX_DOWN, ConfigError, ServiceError

T = TypeVar("T")
SIMPLE_TYPES = (int, float, str, bool)


class PoolExhausted(ServiceError):
    """Every pooled connection is in use and none came back in time."""


def where(dsn: str) -> str:
    params = net.mysql_params(dsn)
    return f"{params['host']}:{params['port']}"


def connect(dsn: str, timeout: float = 2.0, read_timeout: float | None = 30.0) -> pymysql.Connection:
    """One connection to the DSN's server, autocommit on; failures become one-line ``ServiceError``s."""
    params = net.mysql_params(dsn)
    try:
        return pymysql.connect(**params, connect_timeout=timeout, read_timeout=read_timeout, autocommit=True)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        if code == 1045:
            raise ServiceError(
                f"MySQL at {where(dsn)} refused user {params['user']!r}: wrong password (check "
                "the DSN, FOUNDATIONS_MYSQL_DSN), or the user was never created "
                "(`python -m foundations services up` creates api/api)"
            ) from exc
        if code == 1040:
            raise ServiceError(
                f"MySQL at {where(dsn)} has no connection left (Too many connections): close the pools you "
                "hold (another notebook's kernel?), or raise the server's max_connections"
            ) from exc
        if code == 1049:
            raise ServiceError(
                f"MySQL at {where(dsn)} has no database {params['database']!r}: create it, or "
                "fix the DSN's /database part"
            ) from exc
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
        return typ(value)

    return [cls(**{fields[c].name: convert(c, v) for c, v in zip(columns, row)}) for row in rows]


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


def throughput(pool: Pool, sql: str, clients: int, seconds: float = 0.5) -> float:
    """Queries per second when ``clients`` threads each check out a connection, run ``sql``, give it back,
    for ``seconds``: the load of an API whose handlers each run one short query."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        while time.perf_counter() < stop:
            with pool.connection() as conn, conn.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def cpu_shares(
    pool: Pool, sql: str, clients: int, seconds: float, server: psutil.Process | None
) -> dict[str, float]:
    """One ``throughput`` run, and how many CPUs four parties kept busy meanwhile: the database ``server``
    (when it is a process on this machine, else NaN), this process (the client threads), every other program,
    and the hypervisor's other machines (stolen). ``server CPU ms/query``: the server's CPU time per query.
    ``others' statements/s``: what other clients sent the server meanwhile, 0 unless it is shared."""
    with pool.connection() as conn:  # the statements clients have sent the server so far (COM_PING aside)
        questions = _status(conn, "Questions")["Questions"]
    me, server_before = psutil.Process(), _cpu_s(server) if server else 0.0
    start, client_before = time.perf_counter(), _cpu_s(me)
    machine_before, stolen_before = footprint.machine_cpu_seconds(), footprint.stolen_cpu_seconds()
    rate = throughput(pool, sql, clients=clients, seconds=seconds)
    wall = time.perf_counter() - start
    server_used = _cpu_s(server) - server_before if server else float("nan")
    client_used, machine_used = _cpu_s(me) - client_before, footprint.machine_cpu_seconds() - machine_before
    stolen = footprint.stolen_cpu_seconds() - stolen_before
    with pool.connection() as conn:  # ours: each query and its return's ROLLBACK, the first read's, this read
        others = _status(conn, "Questions")["Questions"] - questions - 2 * round(rate * wall) - 2
    return {
        "queries/s": rate,
        "server CPUs": server_used / wall,
        "client CPUs": client_used / wall,
        "other CPUs": (machine_used - server_used - client_used) / wall,
        "stolen CPUs": stolen / wall,
        "server CPU ms/query": server_used / (rate * wall) * 1000,
        "others' statements/s": max(0, others) / wall,  # rate * wall: a hair over our count
    }


def _status(conn: Any, *names: str, scope: str = "GLOBAL") -> dict[str, int]:
    """The server's (or, ``scope="SESSION"``, this connection's) status variables of those ``names`` it has."""
    with conn.cursor() as cur:
        cur.execute(f"SHOW {scope} STATUS WHERE Variable_name IN ({', '.join(repr(n) for n in names)})")
        return {name: int(value) for name, value in cur.fetchall()}


def sweep(
    dsn: str,
    sql: str,
    sizes: Sequence[int],
    clients: int,
    seconds: float = 0.4,
    rounds: int = 3,
    server: psutil.Process | None = None,
    between: Callable[[], object] | None = None,
) -> Any:
    """``cpu_shares`` of ``sql`` on a warmed pool of each size in ``sizes``, one DataFrame row per size. The sizes
    take turns, ``rounds`` times, so a change in the machine's load falls on every size alike, each on a pool
    opened and warmed for its run (one pool at a time: a server's max_connections is often 151), and each row
    is the run with the median rate: one whole run, so its columns belong together. ``between()``, when given,
    runs before each run (to time something alone)."""
    import pandas as pd  # only the notebooks need pandas

    runs: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            pool = Pool(dsn, size=size, timeout=10)
            try:
                pool.warm_up()
                if between:
                    between()
                runs[size].append(cpu_shares(pool, sql, clients, seconds, server))
            finally:
                pool.close()
    medians = {size: sorted(r, key=lambda run: run["queries/s"])[len(r) // 2] for size, r in runs.items()}
    return pd.DataFrame(medians).T.rename_axis("pool size")


def knee(rates: dict[int, float], within: float = 0.1) -> int:
    """The smallest pool size whose rate is within ``within`` (a fraction) of the best rate measured: where the
    curve stops growing."""
    best = max(rates.values())
    return min(size for size, rate in rates.items() if rate >= (1 - within) * best)


def why_not_quiet(table: Any, cpus: int, share: float = 0.8) -> str:
    """Why a ``sweep``'s CPU columns cannot back an assert, "" if they can: the server's CPUs were not read (NaN
    where it is not a process on this machine, as under compose), other clients sent it statements (it is shared),
    or everything else left under ``share`` of the ``cpus`` in a run (more server threads then win more CPUs)."""
    others = table["client CPUs"] + table["other CPUs"] + table["stolen CPUs"]  # ours, other programs, stolen
    sent = table["others' statements/s"]
    if table["server CPUs"].isna().any():
        return "the server's CPUs could not be read (it is not a process on this machine)"
    if (sent > 0).any():
        return f"other clients sent the server up to {sent.max():.0f} statements/s (pool {sent.idxmax()})"
    if (cpus - others < share * cpus).any():
        return f"everything else took up to {others.max():.2f} of the {cpus} CPUs (pool {others.idxmax()})"
    return ""


def quiet(table: Any, cpus: int, share: float = 0.8) -> bool:
    """Whether a ``sweep``'s CPU columns can back an assert: ``why_not_quiet`` finds no reason against it."""
    return not why_not_quiet(table, cpus, share)


def _cpu_s(process: psutil.Process) -> float:
    """CPU seconds a process has used so far, all its threads, in user and kernel mode."""
    return sum(process.cpu_times()[:2])


def server_memory(conn: Any) -> int:
    """Bytes the server's connections use, from status variables: MariaDB's ``Memory_used``, or MySQL's
    ``Global_connection_memory`` (8.0.28+, when ``global_connection_memory_tracking`` is ON)."""
    status = _status(conn, "Memory_used", "Global_connection_memory")
    if memory := status.get("Memory_used") or status.get("Global_connection_memory"):
        return memory
    raise ServiceError(
        "this server reports no connection memory: on MySQL/Percona 8.0.28+ start it with "
        "--global-connection-memory-tracking=ON (compose.yaml does); MariaDB has Memory_used"
    )


def memory_per_connection(dsn: str, count: int = 10, server: psutil.Process | None = None) -> dict[str, Any]:
    """What one more idle connection costs the server, from ``count`` opened and held: the bytes it counts "per
    session" (MariaDB's session ``Memory_used``) or else "server-wide" (other clients move that too), a local
    server's resident growth (else NaN; neither is a bound), and ``others' connections`` opened or closed."""
    with contextlib.closing(connect(dsn)) as observer:
        before, used_before = _status(observer, "Connections", "Threads_connected"), server_memory(observer)
        resident_before = server.memory_info().rss if server else 0
        extra = [connect(dsn) for _ in range(count)]
        try:
            for conn in extra:  # one query each, so the server has set the session up
                conn.query("SELECT 1")
            own = [_status(conn, "Memory_used", scope="SESSION").get("Memory_used") for conn in extra]
            after, used_after = _status(observer, "Connections", "Threads_connected"), server_memory(observer)
            resident_after = server.memory_info().rss if server else 0
        finally:
            for conn in extra:
                conn.close()
    opened = after["Connections"] - before["Connections"] - count  # by other clients (ours: count)
    closed = before["Threads_connected"] + count + opened - after["Threads_connected"]
    mine = [n for n in own if n is not None]
    return {
        "counted bytes": sum(mine) / count if len(mine) == count else (used_after - used_before) / count,
        "counted": "per session" if len(mine) == count else "server-wide",
        "resident bytes": (resident_after - resident_before) / count if server else float("nan"),
        "others' connections": opened + closed,
    }


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
    return _status(conn, "Performance_schema_digest_lost").get("Performance_schema_digest_lost", 0)


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


def server_process(dsn: str) -> psutil.Process | None:
    """The MariaDB/MySQL process on this machine that serves ``dsn`` (the one ``services up`` starts), found by
    its ``--port=`` argument; None for a server in a container or elsewhere, or one this user may not read."""
    params = net.mysql_params(dsn)
    if params["host"] not in ("127.0.0.1", "localhost"):
        return None
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] in ("mariadbd", "mysqld") and f"--port={params['port']}" in cmdline:
            return proc
    return None
