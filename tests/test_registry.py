"""The Registry against the live Redis of this test run: every line and branch, glob-safe prefixes,
no lost writes under threads, and a Redis that is down."""

import asyncio
import re
import threading
import uuid

import pytest
import redis

from foundations import redisdb
from foundations.pipelining import Pipelined
from foundations.registry import AsyncRegistry, Full, NotFound, Registry, Unavailable, WrongType, glob_escape


def run_in_threads(worker, count):
    """``worker(n)`` for n in range(count), each in a thread of its own; returns when all have ended."""
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_key_is_prefix_colon_key(reg, prefix):
    assert reg.key("name") == f"{prefix}:name"


def test_get_of_a_missing_key_raises_not_found(reg):
    reg.delete("name")
    with pytest.raises(NotFound, match="no key 'name'"):
        reg.get("name")


def test_set_then_get(reg, client, prefix):
    reg.set("name", "Tit Petric")
    assert reg.get("name") == "Tit Petric"
    assert client.get(f"{prefix}:name") == b"Tit Petric"  # the layout the Go reference reads


def test_put_stores_and_says_whether_it_created_the_key(reg, client, prefix):
    assert reg.put("name", "Tit") is True  # PUT /keys/{key}'s 201
    assert reg.put("name", "Tit Petric") is False  # its 200: a value replaced
    assert reg.get("name") == "Tit Petric" and client.get(f"{prefix}:name") == b"Tit Petric"
    reg.delete("name")
    assert reg.put("name", "again") is True


def test_put_replaces_a_key_of_another_type_as_set_does(reg, client, prefix):
    client.rpush(f"{prefix}:listed", "x")  # another program's list: SET overwrites it, and so does put
    assert reg.put("listed", "now a string") is False
    assert reg.get("listed") == "now a string"


def test_put_has_one_creator_of_a_key_however_many_threads_race_for_it(cfg, prefix):
    """EXISTS and SET in one script: no other client's SET falls between them, so of the threads that put
    the same new key at once, exactly one is told it created it (an EXISTS, then a SET, lets several)."""
    reg = Registry(redisdb.client(cfg.redis_url, timeout=30, max_connections=16), prefix=prefix)
    start = threading.Barrier(16)
    created, errors = [], []

    def worker(n):
        start.wait()
        try:
            created.extend(f"race{i}" for i in range(50) if reg.put(f"race{i}", f"{n}"))
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    run_in_threads(worker, 16)
    assert errors == [] and sorted(created) == sorted(f"race{i}" for i in range(50))


def test_ping_passes_while_redis_answers(reg):
    assert reg.ping() is None  # /healthz's check: Unavailable when Redis is down (below)


def test_delete_says_whether_the_key_existed(reg):
    reg.set("name", "x")
    assert reg.delete("name") is True
    assert reg.delete("name") is False


def test_values_that_are_not_utf8_do_not_fail(reg, client, prefix):
    client.set(f"{prefix}:raw", b"\xff ok")
    assert reg.get("raw") == "\ufffd ok"


def test_a_decoding_client_works_too(cfg, prefix):
    client = redis.Redis.from_url(cfg.redis_url, decode_responses=True)
    reg = Registry(client, prefix=prefix, page_size=2)
    reg.set("a", "1")
    reg.set("b", "2")
    reg.set("c", "3")
    assert reg.get("a") == "1"
    assert reg.get_all() == reg.get_all_book() == {"a": "1", "b": "2", "c": "3"}


@pytest.mark.parametrize("way", ["get_all", "get_all_book"])
def test_get_all_with_no_keys_is_empty(client, way):
    # The book's second way to cover this line: real data (a registry nobody wrote to), not a mock.
    empty = Registry(client, prefix=f"testerr_{uuid.uuid4().hex}")
    assert getattr(empty, way)() == {}


@pytest.mark.parametrize("way", ["get_all", "get_all_book"])
def test_get_all_returns_every_pair_over_many_pages(client, prefix, way):
    reg = Registry(client, prefix=prefix, page_size=7)
    expected = {f"k{i}": f"v{i}" for i in range(50)}
    client.mset({reg.key(k): v for k, v in expected.items()})
    client.set("other_" + prefix + ":k1", "not ours")
    try:
        assert getattr(reg, way)() == expected
    finally:
        client.delete("other_" + prefix + ":k1")


@pytest.mark.parametrize("way", ["get_all", "get_all_book"])
def test_keys_deleted_while_get_all_runs_are_skipped(client, prefix, way):
    seen = []

    def on_call(name):
        seen.append(name)
        if name == "registry.getAll.get":
            client.delete(f"{prefix}:b")  # gone between listing and fetching

    # One SCAN page for the whole keyspace (COUNT above its size), so "b" is listed before it is deleted
    # even when other tests fill the database.
    reg = Registry(client, prefix=prefix, on_call=on_call, page_size=10_000_000)
    reg.set("a", "1")
    reg.set("b", "2")
    assert getattr(reg, way)() == {"a": "1"}
    assert seen.count("registry.getAll") == 1 and seen.count("registry.getAll.get") == 2


def test_get_all_skips_keys_that_are_not_strings(reg, client, prefix):
    reg.set("s", "str")
    client.rpush(f"{prefix}:list", "x")
    assert reg.get_all() == {"s": "str"}


def test_glob_characters_in_the_prefix_match_only_themselves(client):
    base = uuid.uuid4().hex
    tricky = Registry(client, prefix=f"t[x]*?{base}")
    plain = Registry(client, prefix=f"tx-any{base}")  # matches the unescaped pattern t[x]*?<base>:*
    try:
        tricky.set("mine", "1")
        plain.set("theirs", "2")
        assert tricky.get_all() == {"mine": "1"}
        assert tricky.get_all_book() == {"theirs": "2"}  # the book's unescaped KEYS: the wrong registry
    finally:
        tricky.delete("mine")
        plain.delete("theirs")


def test_glob_escape():
    assert glob_escape("a*b?c[d]e\\") == "a\\*b\\?c\\[d\\]e\\\\"


def test_on_call_names_every_operation(client, prefix):
    seen = []
    reg = Registry(client, prefix=prefix, on_call=seen.append)
    reg.set("a", "1")
    reg.get("a")
    reg.delete("a")
    reg.get_all()
    reg.put("a", "2")  # PUT /keys/{key}: a set, as the book's counters count it
    assert seen == ["registry.set", "registry.get", "registry.del", "registry.getAll", "registry.set"]


def test_concurrent_set_get_loses_no_writes(cfg, prefix):
    # 32 threads share one client whose pool holds 8 connections: they queue for them, nothing is lost.
    # The wait for a free connection is generous: on a loaded CI machine a thread can wait over 1 s.
    reg = Registry(redisdb.client(cfg.redis_url, timeout=30, max_connections=8), prefix=prefix)
    errors = []

    def worker(n):
        try:
            for i in range(100):
                reg.set(f"t{n}-{i}", f"{n}:{i}")
                if reg.get(f"t{n}-{i}") != f"{n}:{i}":
                    errors.append((n, i))
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    run_in_threads(worker, 32)
    assert errors == []
    assert reg.get_all() == {f"t{n}-{i}": f"{n}:{i}" for n in range(32) for i in range(100)}


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.get("k"),
        lambda r: r.set("k", "v"),
        lambda r: r.put("k", "v"),
        lambda r: r.delete("k"),
        lambda r: r.get_all(),
        lambda r: r.get_all_book(),
        lambda r: r.ping(),
    ],
)
def test_a_redis_that_is_down_is_unavailable_naming_its_address(call):
    down = Registry(redisdb.client("redis://127.0.0.1:1/0", timeout=0.2), prefix="x")
    with pytest.raises(Unavailable, match=r"127\.0\.0\.1:1 does not answer .*services up"):
        call(down)


def test_an_exhausted_pool_says_so_rather_than_redis_is_down(cfg, prefix):
    client = redisdb.client(cfg.redis_url, timeout=0.2, max_connections=1)
    held = client.connection_pool.get_connection()
    host, port = cfg.endpoint("redis_url")
    where = re.escape(f"{host}:{port}")  # 127.0.0.1:port here, redis:6379 in the Docker lab
    try:
        with pytest.raises(
            Unavailable,
            match=rf"all 1 pooled connections to Redis at {where} stayed busy for 0\.2 s: raise max_connections",
        ):
            Registry(client, prefix=prefix).get("k")
    finally:
        client.connection_pool.release(held)


def test_unavailable_names_the_cluster_when_the_client_has_no_single_pool():
    class NodeDown:
        def get(self, name):
            raise redis.ConnectionError("node 127.0.0.1:7001 refused")

    with pytest.raises(Unavailable, match="Redis at the cluster does not answer"):
        Registry(NodeDown(), prefix="t").get("k")


def test_the_async_registry_keeps_the_same_keys_counters_and_errors(cfg, client, prefix):
    """``AsyncRegistry`` (chapter 10's pipelined server) over the keys the sync one uses."""
    calls = []

    async def story():
        reg = AsyncRegistry(Pipelined(cfg.redis_url), prefix=prefix, on_call=calls.append)
        try:
            await reg.set("name", "Tit Petric")
            stored = client.get(f"{prefix}:name")
            got = await reg.get("name")
            deleted = [await reg.delete("name"), await reg.delete("name")]
            with pytest.raises(NotFound, match="no key 'name'"):
                await reg.get("name")
        finally:
            reg.client.close()
        return stored, got, deleted

    assert asyncio.run(story()) == (b"Tit Petric", "Tit Petric", [True, False])
    assert calls == ["registry.set", "registry.get", "registry.del", "registry.del", "registry.get"]


@pytest.mark.parametrize(
    "call", [lambda reg: reg.get("a"), lambda reg: reg.set("a", "1"), lambda reg: reg.delete("a")]
)
def test_the_async_registry_says_redis_is_down(call):
    async def story():
        reg = AsyncRegistry(Pipelined("redis://127.0.0.1:1/0", timeout=0.2), prefix="api")
        try:
            await call(reg)
        finally:
            reg.client.close()

    with pytest.raises(Unavailable, match="registry 'api': Redis at 127.0.0.1:1 does not answer"):
        asyncio.run(story())


def test_a_key_of_another_type_is_wrong_type_naming_the_key(cfg, reg, client, prefix):
    client.rpush(f"{prefix}:listed", "x")  # another program's list, under the registry's prefix
    for call in (lambda: reg.get("listed"), reg.get_all_book):
        with pytest.raises(WrongType, match=r"key 'listed' holds a value that is not a string .* delete it"):
            call()

    async def story():
        fast = AsyncRegistry(Pipelined(cfg.redis_url), prefix=prefix)
        try:
            await fast.get("listed")
        finally:
            fast.client.close()

    with pytest.raises(WrongType, match=r"Redis at .*: key 'listed' holds a value that is not a string"):
        asyncio.run(story())


def test_a_full_redis_is_full_and_reads_still_work(own_redis):
    client = redisdb.client(own_redis.redis_url)
    reg = Registry(client, prefix="t")
    reg.set("kept", "v")
    client.config_set("maxmemory", 1)
    try:
        for write in (reg.set, reg.put):  # put: Redis refuses to queue its transaction (EXECABORT)
            with pytest.raises(Full, match=r"Redis at .* is full \(over its maxmemory\): nothing was stored"):
                write("new", "v")
        assert reg.get("kept") == "v" and client.exists("t:new") == 0
    finally:
        client.config_set("maxmemory", 0)


def test_an_error_reply_the_registry_does_not_expect_names_itself(reg):
    reg.page_size = 0  # SCAN ... COUNT 0: Redis answers ERR syntax error
    with pytest.raises(Unavailable, match=r"answered an error \(ERR syntax error\): see the Redis log"):
        reg.get_all()


def test_a_refusal_names_the_cluster_when_the_client_has_no_single_pool():
    class ReadOnlyNode:
        def get(self, name):
            raise redis.ResponseError("READONLY You can't write against a read only replica.")

    with pytest.raises(Unavailable, match="registry 't': the Redis cluster is a read-only replica"):
        Registry(ReadOnlyNode(), prefix="t").get("k")
