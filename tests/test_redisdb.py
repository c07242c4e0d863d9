"""Chapter 7 against live Redis servers: timeouts, the round-robin pool and its trap, key routing, faults."""

import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from foundations import redisdb, redispool, redisspeed
from foundations.errors import ConfigError, ServiceError
from foundations.ops import services

PREFIX = "t07:"
DOWN = "redis://127.0.0.1:1/0"


@pytest.fixture
def pair(cfg):
    pool = redispool.RoundRobinPool([cfg.redis1_url, cfg.redis2_url], capacity=2, max_capacity=4)
    yield pool
    pool.close()
    for url in (cfg.redis1_url, cfg.redis2_url):
        r = redis.Redis.from_url(url)
        keys = list(r.scan_iter(PREFIX + "*"))
        if keys:
            r.delete(*keys)
        r.close()


def timed(*calls):
    """Run the zero-arg ``calls`` in parallel threads: (results, elapsed seconds)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(calls)) as ex:
        results = [f.result() for f in [ex.submit(c) for c in calls]]
    return results, time.perf_counter() - start


def test_connect_uses_the_books_timeouts_and_answers(cfg):
    conn = redisdb.connect(cfg.redis_url)
    kwargs = conn.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (1.0, 1.0)
    assert conn.ping() is True
    assert (
        redisdb.address(conn) == redisdb.address(cfg.redis_url) == "{}:{}".format(*cfg.endpoint("redis_url"))
    )
    conn.close()


def test_connect_to_nothing_names_the_address():
    with pytest.raises(
        ServiceError, match=r"Redis at 127.0.0.1:1 does not answer \(Connection refused\); start"
    ):
        redisdb.connect(DOWN)


def test_client_pool_blocks_and_then_says_so(cfg):
    r = redisdb.client(cfg.redis_url, timeout=0.05, max_connections=1)
    assert isinstance(r.connection_pool, redis.BlockingConnectionPool)
    held = r.connection_pool.get_connection()
    with pytest.raises(redis.ConnectionError, match="No connection available"):
        r.ping()
    r.connection_pool.release(held)
    assert r.ping() is True


def test_two_sleeps_on_one_connection_run_one_after_the_other(cfg):
    conn = redisdb.connect(cfg.redis_url)
    start = time.perf_counter()
    conn.execute_command("DEBUG", "SLEEP", "0.1")
    conn.execute_command("DEBUG", "SLEEP", "0.2")
    assert time.perf_counter() - start >= 0.29
    conn.close()


def test_round_robin_pool_alternates_servers_and_runs_sleeps_in_parallel(cfg):
    lines = []
    pool = redispool.RoundRobinPool([cfg.redis1_url, cfg.redis2_url], log=lines.append)
    assert pool.warm_up() == 2
    assert lines == [f"New redis connection: {redisdb.address(u)}" for u in (cfg.redis1_url, cfg.redis2_url)]
    runs = [  # the best of three: a busy machine only adds time, and the claim is about overlap
        timed(lambda: pool.do("DEBUG", "SLEEP", "0.1"), lambda: pool.do("DEBUG", "SLEEP", "0.2"))
        for _ in range(3)
    ]
    assert all(results == [b"OK", b"OK"] for results, _ in runs)
    elapsed = min(seconds for _, seconds in runs)
    assert 0.19 < elapsed < 0.28, f"parallel sleeps took {elapsed * 1000:.1f} ms (one after the other: 300)"
    assert pool.stats() == {"capacity": 2, "in_use": 0, "idle": 2, "created": 2, "closed": 0}
    pool.close()


def test_the_books_trap_set_then_get_lands_elsewhere(pair):
    pair.warm_up()
    assert pair.do("SET", PREFIX + "name", "Tit") is True
    assert pair.do("GET", PREFIX + "name") is None  # the other server never saw the SET
    assert pair.do("GET", PREFIX + "name") == b"Tit"


def test_pool_exhausted_waits_then_explains(pair):
    pair.set_capacity(1)
    held = pair.get()
    start = time.perf_counter()
    with pytest.raises(
        redispool.PoolExhausted, match="all 1 connections are in use after 0.05 s.*max_capacity=4"
    ) as told:
        pair.get(timeout=0.05)
    advised = re.search(r"with pool\.(\w+)\(\)", str(told.value))
    assert advised and callable(getattr(pair, advised[1], None)), told.value  # advice that runs
    assert time.perf_counter() - start >= 0.05
    threading.Timer(0.05, pair.put, [held]).start()
    assert pair.get(timeout=1.0) is held  # a waiting get wakes up when a connection comes back


def test_capacity_limits_and_lowering_closes_extras(pair):
    with pytest.raises(ConfigError, match="capacity must be 1..4, got 5"):
        pair.set_capacity(5)
    with pytest.raises(ConfigError, match="need 1 <= capacity <= max_capacity, got 3 and 2"):
        redispool.ResourcePool(object, 3, 2, 1.0)
    pair.set_capacity(4)
    held = [pair.get() for _ in range(4)]
    assert pair.stats()["in_use"] == 4
    pair.put(held.pop())
    pair.set_capacity(2)  # one idle and three out: the idle one goes now, one more on its return
    assert pair.stats()["closed"] == 1
    for conn in held:
        pair.put(conn)
    assert pair.stats() == {"capacity": 2, "in_use": 0, "idle": 2, "created": 4, "closed": 2}


def test_idle_timeout_replaces_stale_connections():
    made = iter(range(100))
    pool = redispool.ResourcePool(lambda: next(made), capacity=1, max_capacity=1, idle_timeout=0.02)
    pool.put(pool.get())
    assert pool.get() == 0
    pool.put(0)
    time.sleep(0.05)
    assert pool.get() == 1
    assert pool.stats()["closed"] == 1


def test_an_error_reply_keeps_the_connection_and_a_broken_one_is_replaced(pair):
    pair.set_capacity(1)
    pair.do("SET", PREFIX + "text", "not a list")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        pair.do("LPUSH", PREFIX + "text", "x")  # the server answered: the socket is fine for the next caller
    assert pair.stats()["created"] == 1 and pair.stats()["closed"] == 0
    with pytest.raises(RuntimeError), pair.resource():
        raise RuntimeError("the caller failed halfway: the connection's state is unknown")
    assert pair.stats()["closed"] == 1 and pair.do("PING") is True and pair.stats()["created"] == 2


def test_a_transaction_left_open_by_an_error_reply_ends_before_the_next_caller(pair):
    pair.set_capacity(1)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"), pair.resource() as conn:
        conn.execute_command("MULTI")
        conn.execute_command("SET", PREFIX + "half")  # refused while queuing: the MULTI stays open
    assert pair.do("PING") is True  # not QUEUED into the first caller's transaction
    assert pair.stats()["created"] == 1 and pair.stats()["closed"] == 0
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"), pair.resource() as conn:
        conn.delete(PREFIX + "text")
        conn.execute_command("SET", PREFIX + "text", "not a list")
        conn.execute_command("LPUSH", PREFIX + "text", "x")  # no MULTI open: DISCARD's own error is ignored
    assert pair.do("PING") is True and pair.stats()["created"] == 1
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"), pair.resource() as conn:
        conn.execute_command("WATCH", PREFIX + "text")
        conn.execute_command("LPUSH", PREFIX + "text", "x")
    pair.do("SET", PREFIX + "text", "changed")  # would abort the next caller's transaction if still watched
    with pair.resource() as conn:
        conn.execute_command("MULTI")
        conn.execute_command("ECHO", "ran")
        assert conn.execute_command("EXEC") == [b"ran"]  # None: aborted by the key watched before


def test_a_connection_that_cannot_be_tidied_is_replaced(pair, monkeypatch):
    pair.set_capacity(1)
    monkeypatch.setattr(pair, "tidy", lambda conn: conn.close() or conn.execute_command("DISCARD"))
    with pytest.raises(redis.ResponseError), pair.resource() as conn:
        conn.execute_command("SET", PREFIX + "half")
    assert pair.stats()["closed"] == 1 and pair.do("PING") is True and pair.stats()["created"] == 2


def test_a_failed_connect_frees_its_slot():
    pool = redispool.RoundRobinPool([DOWN], capacity=1, max_capacity=1)
    for _ in range(2):  # the second try would wait forever if the first kept its slot
        with pytest.raises(ServiceError, match="127.0.0.1:1 does not answer"):
            pool.get(timeout=0.1)
    assert pool.stats()["in_use"] == 0


def test_closed_pool_refuses_and_closes_returned_connections(pair):
    conn = pair.get()
    pair.close()
    with pytest.raises(ServiceError, match="is closed; create a new pool"):
        pair.get()
    pair.put(conn)
    assert pair.stats()["idle"] == 0 and pair.stats()["closed"] == 1


def test_a_server_that_dies_gives_a_clear_error_and_a_fresh_connection_after(own_redis):
    pool = redispool.RoundRobinPool([own_redis.redis_url], capacity=1, max_capacity=1)
    assert pool.do("PING") is True
    services.down(own_redis, ["redis"], log=lambda line: None)
    with pytest.raises(
        ServiceError, match=f"Redis at {redisdb.address(own_redis.redis_url)} does not answer"
    ):
        pool.do("PING")
    assert pool.stats()["closed"] == 1 and pool.stats()["in_use"] == 0  # the broken connection is gone
    services.up(own_redis, ["redis"], local=True, log=lambda line: None)
    assert pool.do("PING") is True


def test_key_routed_never_loses_a_key_across_two_servers(cfg):
    kr = redisdb.KeyRouted({"redis1": cfg.redis1_url, "redis2": cfg.redis2_url})
    keys = [f"{PREFIX}k{i}" for i in range(10_000)]
    pipes = {name: c.pipeline(transaction=False) for name, c in kr.clients.items()}
    try:
        for i, key in enumerate(keys):
            assert kr.set(key, i)
        assert [kr.get(key) for key in keys] == [str(i).encode() for i in range(10_000)]
        per_server = {name: sum(kr.server_for(k) == name for k in keys) for name in kr.urls}
        assert all(4500 < n < 5500 for n in per_server.values()), per_server
        for key in keys[:200]:  # each key is on its own server, and only there
            for pipe in pipes.values():
                pipe.exists(key)
        found = {name: pipe.execute() for name, pipe in pipes.items()}
        assert [found[kr.server_for(k)][i] for i, k in enumerate(keys[:200])] == [1] * 200
        assert sum(sum(v) for v in found.values()) == 200
    finally:
        for key in keys:
            kr.delete(key)
        kr.close()
    assert kr.ranked("x") in (["redis1", "redis2"], ["redis2", "redis1"])


def test_key_routed_hashes_the_names_so_a_new_port_host_or_password_moves_no_key():
    here = {"redis1": "redis://127.0.0.1:6391/0", "redis2": "redis://127.0.0.1:6392/0"}
    moved = {"redis1": "redis://localhost:6391/0", "redis2": "redis://lab:rotated@redis2.internal:7000/3"}
    keys = [f"user:{i}" for i in range(2000)]
    before, after = redisdb.KeyRouted(here), redisdb.KeyRouted(moved)  # redis-py connects on first use only
    try:
        picks = [before.server_for(k) for k in keys]
        assert picks == [after.server_for(k) for k in keys]
        assert 800 < picks.count("redis1") < 1200, picks.count("redis1")
        # the names alone decide: the same names in another order, or another process, pick alike
        assert picks == [redisdb.KeyRouted(dict(reversed(here.items()))).server_for(k) for k in keys]
        assert before.server_for("nb07:name") == "redis1"  # pinned: blake2b is the same in every process
    finally:
        before.close()
        after.close()
    with pytest.raises(ConfigError, match="a stable name per server"):
        redisdb.KeyRouted([here["redis1"], here["redis2"]])  # type: ignore[arg-type]


def test_key_routed_with_a_server_down(cfg, own_redis):
    servers = {"redis1": cfg.redis1_url, "own": own_redis.redis_url}
    strict, tolerant = redisdb.KeyRouted(servers), redisdb.KeyRouted(servers, fallback=True)
    keys = [f"{PREFIX}f{i}" for i in range(40)]
    mine = [k for k in keys if strict.server_for(k) == "own"]
    theirs = [k for k in keys if strict.server_for(k) == "redis1"]
    assert mine and theirs
    services.down(own_redis, ["redis"], log=lambda line: None)
    try:
        assert strict.set(theirs[0], "up") and strict.get(theirs[0]) == b"up"
        with pytest.raises(
            ServiceError,
            match=f"Redis at {redisdb.address(own_redis.redis_url)} does not answer.*for key '{mine[0]}'",
        ):
            strict.get(mine[0])
        assert tolerant.get(mine[0]) is None  # a miss, served by the next-ranked server
        assert tolerant.set(mine[0], "moved") and strict.clients["redis1"].get(mine[0]) == b"moved"
    finally:
        for key in (theirs[0], mine[0]):
            strict.clients["redis1"].delete(key)
    with pytest.raises(ConfigError, match="at least one Redis server"):
        redisdb.KeyRouted({})


def test_errors_from_timeouts_read_well():
    err = redisdb.unavailable("redis://127.0.0.1:7/0", redis.TimeoutError("Timeout reading from socket"))
    assert str(err).startswith("Redis at 127.0.0.1:7 does not answer (Timeout reading from socket); start it")
    assert "does not answer (TimeoutError);" in str(redisdb.unavailable(DOWN, redis.TimeoutError()))


def test_an_exhausted_pool_is_told_apart_from_a_redis_that_is_down(cfg):
    client = redisdb.client(cfg.redis_url, timeout=0.2, max_connections=2)
    held = [client.connection_pool.get_connection() for _ in range(2)]
    try:
        with pytest.raises(redis.ConnectionError) as caught:
            client.ping()
    finally:
        for conn in held:
            client.connection_pool.release(conn)
    assert str(redisdb.unavailable(client, caught.value)) == (
        f"all 2 pooled connections to Redis at {redisdb.address(cfg.redis_url)} stayed busy for 0.2 s: "
        "raise max_connections or lower the concurrency"
    )


def test_intrinsic_latency_in_python():
    lat = redisspeed.intrinsic_latency(0.05)
    assert lat.runs > 1000 and 0 < lat.avg_us <= lat.max_us


def test_intrinsic_latency_from_redis_cli(monkeypatch):
    lat = redisspeed.redis_cli_intrinsic_latency(1)
    assert lat.runs > 1000 and 0 < lat.avg_us <= lat.max_us
    monkeypatch.setattr(
        redisspeed.subprocess, "run", lambda *a, **k: type("Done", (), {"stdout": "nonsense"})
    )
    with pytest.raises(ServiceError, match="printed something unexpected: 'nonsense'"):
        redisspeed.redis_cli_intrinsic_latency(1)
    monkeypatch.setattr(redisspeed.shutil, "which", lambda name: None)
    with pytest.raises(ServiceError, match="redis-cli is not installed: apt-get install redis-tools"):
        redisspeed.redis_cli_intrinsic_latency(1)


def test_pipelined_pings_send_whole_batches_and_read_every_answer(cfg):
    conn = redisdb.connect(cfg.redis_url)
    calls = lambda: conn.info("commandstats").get("cmdstat_ping", {}).get("calls", 0)  # noqa: E731
    before = calls()
    rate = redisspeed.pipelined_pings(cfg.redis_url, seconds=0.2, batch=300)
    sent = calls() - before
    conn.close()
    batches, others = divmod(sent, 300)  # others: compose's healthcheck PINGs this server every 2 s
    assert batches > 1 and others < 3 and rate >= sent, (sent, rate)  # batch after batch, in under 1 s


def test_pipelined_pings_do_not_wait_for_acks(cfg, monkeypatch):
    """Nagle's algorithm would hold a small write until the last one is acknowledged: at depth 1 that
    measured the socket's timers, not the server (57 against 24 µs a PING here)."""

    class Watched:  # the client's socket, its TCP_NODELAY read just before it closes
        def __init__(self, sock: socket.socket) -> None:
            self.sock, self.nodelay = sock, None

        def __getattr__(self, name: str):
            return getattr(self.sock, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.nodelay = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            self.sock.close()

    opened = []
    connect = socket.create_connection
    monkeypatch.setattr(
        socket, "create_connection", lambda *a, **k: opened.append(Watched(connect(*a, **k))) or opened[-1]
    )
    assert redisspeed.pipelined_pings(cfg.redis_url, seconds=0.01, batch=1) > 0
    assert [watched.nodelay for watched in opened] == [1]


def test_both_ping_rates_authenticate_and_name_a_wrong_answer(cfg, monkeypatch):
    """redis-benchmark runs as a PING-only user made for the run: the URL's password is never in its argv."""
    admin = redisdb.connect(cfg.redis_url)
    admin.acl_setuser("t07-owner", enabled=True, passwords=["+secret"], keys=["*"], commands=["+@all"])
    admin.acl_setuser("t07-pinger", enabled=True, passwords=["+secret"], commands=["+ping"])
    seen = []
    run = subprocess.run

    def watched(argv, **kwargs):
        login = argv[argv.index("--user") + 1]
        seen.append((argv, admin.acl_getuser(login)["commands"]))
        return run(argv, **kwargs)

    monkeypatch.setattr(redisspeed.subprocess, "run", watched)
    try:
        host, port = cfg.endpoint("redis_url")  # cfg's URL may carry a user already (compose's `lab`)
        owner, pinger = (f"redis://{user}:secret@{host}:{port}/0" for user in ("t07-owner", "t07-pinger"))
        assert redisspeed.pipelined_pings(pinger, seconds=0.05, batch=10) > 0
        assert all(rate > 0 for rate in redisspeed.redis_benchmark(owner, requests=2000).values())
        [(argv, commands)] = seen
        assert not [arg for arg in argv if "secret" in arg] and commands == ["+ping"], (argv, commands)
        assert not [user for user in admin.acl_users() if user.startswith("benchmark-")]  # deleted after
        with pytest.raises(ServiceError, match="show your Redis password to every user .* no permissions"):
            redisspeed.redis_benchmark(pinger)  # may not make a user: refused before anything runs
        with pytest.raises(ServiceError, match=r"answered b'-WRONGPASS"):
            redisspeed.pipelined_pings(pinger.replace(":secret@", ":wrong@"), seconds=0.05)
    finally:
        admin.acl_deluser("t07-owner", "t07-pinger")
        admin.close()


def test_redis_benchmark_reads_both_ping_rates(cfg, monkeypatch):
    rates = redisspeed.redis_benchmark(cfg.redis_url, requests=20_000)
    assert set(rates) == {"PING_INLINE", "PING_MBULK"} and all(rate > 1000 for rate in rates.values())
    monkeypatch.setattr(
        redisspeed.subprocess, "run", lambda *a, **k: type("Done", (), {"stdout": "nonsense"})
    )
    with pytest.raises(ServiceError, match="printed something unexpected: 'nonsense'"):
        redisspeed.redis_benchmark(cfg.redis_url)
    monkeypatch.setattr(redisspeed.shutil, "which", lambda name: None)
    with pytest.raises(
        ServiceError, match="redis-benchmark is not installed: .* or use redisspeed.pipelined_pings"
    ):
        redisspeed.redis_benchmark(cfg.redis_url)


def test_worst_ping_during_sees_the_server_blocked(cfg):
    conn = redisdb.connect(cfg.redis_url)
    took_ms, worst_ms = redisspeed.worst_ping_during(
        cfg.redis_url, lambda: conn.execute_command("DEBUG", "SLEEP", "0.3")
    )
    conn.close()
    assert took_ms >= 290 and worst_ms > 100, (took_ms, worst_ms)  # a PING waited for the sleep
    with pytest.raises(ServiceError, match="does not answer PING"):
        redisspeed.worst_ping_during(DOWN, lambda: None)


def test_concurrent_pings_start_together_and_sum_their_rates(cfg):
    conn = redisdb.connect(cfg.redis_url)
    calls = lambda: conn.info("commandstats").get("cmdstat_ping", {}).get("calls", 0)  # noqa: E731
    before = calls()
    load = redisspeed.concurrent_pings(cfg.redis_url, connections=2, seconds=0.1, batch=50, rounds=2)
    sent = calls() - before
    conn.close()
    assert load.client_cpus > 0 and load.server_cpus > 0, load
    assert 0 < load.rate * 0.1 <= sent, (
        load,
        sent,
    )  # each round ran 0.1 s or more: all its PINGs reached Redis


def test_concurrent_pings_name_a_server_that_does_not_answer():
    with pytest.raises(ServiceError, match=f"Redis at {redisdb.address(DOWN)}: a client could not PING"):
        redisspeed.concurrent_pings(DOWN, connections=2, seconds=0.05)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:pw@127.0.0.1:6390/0", "redis://:pw@127.0.0.1:6390/13"),
        ("redis://127.0.0.1:6390", "redis://127.0.0.1:6390/13"),  # no database in the URL
        ("rediss://u:pw@h:6380/2?ssl_cert_reqs=none", "rediss://u:pw@h:6380/13?ssl_cert_reqs=none"),
    ],
)
def test_on_database_swaps_only_the_database(url, expected):
    assert redisdb.on_database(url, 13) == expected


def test_on_database_reaches_that_database(cfg):
    other = redisdb.client(redisdb.on_database(cfg.redis_url, 13))
    assert other.connection_pool.connection_kwargs["db"] == 13
    assert other.ping()
