"""The loop server (``serve``'s default) at the HTTP level, over raw sockets to a real ``serve`` on the run's
Redis: keep-alive, HTTP/1.0, pipelining in order, bodies, malformed and oversized heads, a client that leaves
mid-request, and the application's own failures. The contract tests (test_contract.py) and the SIGTERM test
(test_metrics.py) run against it too."""

from __future__ import annotations

import asyncio
import contextvars
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from foundations import loopserver, production
from foundations.web import MAX_DRAIN_BYTES, NO_BODY


@pytest.fixture(scope="module")
def api(cfg):
    with production.start(cfg) as server:
        yield server


def connect(api) -> socket.socket:
    parts = urlsplit(api.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_response(conn: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response off ``conn`` (``buffer`` keeps what arrived after it)."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def closed(conn: socket.socket) -> bool:
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("/hello", b"Hello ... you."),
        ("/say/T%C3%ADt", "Hello Tít!".encode()),  # the path percent-decoded, then read as UTF-8
        ("/hello?name=Ti%20t", b"Hello Ti t!"),
        ("/hello#part", b"Hello ... you."),  # a fragment is no part of the path
        ("/hello?name=a#b", b"Hello a!"),
        ("http://example.test/hello?name=abs", b"Hello abs!"),  # the absolute form proxies send
    ],
)
def test_request_targets_reach_the_route_with_their_query(api, target, body):
    with connect(api) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, _, answer = read_response(conn, bytearray())
    assert (status, answer) == (200, body)


def test_keep_alive_answers_many_requests_on_one_connection(api):
    with connect(api) as conn:
        buffer = bytearray()
        for name in ("a", "b", "c"):
            conn.sendall(f"GET /hello?name={name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, headers, body = read_response(conn, buffer)
            assert (status, body) == (200, f"Hello {name}!".encode())
            assert "connection" not in headers and headers["date"].endswith(" GMT")


def test_the_date_header_follows_the_clock(api):
    """Answer heads are reused within a second: the Date header must still move on."""
    with connect(api) as conn:
        buffer, dates = bytearray(), []
        for _ in range(2):
            conn.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            _, headers, _ = read_response(conn, buffer)
            dates.append(parsedate_to_datetime(headers["date"]))
            time.sleep(2.1)  # the server's clock reads the time once a second
    assert dates[1] - dates[0] >= timedelta(seconds=1)
    assert abs(dates[1] - datetime.now(UTC)) < timedelta(seconds=5)


def test_http_1_0_closes_unless_asked_to_keep_alive(api):
    with connect(api) as conn:
        conn.sendall(b"GET /hello HTTP/1.0\r\n\r\n")
        status, headers, _ = read_response(conn, bytearray())
        assert status == 200 and headers["connection"] == "close" and closed(conn)
    with connect(api) as conn:
        buffer = bytearray()
        for _ in range(2):
            conn.sendall(b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = read_response(conn, buffer)
            assert status == 200 and headers["connection"] == "keep-alive"


def test_pipelined_requests_are_answered_in_order(api):
    """Three requests in one write, the middle one waiting on Redis: the answers keep the requests' order."""
    with connect(api) as conn:
        conn.sendall(
            b"POST /set?key=loop&value=piped HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /get?key=loop HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /hello?name=last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        buffer = bytearray()
        answers = [read_response(conn, buffer) for _ in range(3)]
        assert [(status, body) for status, _, body in answers] == [
            (200, b'"OK"'),
            (200, b'"piped"'),
            (200, b"Hello last!"),
        ]
        assert answers[2][1]["connection"] == "close" and closed(conn)


def test_a_body_reaches_the_application_and_a_large_one_is_refused_early(api):
    key = f"loop-form-{time.monotonic_ns()}"
    with connect(api) as conn:  # a route that takes no body: the body is read, the answer is a 415
        conn.sendall(
            f"POST /set?key={key}&value=v HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=c".encode()
        )
        buffer = bytearray()
        status, headers, body = read_response(conn, buffer)
        assert (status, headers["content-type"], "connection" in headers) == (415, "application/json", False)
        assert json.loads(body) == {"error": {"type": "unsupported_media_type", "message": NO_BODY}}
        conn.sendall(f"GET /get?key={key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())  # the connection goes on
        assert read_response(conn, buffer)[0] == 404  # and nothing was written
    for target, status in [("/set", 415), ("/keys/loop-big", 413)]:  # 413: over a body-taking route's limit
        with connect(api) as conn:  # announced larger than anything is read: answered before it is sent
            method = "PUT" if target.startswith("/keys/") else "POST"
            announced = f"Content-Length: {MAX_DRAIN_BYTES * 4}\r\n\r\n"
            conn.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\n{announced}".encode())
            got, headers, _ = read_response(conn, bytearray())
            assert (got, headers["connection"]) == (status, "close"), target


def test_a_malformed_request_gets_a_json_400_and_the_connection_closes(api):
    with connect(api) as conn:
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost x\r\n\r\n")  # a header without its colon
        status, headers, body = read_response(conn, bytearray())
        assert status == 400 and headers["connection"] == "close" and closed(conn)
        assert json.loads(body)["error"]["type"] == "bad_request"


def test_a_request_head_too_large_gets_431(api):
    with connect(api) as conn:
        conn.sendall(b"GET /hello HTTP/1.1\r\nX-Big: " + b"x" * (loopserver.MAX_HEAD_BYTES + 1) + b"\r\n\r\n")
        status, _, body = read_response(conn, bytearray())
        assert status == 431 and json.loads(body)["error"]["type"] == "request_header_fields_too_large"


def test_a_client_that_leaves_mid_request_does_not_disturb_the_others(api):
    for _ in range(20):
        with connect(api) as conn:
            conn.sendall(b"GET /get?key=loop HTTP/1.1\r\nHost: x\r\n\r\n")
        # closed before its answer
    with connect(api) as conn:
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(conn, bytearray())[0] == 200


def test_an_idle_keep_alive_connection_is_closed_after_the_head_timeout(cfg):
    """The same clock as a slow head (test_contract.py): a connection that sends nothing is closed too."""
    with production.start(cfg) as server, connect(server) as conn:
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(conn, bytearray())[0] == 200
        started = time.monotonic()
        conn.settimeout(30)
        assert closed(conn)
        assert 9 <= time.monotonic() - started <= 13  # serve's 10 s, checked once a second


def put(conn: socket.socket, key: str, body: bytes, length: int | None = None) -> None:
    head = f"PUT /keys/{key} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {length or len(body)}"
    conn.sendall(head.encode() + b"\r\n\r\n" + body)


def test_a_body_cut_short_is_never_stored(api):
    """The client announces 100 bytes, sends 10 and leaves: nothing is stored. The same PUT sent whole is
    stored (the probe works)."""
    key = f"cut-{time.monotonic_ns()}"
    with connect(api) as conn:
        put(conn, key, b"x" * 10, length=100)
    time.sleep(0.5)
    with connect(api) as conn:
        buffer = bytearray()
        conn.sendall(f"GET /keys/{key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert read_response(conn, buffer)[0] == 404
        put(conn, key, b"x" * 100)
        assert read_response(conn, buffer)[0] in (200, 201, 204)
        conn.sendall(f"GET /keys/{key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert read_response(conn, buffer)[:3:2] == (200, b'"' + b"x" * 100 + b'"')


def test_expect_100_continue_is_answered_before_the_body(api):
    with connect(api) as conn:
        head = "PUT /keys/continued HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
        conn.sendall(head.encode() + b"Expect: 100-continue\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")  # our timeout would raise
        conn.sendall(b"value")
        assert read_response(conn, bytearray())[0] in (200, 201, 204)


def test_the_default_server_loads_no_granian(api):
    """serve's one thread carries no Rust runtime (chapter 10's memory): granian's library is not mapped, while
    uvloop's and httptools' are (the probe reads the right process)."""
    maps = open(f"/proc/{api.pid}/maps").read()
    assert "uvloop" in maps and "httptools" in maps
    assert "_granian" not in maps


def test_each_request_runs_in_a_context_of_its_own():
    """uvloop gives every connection the listening server's one context: a context variable a handler sets
    must not be seen by a later request (on any connection), in a plain handler or across a coroutine's
    steps, while each step of one request sees what its earlier steps set."""
    request = contextvars.ContextVar("request", default=None)
    seen: list[tuple[str, str | None]] = []

    class App:
        def answer_at_once(self, exchange, _):
            if exchange.path != "/plain":
                return False
            seen.append((exchange.path, request.get()))
            request.set("plain")
            return True

        async def answer(self, exchange, _):
            seen.append((exchange.path, request.get()))
            request.set(exchange.path)
            await asyncio.sleep(0)  # the next step, scheduled by the server
            await asyncio.sleep(0.001)  # and one after a future
            seen.append((exchange.path + " later", request.get()))

    loop = asyncio.new_event_loop()
    server = loopserver.Server(App(), loop, head_timeout=5, log_access=False)  # type: ignore[arg-type]
    finished: list[str] = []
    connection = SimpleNamespace(transport=None, finished=lambda exchange: finished.append(exchange.path))
    try:
        for path in ("/plain", "/a", "/b", "/plain"):
            server.run(SimpleNamespace(path=path, connection=connection))  # type: ignore[arg-type]
            while path not in finished:
                loop.run_until_complete(asyncio.sleep(0.002))
            finished.clear()
    finally:
        loop.close()
    assert seen == [
        ("/plain", None),
        ("/a", None),
        ("/a later", "/a"),
        ("/b", None),
        ("/b later", "/b"),
        ("/plain", None),
    ]


def test_thousands_of_pipelined_requests_behind_a_slow_one_are_all_answered_in_order(api):
    """One /get (it waits on Redis) and 2,000 /hello behind it in one write: answered one loop turn each, not
    by a recursion through run() and finished() that ran out of stack after about 500."""
    count = 2_000
    with connect(api) as conn:
        conn.sendall(
            b"GET /get?key=loop-pipelined HTTP/1.1\r\nHost: x\r\n\r\n"
            + b"".join(b"GET /hello?name=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(count))
        )
        buffer = bytearray()
        first = read_response(conn, buffer)
        bodies = [read_response(conn, buffer)[2] for _ in range(count)]
    assert first[0] in (200, 404)
    assert bodies == [b"Hello %d!" % i for i in range(count)]


class _Transport:
    """What the connection asks of uvloop's transport, written down."""

    def __init__(self):
        self.written, self.reading, self.closed = [], True, False

    def write(self, data):
        self.written.append(data)

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        self.reading = True

    def close(self):
        self.closed = True

    def get_extra_info(self, name):
        return ("127.0.0.1", 1)


def test_one_large_read_of_pipelined_requests_is_parsed_only_as_far_as_the_queue_allows():
    """Behind a request that waits, a read of 1,000 tiny requests queues at most MAX_PIPELINED plus what one
    FEED_BYTES part holds; the rest waits unparsed, reading paused, until the queue drains, then all are answered
    in order."""
    release: asyncio.Future | None = None

    class App:
        def answer_at_once(self, exchange, protocol):
            if exchange.path == "/slow":
                return False
            protocol.response_bytes(200, [("content-type", "text/plain")], exchange.query_string.encode())
            return True

        async def answer(self, exchange, protocol):
            await release
            protocol.response_bytes(200, [("content-type", "text/plain")], b"slow")

    loop = asyncio.new_event_loop()
    try:
        release = loop.create_future()
        server = loopserver.Server(App(), loop, head_timeout=5, log_access=False)  # type: ignore[arg-type]
        connection, transport = loopserver.Connection(server), _Transport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        tiny = [b"GET /t?%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1_000)]
        connection.data_received(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" + b"".join(tiny))
        most = loopserver.MAX_PIPELINED + loopserver.FEED_BYTES // len(tiny[0]) + 2
        assert len(connection.pending) <= most, f"{len(connection.pending)} requests queued from one read"
        assert connection.unparsed and not transport.reading
        release.set_result(None)
        while len(transport.written) < 1 + len(tiny):
            loop.run_until_complete(asyncio.sleep(0))
        assert transport.reading and not connection.unparsed and not connection.pending
    finally:
        loop.close()
    bodies = [answer.rpartition(b"\r\n\r\n")[2] for answer in transport.written]
    assert bodies == [b"slow"] + [b"%d" % i for i in range(1_000)]
