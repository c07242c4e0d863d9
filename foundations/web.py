"""The HTTP kernel every route module builds on: request, response, JSON errors and the WSGI ``App`` with its
route table. It knows nothing of the chapters; ``foundations.server`` assembles the chapters' routes on it.

Routes live in one table of exact paths (a dict lookup on the hot path, see docs/architecture.md, "The API
server"). Errors are JSON ``{"error": {"type", "message"}}`` with the right status, never the book's
200-with-error.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol
from urllib.parse import parse_qs

log = logging.getLogger("foundations.web")


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
AsyncHandler = Callable[[Request], Awaitable[Response]]


class RequestCounter(Protocol):
    """What ``App`` needs of chapter 11's ``metrics.Metrics``: one call per request."""

    def count_request(self) -> None: ...


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
                 metrics: RequestCounter | None = None):
        self.routes = routes
        self.prefixes = sorted((prefixes or {}).items(), key=lambda item: -len(item[0]))
        self.metrics = metrics  # chapter 11: counts requests for /debug/vars and /metrics; tests read it

    def handler_for(self, path: str) -> Handler | None:
        handler = self.routes.get(path)
        if handler is None:
            handler = next((h for prefix, h in self.prefixes if path.startswith(prefix)), None)
        return handler

    def respond(self, request: Request) -> Response:
        """Count the request, find its handler and run it: a 404 for no route, a 500 for a bug."""
        if self.metrics is not None:
            self.metrics.count_request()
        handler = self.handler_for(request.path)
        if handler is None:
            return error_response(404, f"no route for {request.path}")
        try:
            return handler(request)
        except Exception:  # a bug: log it with its traceback, answer 500 in JSON
            return _internal_error(request)

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        response = self.respond(Request(environ))
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}",
                       [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))),
                        *response.headers])
        return [response.body]


def _internal_error(request: Request) -> Response:
    log.exception("unhandled error on %s", request.path)
    return error_response(500, "internal error; see the server log")


def inline(handler: Handler) -> AsyncHandler:
    """``handler`` as a coroutine, for ``RSGIApp``'s event loop: only for handlers that never wait on I/O."""
    async def run(request: Request) -> Response:
        return handler(request)

    return run


class RSGIApp:
    """granian's RSGI interface over the same ``App``: the handlers in ``fast`` are coroutines and run on the
    event loop (chapter 10's pipelined Redis path); every other route runs ``App.respond`` in a thread, so
    the whole route table answers exactly as under WSGI."""

    def __init__(self, app: App, fast: dict[str, AsyncHandler], max_body: int = 1 << 20):
        self.app = app
        self.fast = fast
        self.max_body = max_body  # bytes: a larger body is a 413, read no further than this
        self.loop = None

    def __rsgi_init__(self, loop) -> None:  # granian calls it with the worker's event loop
        self.loop = loop

    async def __rsgi__(self, scope, protocol) -> None:
        environ = {"PATH_INFO": scope.path, "QUERY_STRING": scope.query_string,
                   "REQUEST_METHOD": scope.method}
        request = Request(environ)
        body = b"" if scope.method in _NO_BODY else await self._body(scope, protocol)
        handler = self.fast.get(scope.path)
        if body is not None:
            environ.update({"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                            "CONTENT_TYPE": scope.headers.get("content-type", "")})
        if body is not None and handler is None:  # counts, routes, 404s and 500s as App does
            response = await self.loop.run_in_executor(None, self.app.respond, request)
        else:
            if self.app.metrics is not None:
                self.app.metrics.count_request()
            response = await self._fast(handler, request) if body is not None else error_response(
                413, f"the request body is over the limit of {self.max_body} bytes")
        protocol.response_bytes(response.status, [("content-type", response.content_type), *response.headers],
                                response.body)

    @staticmethod
    async def _fast(handler: AsyncHandler, request: Request) -> Response:
        try:
            return await handler(request)
        except Exception:  # a bug: logged, a JSON 500
            return _internal_error(request)

    async def _body(self, scope, protocol) -> bytes | None:
        """The request body, or None once it is over ``max_body``."""
        declared = scope.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        body = bytearray()
        async for chunk in protocol:
            body += chunk
            if len(body) > self.max_body:
                return None
        return bytes(body)


_NO_BODY = frozenset(("GET", "HEAD", "OPTIONS"))
