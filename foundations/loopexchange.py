"""One request on the loop server (``loopserver``) and its answer: RSGI's scope, the fields ``web.RSGIApp`` reads,
and its protocol object, ``response_bytes`` and the body as an async iterator, in one object."""

from __future__ import annotations

import asyncio
from collections import deque
from http import HTTPStatus
from typing import Any

from foundations.web import MAX_DRAIN_BYTES

MAX_CACHED_HEADS = 64  # answer heads kept for reuse until the Date header changes
STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n" for status in HTTPStatus}


class Exchange:
    """One request and its answer: RSGI's scope (the fields ``RSGIApp`` reads) and its protocol object, in
    one. The body arrives in ``chunks`` while the application runs; past ``MAX_DRAIN_BYTES`` it is dropped
    (``RSGIApp`` refuses such a body: 413 on a route that takes one, 415 on one that takes none)."""

    __slots__ = (
        *("method", "path", "query_string", "headers", "http_version"),
        *("connection", "chunks", "stored", "complete", "waiter", "keep_alive", "status", "start"),
    )
    method: str
    path: str  # percent-decoded
    query_string: str
    headers: dict[str, str]  # lower-case names; a repeated header's values joined by ", "
    http_version: str  # "1.1" or "1.0"

    def __init__(self, connection: Any, keep_alive: bool, start: float):  # a loopserver.Connection
        self.connection, self.keep_alive, self.start = connection, keep_alive, start
        self.chunks: deque[bytes] | None = None  # made by the first chunk of a body
        self.stored = 0
        self.complete = False
        self.waiter: asyncio.Future[None] | None = None
        self.status = 0  # set once answered

    @property
    def client(self) -> str:
        """The client's "address:port", asked of the socket only when a route wants it."""
        return self.connection.peer()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Write the answer; ``Connection: close`` from the application or the client ends the connection
        once it is written."""
        if self.status:
            raise RuntimeError("this request has been answered already")
        self.status = status
        connection = self.connection
        server = connection.server
        usual = len(headers) == 1 and self.keep_alive and self.complete and self.http_version == "1.1"
        if usual:  # most answers: a head the server has written before in this second (same Date)
            key = (status, headers[0], len(body))
            head = server.heads.get(key)
            if head is None:
                head = self._head(status, headers, len(body))
                if self.keep_alive and len(server.heads) < MAX_CACHED_HEADS:
                    server.heads[key] = head
        else:
            head = self._head(status, headers, len(body))
        if connection.transport is not None:
            connection.transport.write(head + (b"" if self.method == "HEAD" else body))
        if server.log_access:
            server.log_request(self)

    def _head(self, status: int, headers: list[tuple[str, str]], length: int) -> bytes:
        """The answer's head, with the ``Connection`` header it needs; sets ``keep_alive``."""
        close = not self.keep_alive or not self.complete  # a body not read to its end: close
        lines, said = "", False
        for name, value in headers:
            lines += f"{name}: {value}\r\n"
            if value == "close" and name.lower() == "connection":  # web.App's, after a refused body
                close = said = True
        if close and not said:
            lines += "connection: close\r\n"
        elif not close and self.http_version == "1.0":
            lines += "connection: keep-alive\r\n"
        self.keep_alive = not close
        status_line = STATUS_LINES.get(status) or f"HTTP/1.1 {status} -\r\n"
        date = self.connection.server.date
        return f"{status_line}{lines}date: {date}\r\ncontent-length: {length}\r\n\r\n".encode("latin-1")

    def __aiter__(self) -> Exchange:
        return self

    async def __anext__(self) -> bytes:
        while not self.chunks:  # None or empty
            if self.complete:
                if self.connection.transport is None:  # cut short: never hand on a part as the whole body
                    raise ConnectionError("the client closed the connection before its body ended")
                raise StopAsyncIteration
            self.waiter = self.connection.server.loop.create_future()
            await self.waiter
        return self.chunks.popleft()

    def feed(self, chunk: bytes) -> None:
        if self.stored <= MAX_DRAIN_BYTES:
            if self.chunks is None:
                self.chunks = deque()
            self.chunks.append(chunk)
            self.stored += len(chunk)
        self._wake()

    def finish(self) -> None:
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
