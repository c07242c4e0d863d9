"""Chapter 10's benchmark variants: the API server with one thing changed, each a granian factory
(``bench.server(cfg, factory=SPAWNING)``), so a benchmark measures that one change.

- ``FROZEN``: the served WSGI server with ``gc.freeze()`` after start-up, as the RSGI servers have;
- ``POOLED``: the plain WSGI server on one shared pool of Redis connections (the book's baseline);
- ``SPAWNING``: the same, ``/get`` handing its work to a new thread (the goroutine the book added);
- ``UNPIPELINED``: the RSGI server over redis-py's asyncio pool instead of the auto-pipelining client;
- ``ONE_AT_A_TIME``: the RSGI server over the auto-pipelining client with pipelining off (one command in flight).
"""

from __future__ import annotations

import gc
import threading
from typing import Any

import redis
from redis import asyncio as aioredis

from foundations import config, redisdb, server, web
from foundations.pipelining import PerLoop


def pooled_app_from_environment() -> web.App:
    """The plain server on one thread-safe pool of Redis connections, shared by all threads (as redigo's pool
    is shared by the book's goroutines): the baseline of the book's second benchmark."""
    cfg = config.load(argv=[])
    return server.create_app(cfg, redisdb.client(cfg.redis_url, cfg.redis_timeout))


def spawning_app_from_environment() -> web.App:
    """The book's second benchmark: ``/get`` hands its work to a new thread and waits for it (the goroutine
    the book added), on the same shared pool as ``POOLED``: the thread is the only change."""
    app = pooled_app_from_environment()
    plain = app.routes["/get"]

    def get(request: web.Request) -> web.Response:
        box = []
        thread = threading.Thread(target=lambda: box.append(plain(request)))
        thread.start()
        thread.join()
        return box[0]

    app.routes["/get"] = get  # everything else is the plain server's
    return app


def frozen_app_from_environment() -> web.App:
    """The served threaded app (``server.app_from_environment``) with ``gc.freeze()`` once it is built, as the
    RSGI servers do: chapter 10's first server, so that comparing it with them does not also compare that."""
    app = server.app_from_environment()
    gc.freeze()
    return app


FROZEN = "foundations.variants:frozen_app_from_environment"
POOLED = "foundations.variants:pooled_app_from_environment"
SPAWNING = "foundations.variants:spawning_app_from_environment"


class _Unpipelined:
    """redis-py's asyncio client behind ``Pipelined.execute``'s signature: a pool, one connection per waiting
    command, each command its own round trip."""

    def __init__(self, url: str, timeout: float):
        self.redis = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    async def execute(self, *args: str | bytes | int) -> Any:
        try:
            return await self.redis.execute_command(*args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # the errors AsyncRegistry turns into 503
            raise ConnectionError(str(exc)) from exc


def unpipelined_app_from_environment() -> web.RSGIApp:
    """The pipelined server with one change undone (chapter 10, beyond the book): the same RSGI event loop
    and coroutine routes, over redis-py's asyncio pool instead of the auto-pipelining client."""
    cfg = config.load(argv=[])
    app = server.create_fast_app(cfg, _Unpipelined(cfg.redis_url, cfg.redis_timeout))  # type: ignore[arg-type]
    gc.freeze()  # as server.fast_app_from_environment does
    return app


UNPIPELINED = "foundations.variants:unpipelined_app_from_environment"


def one_at_a_time_app_from_environment() -> web.RSGIApp:
    """The pipelined server with pipelining off (chapter 10): the same client, event loop and coroutine routes,
    but one command in flight at a time. Against ``UNPIPELINED`` it changes the client; against the
    pipelined server (``server.fast_app_from_environment``), only pipelining."""
    cfg = config.load(argv=[])
    app = server.create_fast_app(cfg, PerLoop(cfg.redis_url, cfg.redis_timeout, pipelining=False))
    gc.freeze()  # as server.fast_app_from_environment does
    return app


ONE_AT_A_TIME = "foundations.variants:one_at_a_time_app_from_environment"
