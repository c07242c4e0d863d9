"""Chapters 5, 10 and 11: the project's API server, a plain WSGI application built by a factory.

Routes live in one table of exact paths (a dict lookup on the hot path, see DESIGN §4). Errors are JSON
``{"error": {"type", "message"}}`` with the right status, never the book's 200-with-error.

    >>> app = create_app(config.load(argv=[]))   # then serve it: python -m foundations serve
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs

import redis

from foundations import config
from foundations.config import Config
from foundations.metrics import Metrics
from foundations.perthread import PerThreadRedis

log = logging.getLogger("foundations.server")


@dataclass
class Request:
    environ: dict

    @property
    def path(self) -> str:
        return self.environ.get("PATH_INFO") or "/"

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET")

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name`` (the book's ``r.FormValue``)."""
        values = parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True).get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]


def json_response(payload: object, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode())


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


def error_response(status: int, message: str) -> Response:
    """``{"error": {"type": "not_found", "message": ...}}`` with ``status``."""
    kind = HTTPStatus(status).phrase.lower().replace(" ", "_")
    return json_response({"error": {"type": kind, "message": message}}, status)


class App:
    """A WSGI callable: exact paths first (``routes["/hello"]``, one dict lookup), then the longest matching
    prefix (``prefixes["/keys/"]``, for paths with parameters; the handler parses the rest of the path)."""

    def __init__(self, routes: dict[str, Handler], prefixes: dict[str, Handler] | None = None,
                 metrics: Metrics | None = None):
        self.routes = routes
        self.prefixes = sorted((prefixes or {}).items(), key=lambda item: -len(item[0]))
        self.metrics = metrics  # chapter 11: counts requests for /debug/vars and /metrics; tests read it

    def handler_for(self, path: str) -> Handler | None:
        handler = self.routes.get(path)
        if handler is None:
            handler = next((h for prefix, h in self.prefixes if path.startswith(prefix)), None)
        return handler

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        if self.metrics is not None:
            self.metrics.count_request()
        request = Request(environ)
        handler = self.handler_for(request.path)
        if handler is None:
            response = error_response(404, f"no route for {request.path}")
        else:
            try:
                response = handler(request)
            except Exception:  # a bug: log it with its traceback, answer 500 in JSON
                log.exception("unhandled error on %s", request.path)
                response = error_response(500, "internal error; see the server log")
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}",
                       [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))),
                        *response.headers])
        return [response.body]


def hello(request: Request) -> Response:
    """The book's chapter 5 handler: ``Hello <name>!`` or ``Hello ... you.``"""
    name = request.arg("name")
    return text_response(f"Hello {name}!" if name else "Hello ... you.")


def healthz_handler(client: redis.Redis) -> Handler:
    def healthz(request: Request) -> Response:
        try:
            client.ping()
        except redis.RedisError as exc:
            return error_response(503, f"Redis does not answer: {exc}")
        return json_response({"status": "ok", "redis": "ok"})

    return healthz


def create_app(cfg: Config, redis_client: redis.Redis | None = None) -> App:
    """Build the application; pass ``redis_client`` to share one (tests), else one is made from ``cfg``."""
    # the chapters' route modules build on this one, so they are imported here, not at the top
    from foundations import api, fullname, metrics, redisdb, registry, routing

    if redis_client is None and cfg.redis_cluster:  # chapter 11: one node's URL names the whole cluster
        redis_client = redisdb.cluster(cfg.redis_url, cfg.redis_timeout)

    client = redis_client or PerThreadRedis(cfg.redis_url, cfg.redis_timeout)  # see perthread: the hot path
    routes: dict[str, Handler] = {
        "/hello": hello,
        "/healthz": healthz_handler(client),
    }
    prefixes: dict[str, Handler] = {}
    routes.update(routing.routes())  # /say, /say/ (chapter 5)
    prefixes.update(routing.prefixes())  # /say/{name}[/], /hello/{name} (chapter 5)
    routes.update(fullname.routes())  # /firstname, /lastname, /fullname (chapter 6)
    counters = metrics.Metrics(cfg.metrics_dir)  # chapter 11: shared by every worker of one server
    # the Go reference's Registry{Name: "api"}; on_call feeds the book's expvar counters
    store = registry.Registry(client, prefix="api", on_call=counters.count)
    routes.update(api.routes(store))
    prefixes.update(api.prefixes(store))
    if metrics.exposed(cfg.host, cfg.debug_endpoints):
        routes.update(metrics.routes(counters))
    return App(routes, prefixes, metrics=counters)


def app_from_environment() -> App:
    """Factory for granian's workers: the settings arrive as ``FOUNDATIONS_*`` variables from ``serve``."""
    return create_app(config.load(argv=[]))
