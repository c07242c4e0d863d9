"""The auto-pipelining Redis client against real Redis: batching, order, errors, timeouts and recovery."""

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import hiredis
import pytest
import redis

from foundations import api, config, net, production, redisdb, web
from foundations.ops import services
from foundations.pipelining import Blocking, Pipelined
from foundations.registry import AsyncRegistry, NotFound, Registry, Unavailable


def run(coro):
    return asyncio.run(coro)


def test_commands_of_one_loop_turn_go_out_in_one_write(cfg, prefix):
    async def main():
        client = Pipelined(cfg.redis_url)
        await client.execute("PING")  # connected, nothing in flight
        writes = []
        transport = client._connection.transport
        real_write = transport.write
        transport.write = lambda data: (writes.append(data), real_write(data))[1]
        replies = await asyncio.gather(*(client.execute("SET", f"{prefix}:{i}", i) for i in range(100)))
        client.close()
        return writes, replies

    writes, replies = run(main())
    assert replies == [b"OK"] * 100
    # the first command found the pipeline idle and went at once; the other 99 waited for one write
    assert [data.count(b"SET") for data in writes] == [1, 99]


def test_with_pipelining_off_every_command_waits_for_the_reply_before_it(cfg, prefix):
    """variants.ONE_AT_A_TIME's client; the pipelined client on the same load is the positive control."""

    async def writes_and_most_in_flight(pipelining):
        client = Pipelined(cfg.redis_url, pipelining=pipelining)
        await client.execute("PING")
        sent, replied, in_flight = [0], [0], []
        transport = client._connection.transport
        real_write, real_received = transport.write, client._received

        def write(data):
            sent[0] += data.count(b"SET")
            in_flight.append(sent[0] - replied[0])
            real_write(data)

        def received(connection, replies):
            replied[0] += len(replies)
            real_received(connection, replies)

        transport.write, client._received = write, received
        replies = await asyncio.gather(*(client.execute("SET", f"{prefix}:{i}", i) for i in range(50)))
        client.close()
        assert replies == [b"OK"] * 50
        return len(in_flight), max(in_flight)

    assert run(writes_and_most_in_flight(False)) == (50, 1)  # 50 writes, never more than 1 in flight
    assert run(writes_and_most_in_flight(True)) == (2, 50)  # the first alone, then 49 in one write


def test_with_pipelining_off_a_new_connection_sends_its_queue_one_at_a_time(cfg, prefix):
    async def main():
        client = Pipelined(cfg.redis_url, pipelining=False)
        replies = await asyncio.gather(*(client.execute("INCR", f"{prefix}:n") for _ in range(5)))
        client.close()
        return replies

    assert run(main()) == [1, 2, 3, 4, 5]


def test_replies_come_back_to_their_commands_in_order(cfg, prefix):
    key = f"{prefix}:k"

    async def main():
        client = Pipelined(cfg.redis_url)
        commands = []
        for i in range(200):  # writes and reads of one key, interleaved in one batch
            commands += [client.execute("SET", key, i), client.execute("GET", key)]
        replies = await asyncio.gather(*commands)
        client.close()
        return replies

    replies = run(main())
    assert replies[1::2] == [str(i).encode() for i in range(200)]


def test_error_replies_are_errors_not_values(cfg, prefix):
    async def main():
        client = Pipelined(cfg.redis_url)
        await client.execute("RPUSH", f"{prefix}:list", "x")
        results = await asyncio.gather(
            client.execute("GET", f"{prefix}:list"), client.execute("PING"), return_exceptions=True
        )
        client.close()
        return results

    wrong, pong = run(main())
    assert isinstance(wrong, hiredis.ReplyError) and "WRONGTYPE" in str(wrong) and pong == b"PONG"


def test_selects_the_database_of_the_url(cfg, prefix):
    other = redisdb.on_database(cfg.redis_url, 3)

    async def main():
        client = Pipelined(other)
        await client.execute("SET", f"{prefix}:db", "three")
        client.close()

    run(main())
    db3 = redis.Redis.from_url(other)
    assert db3.get(f"{prefix}:db") == b"three"
    assert redis.Redis.from_url(cfg.redis_url).get(f"{prefix}:db") is None
    db3.delete(f"{prefix}:db")


def test_refused_fails_fast_then_recovers_without_a_restart(own_redis):
    async def main():
        client = Pipelined(own_redis.redis_url, timeout=1.0)
        assert await client.execute("SET", "k", "before") == b"OK"
        services.down(own_redis, log=lambda line: None)
        started = time.monotonic()
        with pytest.raises(ConnectionError, match="does not answer|closed the connection"):
            await client.execute("GET", "k")
        failed_after = time.monotonic() - started
        services.up(own_redis, ["redis"], local=True, log=lambda line: None)
        value = await client.execute("GET", "k")  # the same client object: it connects again by itself
        client.close()
        return failed_after, value

    failed_after, value = run(main())
    assert failed_after < 1.0
    assert value in (b"before", None)  # a fresh Redis may not have kept the key; it answers either way


def test_a_stalled_redis_times_out_within_the_timeout_then_recovers(own_redis):
    stall = threading.Thread(
        target=lambda: redis.Redis.from_url(own_redis.redis_url).execute_command("DEBUG", "SLEEP", "1.5")
    )

    async def main():
        client = Pipelined(own_redis.redis_url, timeout=0.5)
        await client.execute("SET", "k", "v")
        stall.start()
        await asyncio.sleep(0.1)
        started = time.monotonic()
        gets = [client.execute("GET", "k") for _ in range(10)]
        results = await asyncio.gather(*gets, return_exceptions=True)
        waited = time.monotonic() - started
        await asyncio.sleep(1.6)  # Redis wakes up; the late replies must not reach newer commands
        after = await asyncio.gather(client.execute("SET", "k", "w"), client.execute("GET", "k"))
        client.close()
        return results, waited, after

    results, waited, after = run(main())
    stall.join()
    assert all(isinstance(r, TimeoutError) for r in results), results
    assert 0.3 < waited < 1.0
    assert after == [b"OK", b"w"]


@pytest.fixture
def loop_thread():
    """An event loop running in a thread of its own, as granian's worker runs the RSGI server's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_blocking_serves_the_registry_from_other_threads(cfg, prefix, loop_thread):
    """web.App's routes run in threads beside the loop: their Registry reaches Redis through the loop."""
    blocking = Blocking(Pipelined(cfg.redis_url))
    blocking.attach(loop_thread)
    store = Registry(blocking, prefix=prefix, page_size=3)
    with ThreadPoolExecutor(4) as pool:  # several threads at once share the one pipelined connection
        list(pool.map(lambda i: store.set(f"k{i}", f"v{i}"), range(10)))
    store.ping()
    assert store.get("k1") == "v1"
    assert store.get_all() == {f"k{i}": f"v{i}" for i in range(10)}  # SCAN pages, then MGET
    assert store.delete("k1") and not store.delete("k1")
    with pytest.raises(NotFound):
        store.get("k1")
    assert [store.put("k1", "new"), store.put("k1", "replaced")] == [True, False]  # EVAL
    assert store.get("k1") == "replaced"


def test_put_over_blocking_has_one_creator_while_other_commands_share_the_connection(
    cfg, prefix, loop_thread
):
    """``Registry.put`` over ``Blocking``: one command (``EVAL``) on the one pipelined connection that every
    thread's commands share, so of the threads racing to put one new key, exactly one created it, and the
    other commands between get their own replies."""
    blocking = Blocking(Pipelined(cfg.redis_url))
    blocking.attach(loop_thread)
    store = Registry(blocking, prefix=prefix)
    start = threading.Barrier(8)

    def race(n):
        store.set(f"other{n}", "x")
        start.wait()
        return [store.put(f"race{i}", str(n)) for i in range(50)], store.get(f"other{n}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(race, range(8)))
    assert all(other == "x" for _, other in results)
    assert [sum(created[i] for created, _ in results) for i in range(50)] == [1] * 50


def test_blocking_says_unavailable_with_the_address(loop_thread):
    store = Registry(Blocking(Pipelined("redis://127.0.0.1:1/0", timeout=0.2)), prefix="api")
    with pytest.raises(Unavailable, match="before the server's event loop runs"):
        store.ping()
    store.client.attach(loop_thread)
    with pytest.raises(Unavailable, match=r"Redis at 127.0.0.1:1 does not answer \(Connection refused\)"):
        store.get_all()


def test_the_rsgi_server_never_loads_redis_py(cfg):
    """Every route of the RSGI app reaches Redis through the pipelined client: redis-py (and its imports)
    would be a third of the server's memory (chapter 10)."""
    code = (
        "import sys; from foundations import cli, config, server; "
        "server.fast_app_from_environment(); print(sorted(m for m in sys.modules if m.startswith('redis')))"
    )
    environ = config.child_environ(cfg)
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_async_routes_answer_like_the_wsgi_routes(cfg, prefix):
    requests = [
        ("GET", "key=a&value=b", "/set"),
        ("GET", "key=a", "/get"),
        ("GET", "key=nope", "/get"),
        ("GET", "", "/get"),
        ("POST", "key=a", "/del"),
        ("GET", "key=a", "/del"),
    ]

    async def main(registry):
        fast = api.async_routes(registry)
        answers = [
            await fast[path](web.Request({"REQUEST_METHOD": method, "QUERY_STRING": query}))
            for method, query, path in requests
        ]
        registry.client.close()
        return answers

    sync = api.routes(Registry(redis.Redis.from_url(cfg.redis_url), prefix=prefix))
    expected = [
        sync[path](web.Request({"REQUEST_METHOD": method, "QUERY_STRING": query}))
        for method, query, path in requests
    ]
    answers = run(main(AsyncRegistry(Pipelined(cfg.redis_url), prefix=prefix)))
    assert [a.status for a in answers] == [200, 200, 404, 400, 200, 404]
    assert [(a.status, a.body, a.headers) for a in answers] == [
        (e.status, e.body, e.headers) for e in expected
    ]


def test_redis_down_is_a_503_with_the_address(cfg):
    down = AsyncRegistry(Pipelined("redis://127.0.0.1:1/0", timeout=0.2), prefix="api")
    response = run(api.async_routes(down)["/get"](web.Request({"QUERY_STRING": "key=a"})))
    assert response.status == 503
    assert json.loads(response.body)["error"]["message"].startswith(
        "registry 'api': Redis at 127.0.0.1:1 does not answer (Connection refused); start it with"
    )


def test_the_pipelined_server_loses_no_writes_under_concurrency(cfg):
    """32 clients each write then read their own keys through the running (pipelined) server at once."""
    run_id = uuid.uuid4().hex[:8]

    def client(n: int) -> list[str]:
        wrong = []
        for i in range(50):
            key, value = f"t16-{run_id}-{n}-{i}", f"value {n}/{i}"
            assert net.http_get(f"{cfg.api_url}/set?key={key}&value={quote(value)}") == (200, b'"OK"')
            status, body = net.http_get(f"{cfg.api_url}/get?key={key}")
            if (status, json.loads(body)) != (200, value):
                wrong.append(key)
        return wrong

    with ThreadPoolExecutor(32) as pool:
        wrong = [key for found in pool.map(client, range(32)) for key in found]
    stored = redis.Redis.from_url(cfg.redis_url)
    keys = list(stored.scan_iter(match=f"api:t16-{run_id}-*", count=1000))
    assert wrong == [] and len(keys) == 32 * 50
    stored.delete(*keys)


def test_two_loop_threads_serve_every_route_without_losing_writes(cfg):
    """``serve --threads 2``: two granian worker threads run their loops over the one app object, so each
    loop needs a connection of its own (``PerLoop``); on a shared one the second loop's requests hang."""
    run_id = uuid.uuid4().hex[:8]

    def client(n: int) -> list[tuple]:
        wrong = []
        for i in range(10):  # a new connection per request, as ab: granian hands them to both loops
            key, value = f"t24-{run_id}-{n}-{i}", f"value {n}/{i}"
            answers = [
                net.http_get(f"{server.url}/set?key={key}&value={quote(value)}", timeout=5),
                net.http_get(f"{server.url}/get?key={key}", timeout=5),
                net.http_get(f"{server.url}/keys/{key}", timeout=5),  # web.App's route, via Blocking
            ]
            stored = (200, json.dumps(value).encode())
            if answers != [(200, b'"OK"'), stored, stored]:
                wrong.append((key, answers))
        return wrong

    with (
        production.start(cfg, "--interface", "rsgi", "--threads", "2") as server,
        ThreadPoolExecutor(8) as pool,
    ):
        wrong = [answer for found in pool.map(client, range(8)) for answer in found]
    assert wrong == []
    written = redis.Redis.from_url(cfg.redis_url)
    written.delete(*written.scan_iter(match=f"api:t24-{run_id}-*", count=1000))


def test_the_served_app_answers_503_while_redis_is_down_and_recovers(own_redis):
    with production.start(own_redis) as server:
        assert net.http_get(server.url + "/set?key=k&value=v")[0] == 200
        services.down(own_redis, log=lambda line: None)
        started = time.monotonic()
        status, body = net.http_get(server.url + "/get?key=k", timeout=5)
        answered_after = time.monotonic() - started
        beyond_the_fast_path = [
            net.http_get(server.url + path, timeout=5) for path in ("/getAll", "/healthz")
        ]
        services.up(own_redis, ["redis"], local=True, log=lambda line: None)
        recovered = net.http_get(server.url + "/set?key=k&value=again")
        assert net.http_get(server.url + "/get?key=k") == (200, b'"again"')
        assert net.http_get(server.url + "/getAll") == (200, b'{"k": "again"}')
    assert status == 503 and json.loads(body)["error"]["type"] == "service_unavailable"
    assert [status for status, _ in beyond_the_fast_path] == [503, 503]  # web.App's routes, via Blocking
    assert answered_after < own_redis.redis_timeout + 0.5
    assert recovered == (200, b'"OK"')


def test_the_served_app_keeps_the_kernels_contract(cfg):
    """405 with Allow, and a body on a route that takes none, answered by web.App behind RSGI too."""
    import urllib.error
    import urllib.request

    for method, target, body, status in [
        ("POST", "/get?key=a", None, 405),
        ("DELETE", "/getAll", None, 405),
        ("POST", "/set?key=a&value=b", b"x" * 10, 415),  # a route that takes no body: not "too large"
    ]:
        request = urllib.request.Request(cfg.api_url + target, data=body, method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == status, (method, target)
        if status == 405:
            assert refused.value.headers["Allow"] == "GET, HEAD"
        if status == 415:
            error = json.loads(refused.value.read())["error"]
            assert (error["type"], error["message"]) == ("unsupported_media_type", web.NO_BODY)


def test_the_served_app_hands_handlers_the_path_as_wsgi_does(cfg):
    status, body = net.http_get(cfg.api_url + "/hello/" + quote("žè😍"))
    assert (status, body.decode()) == (200, "Hello žè😍!")


def test_the_served_app_refuses_a_body_over_the_limit_without_reading_it(cfg):
    import http.client

    host, port = cfg.endpoint("api_url")
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.putrequest("PUT", "/keys/t16-big")
    conn.putheader("Content-Length", str(2 * web.MAX_DRAIN_BYTES))  # declared, never sent
    conn.endheaders()
    response = conn.getresponse()
    assert (
        response.status == 413 and json.loads(response.read())["error"]["type"] == "request_entity_too_large"
    )
    assert response.headers["Connection"] == "close"
    conn.close()
    status, _ = net.http_get(cfg.api_url + "/keys/t16-big")
    assert status == 404
