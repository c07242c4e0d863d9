"""Chapter 10, beyond the book: one Redis connection that auto-pipelines.

The book's server pays one network round trip (a write and a read, on both sides) per request. Under load
many requests wait on Redis at once; here every command issued during one turn of the event loop goes out
in a single write, Redis answers them in order, and each reply resolves the future at the head of the queue.
N waiting requests then cost one round trip instead of N. Node's ioredis and Go's rueidis do this; the book's
redigo does not. ``pipelining=False`` keeps everything else and sends one command at a time, each when the
reply before it is in (chapter 10 measures the difference).

    >>> client = Pipelined("redis://127.0.0.1:6390/0", timeout=1.0)
    >>> await client.execute("GET", "api:name")          # inside a coroutine on the running loop
    b'Tit Petric'

Order: one connection, first in first out, so commands reach Redis in the order they were issued (a ``SET``
then a ``GET`` of the same key always see each other). Failure: a refused connection fails the waiting
commands at once with ``ConnectionError``; a Redis that does not answer within ``timeout`` fails them with
``TimeoutError`` and drops the connection; the next command connects again. An error reply fails its own
command with ``hiredis.ReplyError``; one to the ``AUTH`` or ``SELECT`` a new connection starts with (a wrong
password) fails every command sent on it with that reply and drops it, so the next command logs in again.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis

# hiredis's stub types the command as a one-item tuple; it takes any number of items
_pack = cast("Callable[[tuple[str | bytes | int, ...]], bytes]", hiredis.pack_command)


class Pipelined:
    """An auto-pipelining Redis client for the running event loop (one per server process)."""

    def __init__(self, url: str, timeout: float = 1.0, pipelining: bool = True):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.timeout = timeout
        self.pipelining = pipelining  # False: one command in flight, the next sent when its reply is in
        login = [unquote(part) for part in (parts.username, parts.password) if part]  # ACL user, password
        self._hello = [("AUTH", *login)] if parts.password else []
        if parts.path.strip("/") not in ("", "0"):
            self._hello.append(("SELECT", parts.path.strip("/")))
        self._connection: _Connection | None = None  # the live one; callbacks of older ones are ignored
        self._connecting: asyncio.Task | None = None
        self._outgoing: deque[bytes] = deque()  # packed commands of this loop turn, written by _flush
        self._waiting: deque[tuple[asyncio.Future, float]] = deque()  # (future, deadline), in sending order
        self._flushing = False
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def execute(self, *args: str | bytes | int) -> asyncio.Future:
        """Queue one command; await the returned future for its reply (``bytes``, ``int``, a list, None)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        idle = not self._waiting
        self._waiting.append((future, loop.time() + self.timeout))
        if self._connection is None:
            self._outgoing.append(_pack(args))
            if self._connecting is None:
                self._connecting = loop.create_task(self._connect())
        elif idle:  # nothing to wait for: send now (at low load, batching would only add a loop turn)
            self._connection.transport.write(_pack(args))
        else:  # replies are on their way: collect this turn's commands into one write
            self._outgoing.append(_pack(args))
            if self.pipelining and not self._flushing:  # else _received sends them, one per reply
                self._flushing = True
                loop.call_soon(self._flush)
        if self._watchdog is None:
            self._watchdog = loop.call_at(self._waiting[0][1], self._check)
        return future

    def _flush(self) -> None:
        self._flushing = False
        if self._connection is not None and self._outgoing:
            if not self.pipelining:  # the oldest command alone
                self._connection.transport.write(self._outgoing.popleft())
                return
            self._connection.transport.write(b"".join(self._outgoing))
            self._outgoing.clear()

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self), self.host, self.port), self.timeout
            )
        except (TimeoutError, OSError) as exc:
            reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else _reason(exc)
            self._fail(ConnectionError(f"Redis at {self.address} does not answer ({reason})"))
            return
        finally:
            self._connecting = None
        self._connection = connection
        for command in reversed(self._hello):  # AUTH, SELECT first; nobody awaits their replies
            future = _Hello(loop=loop)
            future.add_done_callback(_discard)
            self._waiting.appendleft((future, loop.time() + self.timeout))
            self._outgoing.appendleft(_pack(command))
        self._flush()

    def _received(self, connection: _Connection, replies: list) -> None:
        if connection is not self._connection:
            return
        waiting = self._waiting
        for reply in replies:
            future = waiting.popleft()[0]
            if future.done():  # its request gave up (cancelled)
                continue
            if isinstance(reply, hiredis.ReplyError):
                if isinstance(future, _Hello):  # refused AUTH or SELECT: every command after it fails too
                    self._drop(reply)
                    return
                future.set_exception(reply)
            else:
                future.set_result(reply)
        if not self.pipelining:  # the one in flight has its reply: send the next
            self._flush()

    def _lost(self, connection: _Connection, exc: Exception | None) -> None:
        if connection is self._connection:
            self._connection = None
            self._fail(ConnectionError(f"Redis at {self.address} closed the connection ({exc or 'EOF'})"))

    def _check(self) -> None:
        """The watchdog: fail everything once the oldest command has waited ``timeout`` without a reply."""
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        if self._waiting[0][1] > loop.time():
            self._watchdog = loop.call_at(self._waiting[0][1], self._check)
            return
        self._drop(TimeoutError(f"Redis at {self.address} did not answer within {self.timeout} s"))

    def _drop(self, error: Exception) -> None:
        """Fail every waiting command with ``error`` and drop the connection: its replies still to come must
        not be matched to newer commands."""
        if self._connection is not None:
            self._connection.transport.abort()
            self._connection = None
        self._fail(error)

    def _fail(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, deque()
        self._outgoing.clear()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.transport.close()
            self._connection = None


class PerLoop:
    """One ``Pipelined`` per event loop, made on its first command there. granian's worker threads each run a
    loop over the one app object (``serve --threads 2``), and a connection can only serve the loop that
    opened it."""

    def __init__(self, url: str, timeout: float = 1.0, pipelining: bool = True):
        self.url, self.timeout, self.pipelining = url, timeout, pipelining
        self.address = Pipelined(url).address
        self._clients: dict[asyncio.AbstractEventLoop, Pipelined] = {}

    def execute(self, *args: str | bytes | int) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = Pipelined(self.url, self.timeout, self.pipelining)
        return client.execute(*args)


class Blocking:
    """``Pipelined`` for the threads beside its event loop: ``web.RSGIApp`` runs ``web.App``'s routes in a
    thread pool, and their ``Registry`` calls these methods (redis-py's names). Each call hands its command to
    the loop and waits for the reply, so the RSGI server needs no redis-py (chapter 10: a third of its
    memory). ``attach`` gives it a loop once granian has made it (with several, any one will do)."""

    def __init__(self, client: Pipelined | PerLoop):
        self.client = client
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def address(self) -> str:
        return self.client.address

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def execute(self, *args: str | bytes | int) -> Any:
        """Run one command on the loop and return its reply; called from any thread but the loop's own."""
        if self.loop is None:
            raise ConnectionError(
                f"Redis at {self.client.address} is not reached before the server's event loop runs"
            )
        return asyncio.run_coroutine_threadsafe(self._execute(args), self.loop).result()

    async def _execute(self, args: tuple) -> object:
        return await self.client.execute(*args)

    def get(self, name: str) -> bytes | None:
        return self.execute("GET", name)

    def set(self, name: str, value: str) -> bool:
        return self.execute("SET", name, value) == b"OK"

    def delete(self, *names: str) -> int:
        return self.execute("DEL", *names)

    def mget(self, names: list[bytes]) -> list[bytes | None]:
        return self.execute("MGET", *names)

    def scan(self, cursor: int, match: str, count: int) -> tuple[int, list[bytes]]:
        cursor, names = self.execute("SCAN", cursor, "MATCH", match, "COUNT", count)
        return int(cursor), names

    def ping(self) -> bool:
        return self.execute("PING") == b"PONG"

    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> Any:
        return self.execute("EVAL", script, numkeys, *keys_and_args)


class _Hello(asyncio.Future):
    """The reply to a connection's ``AUTH`` or ``SELECT``, which no request awaits."""


class _Connection(asyncio.Protocol):
    """One TCP connection to Redis: parses replies with hiredis and hands them to its client."""

    def __init__(self, client: Pipelined):
        self.client = client
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        replies = []
        while (reply := self.reader.gets()) is not False:
            replies.append(reply)
        self.client._received(self, replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._lost(self, exc)


def _reason(exc: OSError) -> str:
    """``Connection refused``, not asyncio's ``Connect call failed ('127.0.0.1', 1)``."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _discard(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log "exception was never retrieved"
