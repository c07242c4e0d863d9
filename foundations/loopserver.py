"""Chapter 10, beyond granian: the API server on one thread (``python -m foundations serve``, one worker).
uvloop runs the event loop, httptools (llhttp, Node.js's HTTP parser) reads HTTP/1.1, and every request runs
on that loop: no hand-off to a Rust I/O thread and back, and no Rust runtime in memory (chapter 10 measures
both). It speaks the part of RSGI that ``web.RSGIApp`` uses (``scope.path/method/headers/query_string/client``,
``protocol.response_bytes``, ``async for chunk in protocol``), so one application runs here and under granian.
HTTP/1.1 and 1.0 with keep-alive; pipelined requests answered in order; bodies handed over as they arrive; a
client has ``head_timeout`` seconds to send a request head (an idle keep-alive too); on SIGTERM or SIGINT it
stops accepting, lets the requests in flight finish for up to ``grace_seconds``, then returns."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections import deque
from collections.abc import Coroutine
from contextvars import Context, copy_context
from functools import partial
from typing import Any, cast
from urllib.parse import unquote

import httptools

from foundations.loopexchange import STATUS_LINES, Exchange
from foundations.web import RSGIApp, error_response

log = logging.getLogger("foundations.loopserver")
access_log = logging.getLogger("foundations.access")

MAX_HEAD_BYTES = 64 * 1024  # a request line plus headers longer than this is answered 431
MAX_PIPELINED = 16  # requests parsed ahead of the one being answered; past this, reading and parsing pause
FEED_BYTES = 4096  # a larger read goes to the parser this much at a time, so that parsing can pause too
Step = Coroutine[Any, Any, None]  # one request's application coroutine, stepped by Server.run


class Connection(asyncio.Protocol):
    """One client connection: parses its requests and answers them one at a time, in order."""

    def __init__(self, server: Server):
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._peer: str | None = None
        self.pending: deque[Exchange] = deque()  # parsed, not yet answered; the first is running
        self.parsing: Exchange | None = None  # the request whose head or body is arriving
        self.url = b""
        self.headers: dict[str, str] = {}
        self.head_bytes = 0
        self.body_announced = False
        self.waiting_since: float | None = None  # when it began waiting for a request head
        self.paused = False
        self.unparsed = b""  # read, not yet parsed: what waits while MAX_PIPELINED requests are queued
        self.running: Exchange | None = None  # the request whose application runs now (the first pending)
        self.next_scheduled = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's: the same methods, not a subclass
        self.waiting_since = self.server.now
        self.server.connections.add(self)

    def peer(self) -> str:
        if self._peer is None:
            peer = self.transport.get_extra_info("peername") if self.transport is not None else None
            self._peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        return self._peer

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        self.unparsed = b""
        if self.parsing is not None:  # a body that will never end: let a reader waiting on it finish
            self.parsing.finish()

    def data_received(self, data: bytes) -> None:
        if (
            self.unparsed or len(data) > FEED_BYTES
        ):  # a large read (many pipelined requests): a part at a time
            self.unparsed += data
            self._parse_unparsed()
        else:  # the usual read: one request, or a few
            self._feed(data)

    def _parse_unparsed(self) -> None:
        """Parse what was read, ``FEED_BYTES`` at a time, until ``MAX_PIPELINED`` requests wait: one read of
        tiny pipelined requests must not queue thousands. The rest waits, and so does reading."""
        while self.unparsed and len(self.pending) <= MAX_PIPELINED and self.transport is not None:
            chunk, self.unparsed = self.unparsed[:FEED_BYTES], self.unparsed[FEED_BYTES:]
            self._feed(chunk)
        if self.unparsed and not self.paused and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.refuse(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self.refuse(431 if self.head_bytes > MAX_HEAD_BYTES else 400, f"malformed HTTP request: {exc}")

    # httptools callbacks

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_bytes += len(url)
        if self.head_bytes > MAX_HEAD_BYTES:
            raise httptools.HttpParserError("request head too large")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value)
        if self.head_bytes > MAX_HEAD_BYTES:
            raise httptools.HttpParserError("request head too large")
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        self.waiting_since = None
        path, query = self.url.decode("utf-8", "replace"), ""  # RSGI hands the path over as text
        if path[:1] != "/" or "?" in path or "#" in path:  # else it is the path as it stands
            url = httptools.parse_url(self.url)
            path, query = url.path.decode("utf-8", "replace"), (url.query or b"").decode("latin-1")
        start = time.perf_counter() if self.server.log_access else 0.0  # for the log's duration
        keep_alive = self.parser.should_keep_alive()
        self.parsing = exchange = Exchange(self, keep_alive, start)
        exchange.method = self.parser.get_method().decode("ascii")
        exchange.path = unquote(path, errors="replace") if "%" in path else path  # percent-decoded
        exchange.query_string = query
        exchange.headers = self.headers
        # llhttp keeps a request without a Connection header alive only under HTTP/1.1, so the version need
        # not be asked for (a call that formats a new string each time) on the usual request
        usual = keep_alive and "connection" not in self.headers
        exchange.http_version = "1.1" if usual else self.parser.get_http_version()
        self.body_announced = "content-length" in self.headers or "transfer-encoding" in self.headers
        self.url, self.headers, self.head_bytes = b"", {}, 0  # for the next request's head
        if self.body_announced:  # it may be large: the application may answer before the body ends
            if exchange.headers.get("expect", "").lower() == "100-continue" and self.transport is not None:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # send it: the client waits for this
            self._queue(exchange)

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.feed(body)

    def on_message_complete(self) -> None:
        exchange, self.parsing = self.parsing, None
        if exchange is not None:
            exchange.complete = True
            if exchange.waiter is not None:  # the application waits for the rest of the body
                exchange.finish()
            if not self.body_announced:  # no body: queued once its head is complete
                self._queue(exchange)

    def _queue(self, exchange: Exchange) -> None:
        self.pending.append(exchange)
        if len(self.pending) == 1 and self.running is None and not self.next_scheduled:  # nothing else: now
            self.running = exchange
            self.server.run(exchange)
        elif len(self.pending) > MAX_PIPELINED and not self.paused and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True

    # answering

    def refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be parsed, then close: nothing after it on this connection can be
        trusted to be where a request starts."""
        if self.transport is None:
            return
        response, date = error_response(status, message), self.server.date.encode()
        kind, size = response.content_type.encode(), len(response.body)
        head = b"%sdate: %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        self.transport.write(head % (STATUS_LINES[status].encode(), date, kind, size) + response.body)
        self.transport.close()

    def finished(self, exchange: Exchange) -> None:
        """``exchange``'s application has returned: answer 500 if it did not, then the next request."""
        if not exchange.status:
            log.error("no response for %s %s", exchange.method, exchange.path)
            response = error_response(500, "internal error; see the server log")
            exchange.response_bytes(500, [("content-type", response.content_type)], response.body)
        self.pending.popleft()
        self.running = None
        if self.transport is None:  # the client has gone: nothing after it will be answered
            self.pending.clear()
            return
        if not exchange.keep_alive:
            self.transport.close()
            return
        if self.pending or self.unparsed or self.paused:
            if not self.next_scheduled:
                self.next_scheduled = True
                self.server.loop.call_soon(self._next)
        else:
            self.waiting_since = self.server.now

    def _next(self) -> None:
        """Go on with a queue, on a loop turn of its own: answered in a row, pipelined requests that complete
        at once would recurse through ``Server.run`` and ``finished``, and the parser, whose callback may have
        answered the last one, must not be fed from inside itself."""
        self.next_scheduled = False
        if self.transport is None:
            self.pending.clear()
            return
        if len(self.pending) <= MAX_PIPELINED:
            self._parse_unparsed()
        if self.pending and self.running is None:
            self.running = self.pending[0]
            self.server.run(self.running)
        elif not self.pending:
            self.waiting_since = self.server.now
        if (
            self.paused
            and not self.unparsed
            and len(self.pending) <= MAX_PIPELINED
            and self.transport is not None
        ):
            self.transport.resume_reading()
            self.paused = False


class Server:
    """The listening side: the connections, the application, the cached ``Date`` header and the clock that
    closes connections which took longer than ``head_timeout`` to send a request head."""

    def __init__(self, app: RSGIApp, loop: asyncio.AbstractEventLoop, head_timeout: float, log_access: bool):
        self.app, self.loop, self.head_timeout, self.log_access = app, loop, head_timeout, log_access
        self.connections: set[Connection] = set()
        self.date = ""
        self.heads: dict[tuple[int, tuple[str, str], int], bytes] = {}  # this second's usual answer heads
        self.now = loop.time()  # the loop's clock, read once a second: head timeouts need no finer
        self.tick()

    def run(
        self, exchange: Exchange, coroutine: Step | None = None, context: Context | None = None, *_: object
    ) -> None:
        """Run the app for ``exchange``, its coroutine stepped as a Task would, without the Task: ``/hello`` is
        done in its first step, a coroutine awaiting a future (a Redis reply) steps again once it is done. Each
        request gets its own copy of the context, as under a Task (uvloop gives connections the server's)."""
        if context is None:
            context = copy_context()
            if context.run(self.app.answer_at_once, exchange, exchange):  # type: ignore[arg-type]
                exchange.connection.finished(exchange)
                return
            coroutine = context.run(self.app.answer, exchange, exchange)  # type: ignore[arg-type]
        assert coroutine is not None
        try:
            awaited = context.run(coroutine.send, None)
        except StopIteration:
            exchange.connection.finished(exchange)
        except (Exception, asyncio.CancelledError):
            if exchange.connection.transport is not None:  # a client that left is no failure of ours
                log.exception("the application failed on %s", exchange.path)
            exchange.connection.finished(exchange)
        else:
            if awaited is None:  # a bare yield (asyncio.sleep(0))
                self.loop.call_soon(self.run, exchange, coroutine, context)
            else:  # a future: the coroutine's next step reads its result (or raises its error) itself
                awaited._asyncio_future_blocking = False
                awaited.add_done_callback(partial(self.run, exchange, coroutine, context))

    def tick(self) -> None:
        """Once a second: the ``Date`` header, and slow request heads (or idle keep-alives) disconnected."""
        self.date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        self.heads = {}  # they carry the Date header
        self.now = self.loop.time()
        deadline = self.now - self.head_timeout
        for connection in list(self.connections):
            if connection.waiting_since is not None and connection.waiting_since < deadline:
                if connection.transport is not None:
                    connection.transport.close()
        self.loop.call_later(1.0, self.tick)

    def log_request(self, exchange: Exchange) -> None:
        """serve's ACCESS_LOG_FORMAT, as granian writes it: who, what, status, and how long it took."""
        ms = (time.perf_counter() - exchange.start) * 1000
        who, protocol = exchange.client.rpartition(":")[0], f"HTTP/{exchange.http_version}"
        log_line = '%s "%s %s %s" %d %.2f ms'
        access_log.info(log_line, who, exchange.method, exchange.path, protocol, exchange.status, ms)


def serve(
    app: RSGIApp,
    host: str,
    port: int,
    *,
    head_timeout: float = 10.0,
    grace_seconds: float = 5.0,
    log_access: bool = False,
    backlog: int = 1024,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then let in-flight requests finish for up to ``grace_seconds``."""
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # uvloop has no Windows build: asyncio's own loop, slower
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if log_access:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
    app.__rsgi_init__(loop)
    server = Server(app, loop, head_timeout, log_access)
    listener = loop.run_until_complete(
        loop.create_server(lambda: Connection(server), host, port, backlog=backlog, reuse_address=True)
    )
    stop: asyncio.Future[int] = loop.create_future()

    def stop_on(sig: int) -> None:
        if not stop.done():
            stop.set_result(sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_on, sig)
    try:
        received = loop.run_until_complete(stop)
        print(
            f"{signal.Signals(received).name}: no new connections; finishing requests in flight", flush=True
        )
        listener.close()
        loop.run_until_complete(_drain(server, grace_seconds))
    finally:
        for connection in list(server.connections):
            if connection.transport is not None:
                connection.transport.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
    print("shutdown completed", flush=True)


async def _drain(server: Server, grace_seconds: float) -> None:
    """Close idle connections now and the others as their answers go out, for up to ``grace_seconds``."""
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        for connection in list(server.connections):
            if not connection.pending and connection.transport is not None:
                connection.transport.close()
        if not any(connection.pending for connection in server.connections):
            return
        await asyncio.sleep(0.02)
    log.warning(
        "%d connection(s) still busy after %s s: closing them", len(server.connections), grace_seconds
    )
