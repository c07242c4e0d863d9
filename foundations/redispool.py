"""Chapter 7: the book's connection pool (Vitess ``pools.ResourcePool``), connecting round-robin to servers.

``ResourcePool`` keeps the book's three knobs: ``capacity`` (connections that may exist at once; ``get``
waits when all are out), ``max_capacity`` (how far ``set_capacity`` may raise it) and ``idle_timeout``
(a connection unused that long is closed instead of reused). ``RoundRobinPool`` is the book's
``RedigoPool``: each new connection goes to the next server, so two commands run in parallel on two
servers, and a ``GET`` may land on another server than the ``SET`` before it (the book's trap).

    >>> pool = RoundRobinPool([cfg.redis1_url, cfg.redis2_url], capacity=2, max_capacity=4)
    >>> pool.do("DEBUG", "SLEEP", "0.1")    # RedigoDo: get, run, put back
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import redis

from foundations.errors import ConfigError, ServiceError
from foundations.redisdb import address, connect, unavailable

T = TypeVar("T")


class PoolExhausted(ServiceError):
    """Every connection is in use and none came back in time."""


class ResourcePool(Generic[T]):
    """A thread-safe pool of up to ``capacity`` resources made by ``factory`` (Vitess' ResourcePool)."""

    def __init__(
        self,
        factory: Callable[[], T],
        capacity: int,
        max_capacity: int,
        idle_timeout: float,
        close: Callable[[T], Any] = lambda resource: None,
        name: str = "pool",
        reusable_after: tuple[type[BaseException], ...] = (),
        tidy: Callable[[T], Any] = lambda resource: None,
    ) -> None:
        if not 1 <= capacity <= max_capacity:
            raise ConfigError(
                f"{name}: need 1 <= capacity <= max_capacity, got {capacity} and {max_capacity}"
            )
        self.factory, self.close_resource, self.name = factory, close, name
        self.reusable_after = reusable_after  # errors that leave a resource fit for the next caller...
        self.tidy = tidy  # ...once this has run on it (closed instead if it fails)
        self.capacity, self.max_capacity, self.idle_timeout = capacity, max_capacity, idle_timeout
        self._idle: deque[tuple[T, float]] = deque()  # FIFO: returned connections take turns
        self._in_use = 0
        self._cond = threading.Condition()
        self.created = self.closed = 0

    def get(self, timeout: float | None = 1.0) -> T:
        """A resource: an idle one, a new one while under capacity, else wait up to ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self.capacity == 0:
                    raise ServiceError(f"{self.name} is closed; create a new pool")
                self._expire_idle()
                if self._idle:
                    self._in_use += 1
                    return self._idle.popleft()[0]
                if self._in_use < self.capacity:
                    self._in_use += 1
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise PoolExhausted(
                        f"{self.name}: all {self.capacity} connections are in use after {timeout} s; "
                        "return them sooner (use `with pool.resource()`), or raise the capacity "
                        f"(set_capacity, up to max_capacity={self.max_capacity})"
                    )
                self._cond.wait(left)
        try:  # connect outside the lock: a slow server must not block the others
            resource = self.factory()
        except BaseException:
            self._release_slot()
            raise
        with self._cond:
            self.created += 1
        return resource

    def put(self, resource: T | None) -> None:
        """Give ``resource`` back; ``None`` means it broke and is gone (its slot frees up)."""
        if resource is None:
            self._release_slot()
            return
        with self._cond:
            self._in_use -= 1
            if self._in_use + len(self._idle) < self.capacity:
                self._idle.append((resource, time.monotonic()))
                self._cond.notify()
                return
        self._close(resource)  # capacity was lowered while it was out

    @contextlib.contextmanager
    def resource(self, timeout: float | None = 1.0) -> Iterator[T]:
        """``with pool.resource() as conn:``; a resource that raised is closed, not reused, unless the error
        is one of ``reusable_after`` (for Redis: the server's error reply, read whole from a healthy socket)
        and ``tidy`` succeeds on it (for Redis: ending a transaction the caller left open)."""
        item = self.get(timeout)
        try:
            yield item
        except self.reusable_after:
            self._tidy_and_put(item)
            raise
        except BaseException:
            self._close(item)
            self.put(None)
            raise
        self.put(item)

    def _tidy_and_put(self, item: T) -> None:
        try:
            self.tidy(item)
        except Exception:
            self._close(item)
            self.put(None)
        else:
            self.put(item)

    def set_capacity(self, capacity: int) -> None:
        if not 1 <= capacity <= self.max_capacity:
            raise ConfigError(f"{self.name}: capacity must be 1..{self.max_capacity}, got {capacity}")
        with self._cond:
            self.capacity = capacity
            extra = max(0, self._in_use + len(self._idle) - capacity)
            doomed = [self._idle.pop()[0] for _ in range(min(extra, len(self._idle)))]
            self._cond.notify_all()
        for item in doomed:
            self._close(item)

    def warm_up(self, count: int | None = None) -> int:
        """Open ``count`` (default: capacity) connections up front, as the book does; returns how many are idle."""
        held = [self.get() for _ in range(count or self.capacity)]
        for item in held:
            self.put(item)
        return len(self._idle)

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "capacity": self.capacity,
                "in_use": self._in_use,
                "idle": len(self._idle),
                "created": self.created,
                "closed": self.closed,
            }

    def close(self) -> None:
        """Close the idle resources (``pool.Close()`` in the book); resources still out close on ``put``."""
        with self._cond:
            self.capacity = 0
            self._cond.notify_all()
            doomed = [item for item, _ in self._idle]
            self._idle.clear()
        for item in doomed:
            self._close(item)

    def _expire_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        while self._idle and self._idle[0][1] < cutoff:
            self._close(self._idle.popleft()[0])

    def _release_slot(self) -> None:
        with self._cond:
            self._in_use -= 1
            self._cond.notify()

    def _close(self, resource: T) -> None:
        with self._cond:  # re-entrant: get() closes expired resources while it holds the lock
            self.closed += 1
        with contextlib.suppress(Exception):  # closing a dead connection must not hide the real error
            self.close_resource(resource)


def _end_transaction(conn: redis.Redis) -> None:
    """End a MULTI or WATCH the caller left open (an error reply to a queued command does not end a MULTI),
    so the next caller's commands are not queued into it, as Redigo's own pool does when a connection
    comes back. DISCARD answers an error when no MULTI is open; UNWATCH always answers OK."""
    with contextlib.suppress(redis.ResponseError):
        conn.execute_command("DISCARD")
    conn.execute_command("UNWATCH")


class RoundRobinPool(ResourcePool[redis.Redis]):
    """The book's ``RedigoPool``: new connections go to ``urls`` in turn; ``do`` is ``RedigoDo``."""

    def __init__(
        self,
        urls: Sequence[str],
        capacity: int = 2,
        max_capacity: int = 4,
        idle_timeout: float = 60.0,
        timeout: float = 1.0,
        log: Callable[[str], Any] | None = None,
    ) -> None:
        self.urls, self.timeout, self.log = list(urls), timeout, log
        self._next = itertools.cycle(self.urls)
        self._lock = threading.Lock()
        super().__init__(
            self._dial,
            capacity,
            max_capacity,
            idle_timeout,
            close=lambda conn: conn.close(),
            name=f"Redis pool over {', '.join(address(u) for u in self.urls)}",
            reusable_after=(redis.ResponseError,),  # e.g. WRONGTYPE: an application bug, not a bad connection
            tidy=_end_transaction,
        )

    def _dial(self) -> redis.Redis:
        with self._lock:
            url = next(self._next)
        conn = connect(url, self.timeout)
        if self.log:
            self.log(f"New redis connection: {address(url)}")
        return conn

    def do(self, *args: Any) -> Any:
        """Run one command on a pooled connection and give it back (``RedigoDo``)."""
        with self.resource(self.timeout) as conn:
            try:
                return conn.execute_command(*args)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                raise unavailable(conn, exc) from exc
