"""Chapters 5, 10 and 11: the project's API server, assembled - the chapters' routes, one Redis client and
the metrics, wired onto ``web.App`` by one factory. ``foundations.apispec`` documents every route here.

Chapter 6's slow upstreams (``/firstname?delay_ms=5000``) are not among them: a few such requests park every
worker thread. They run on their own server, ``python -m foundations.fullname``.

    >>> app = create_app(config.load(argv=[]))   # then serve it: python -m foundations serve
"""

from __future__ import annotations

import gc
from typing import cast

from foundations import api, config, metrics, registry, routing
from foundations.config import Config
from foundations.pipelining import Blocking, PerLoop, Pipelined
from foundations.registry import AsyncRegistry, Registry, Unavailable
from foundations.web import (
    App,
    AsyncHandler,
    Handler,
    Request,
    Response,
    RSGIApp,
    error_response,
    json_response,
)


def livez(request: Request) -> Response:
    """Liveness: the process answers HTTP. No Redis call, so a Redis outage does not get every API container
    restarted; the image's ``HEALTHCHECK`` and liveness probes ask this, readiness asks ``/healthz``."""
    return json_response({"status": "ok"})


def healthz_handler(store: Registry) -> Handler:
    """Readiness: 200 only while Redis answers (compose's ``depends_on``, CI's wait, load balancers)."""

    def healthz(request: Request) -> Response:
        try:
            store.ping()
        except Unavailable as exc:
            return error_response(503, str(exc))
        return json_response({"status": "ok", "redis": "ok"})

    return healthz


def create_app(cfg: Config, redis_client: registry.Client | None = None) -> App:
    """Build the application; pass ``redis_client`` to share one (tests), else a redis-py one is made from
    ``cfg`` (imported here: the RSGI server passes its own, and never loads redis-py)."""
    if redis_client is None and cfg.redis_cluster:  # chapter 11: one node's URL names the whole cluster
        from foundations import redisdb

        redis_client = redisdb.cluster(cfg.redis_url, cfg.redis_timeout)
    if redis_client is None:
        from foundations.perthread import PerThreadRedis  # see perthread: the hot path

        redis_client = PerThreadRedis(cfg.redis_url, cfg.redis_timeout)
    counters = metrics.Metrics(cfg.metrics_dir)  # chapter 11: shared by every worker of one server
    # the book's Registry{Name: "api"}; on_call feeds the book's expvar counters
    store = registry.Registry(redis_client, prefix="api", on_call=counters.count)
    routes: dict[str, Handler] = {
        "/hello": routing.hello,
        "/livez": livez,
        "/healthz": healthz_handler(store),
    }
    prefixes: dict[str, Handler] = {}
    routes.update(routing.routes())  # /say, /say/ (chapter 5)
    prefixes.update(routing.prefixes())  # /say/{name}[/], /hello/{name} (chapter 5)
    routes.update(api.routes(store))
    prefixes.update(api.prefixes(store))
    routes.update(metrics.routes(counters, cfg.debug_endpoints, cfg.debug_token))  # each request: its client?
    return App(routes, prefixes, metrics=counters)


def app_from_environment() -> App:
    """Factory for granian's workers: the settings arrive as ``FOUNDATIONS_*`` variables from ``serve``."""
    return create_app(config.load(argv=[]))


def create_fast_app(cfg: Config, redis_client: Pipelined | PerLoop | None = None) -> RSGIApp:
    """The same application behind granian's RSGI interface, with the book's ``/get``, ``/set``, ``/del`` on
    the event loop over one auto-pipelined Redis connection per loop (chapter 10, beyond the book);
    ``redis_client``:
    another client with the same ``execute`` (``variants.UNPIPELINED``)."""
    redis_client = redis_client or PerLoop(cfg.redis_url, cfg.redis_timeout)  # a connection per loop thread
    threads = Blocking(redis_client)  # the other routes, in RSGIApp's threads, reach Redis through the loop
    app = create_app(cfg, None if cfg.redis_cluster else threads)
    counters = cast(metrics.Metrics, app.metrics)  # create_app's
    store = AsyncRegistry(redis_client, prefix="api", on_call=counters.count)
    fast: dict[str, AsyncHandler | Handler] = {
        "/hello": routing.hello,
        "/livez": livez,  # on the event loop: it answers while the threads wait on Redis
        **api.async_routes(store),
    }  # never waits
    return RSGIApp(app, fast, on_start=threads.attach)


def fast_app_from_environment() -> RSGIApp:
    """Factory for granian's RSGI workers (``serve --workers N`` or ``--interface rsgi``). The modules and the
    app live as long as the process, so ``gc.freeze`` keeps their objects out of the collector's full passes:
    one such pass over them stalls the event loop, and every request waiting on it, for milliseconds."""
    app = create_fast_app(config.load(argv=[]))
    gc.freeze()
    return app
