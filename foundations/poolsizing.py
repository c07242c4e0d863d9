"""Chapter 8: how big a MySQL pool should be, measured: throughput, the server's CPU shares, memory per connection."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil

from foundations import footprint, mysqldb, net
from foundations.errors import ServiceError


def throughput(pool: mysqldb.Pool, sql: str, clients: int, seconds: float = 0.5) -> float:
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
    pool: mysqldb.Pool, sql: str, clients: int, seconds: float, server: psutil.Process | None
) -> dict[str, float]:
    """One ``throughput`` run, and how many CPUs four parties kept busy meanwhile: the database ``server``
    (when it is a process on this machine, else NaN), this process (the client threads), every other program,
    and the hypervisor's other machines (stolen). ``server CPU ms/query``: the server's CPU time per query.
    ``others' statements/s``: what other clients sent the server meanwhile, 0 unless it is shared."""
    with pool.connection() as conn:  # the statements clients have sent the server so far (COM_PING aside)
        questions = mysqldb.status_values(conn, "Questions")["Questions"]
    me, server_before = psutil.Process(), _cpu_s(server) if server else 0.0
    start, client_before = time.perf_counter(), _cpu_s(me)
    machine_before, stolen_before = footprint.machine_cpu_seconds(), footprint.stolen_cpu_seconds()
    rate = throughput(pool, sql, clients=clients, seconds=seconds)
    wall = time.perf_counter() - start
    server_used = _cpu_s(server) - server_before if server else float("nan")
    client_used, machine_used = _cpu_s(me) - client_before, footprint.machine_cpu_seconds() - machine_before
    stolen = footprint.stolen_cpu_seconds() - stolen_before
    with pool.connection() as conn:  # ours: each query and its return's ROLLBACK, the first read's, this read
        others = (
            mysqldb.status_values(conn, "Questions")["Questions"] - questions - 2 * round(rate * wall) - 2
        )
    return {
        "queries/s": rate,
        "server CPUs": server_used / wall,
        "client CPUs": client_used / wall,
        "other CPUs": (machine_used - server_used - client_used) / wall,
        "stolen CPUs": stolen / wall,
        "server CPU ms/query": server_used / (rate * wall) * 1000,
        "others' statements/s": max(0, others) / wall,  # rate * wall: a hair over our count
    }


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
            pool = mysqldb.Pool(dsn, size=size, timeout=10)
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
    status = mysqldb.status_values(conn, "Memory_used", "Global_connection_memory")
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
    with contextlib.closing(mysqldb.connect(dsn)) as observer:
        before, used_before = (
            mysqldb.status_values(observer, "Connections", "Threads_connected"),
            server_memory(observer),
        )
        resident_before = server.memory_info().rss if server else 0
        extra = [mysqldb.connect(dsn) for _ in range(count)]
        try:
            for conn in extra:  # one query each, so the server has set the session up
                conn.query("SELECT 1")
            own = [
                mysqldb.status_values(conn, "Memory_used", scope="SESSION").get("Memory_used")
                for conn in extra
            ]
            after, used_after = (
                mysqldb.status_values(observer, "Connections", "Threads_connected"),
                server_memory(observer),
            )
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
