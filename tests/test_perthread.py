"""The per-thread GET client against a real Redis: same answers as redis-py, no sharing, survives restarts."""

import threading
import time

import pytest
import redis

from foundations import config, net
from foundations.ops import services
from foundations.perthread import PerThreadRedis


@pytest.fixture
def client(cfg):
    c = PerThreadRedis(cfg.redis_url)
    yield c
    c.delete("perthread:a", "perthread:b")
    c.close()


def test_get_matches_redis_py(client):
    client.set("perthread:a", "1")
    assert client.get("perthread:a") == b"1"
    assert client.get("perthread:missing") is None
    assert client.mget(["perthread:a", "perthread:missing"]) == [b"1", None]  # other commands: the pool


def test_each_thread_has_its_own_connection(client):
    client.set("perthread:b", "x")
    seen = []

    def work():
        assert client.get("perthread:b") == b"x"
        seen.append(client._local.conn)

    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len({id(c) for c in seen}) == 4


def test_close_disconnects_every_threads_connection(cfg):
    client = PerThreadRedis(cfg.redis_url)
    names = f"perthread-close-{id(client)}"
    client.connection_pool.connection_kwargs["client_name"] = names  # every connection made from now on
    used, done = threading.Barrier(4), threading.Event()

    def work():  # the thread stays alive, with its connection, until the test is done
        client.get("perthread:a")
        used.wait()
        done.wait()

    threads = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in threads]
    used.wait()
    client.get("perthread:a")  # and this thread's own
    probe = redis.Redis.from_url(cfg.redis_url)
    ours = lambda: [c for c in probe.client_list() if c["name"] == names]  # noqa: E731
    try:
        assert len(ours()) == 4
        client.close()  # from the main thread, while the other threads still run
        deadline = time.monotonic() + 5  # Redis notices a closed socket on its next event-loop turn
        while ours() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ours() == []
    finally:
        done.set()
        [t.join() for t in threads]
        probe.close()


def test_a_thread_that_ends_closes_its_connection(cfg):
    """granian ends idle request threads and starts new ones: their connections must not pile up in Redis."""
    client = PerThreadRedis(cfg.redis_url)
    name = f"perthread-ended-{id(client)}"
    client.connection_pool.connection_kwargs["client_name"] = name  # every connection made from now on
    probe = redis.Redis.from_url(cfg.redis_url)
    ours = lambda: sum(c["name"] == name for c in probe.client_list())  # noqa: E731
    try:
        for _burst in range(3):  # each burst's threads end before the next burst's start
            threads = [threading.Thread(target=client.get, args=("perthread:a",)) for _ in range(8)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            deadline = time.monotonic() + 5  # Redis notices a closed socket on its next event-loop turn
            while ours() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert (ours(), len(client._every)) == (0, 0)
        client.get("perthread:a")  # a thread still running keeps its connection
        assert (ours(), len(client._every)) == (1, 1)
    finally:
        client.close()
        probe.close()


def test_wrong_type_is_an_error_not_a_value(client):
    client.rpush("perthread:a", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.get("perthread:a")


def test_reconnects_after_a_restart_and_fails_clearly_when_down(tmp_path):
    cfg = config.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{net.free_port()}/0"],
        environ={},
    )
    quiet = dict(log=lambda line: None)
    services.up(cfg, ["redis"], local=True, **quiet)
    try:
        client = PerThreadRedis(cfg.redis_url, timeout=0.5)
        client.set("k", "v")
        assert client.get("k") == b"v"
        services.down(cfg, ["redis"], **quiet)
        services.up(cfg, ["redis"], local=True, **quiet)  # a fresh, empty Redis on the same port
        assert client.get("k") is None  # the dead connection was replaced, not reported
        services.down(cfg, ["redis"], **quiet)
        with pytest.raises(redis.ConnectionError):
            client.get("k")
    finally:
        services.down(cfg, **quiet)
