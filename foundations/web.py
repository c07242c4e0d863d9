"""The HTTP kernel every route module builds on: request, response, JSON errors and the WSGI ``App`` with its
route table. It knows nothing of the chapters; ``foundations.server`` assembles the chapters' routes on it.

Routes live in one table of exact paths (a dict lookup on the hot path, see docs/architecture.md, "The API
server"). Errors are JSON ``{"error": {"type", "message"}}`` with the right status, never the book's
200-with-error.

The HTTP contract lives here, so every server built on ``App`` keeps it: a path with no route is a 404,
a method the route does not answer a 405 naming the ones it does (``Allow``), a HEAD the GET's headers
without its body (a 405 where the route opts out, ``Route(head=False)``: a GET that changes data), a body on
a route that takes none (``Route.max_body`` 0, the default) a 415 saying to send the parameters in the query
string, and a body larger than a body-taking route reads a 413.
The body is read by ``App``, never by a handler (``Request.body``), and a body that is refused is still read
and dropped, up to ``MAX_DRAIN_BYTES``, so the client, still sending, reads the answer instead of a reset;
past that bound the answer says ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol, overload
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from granian._granian import RSGIHTTPProtocol as HTTPProtocol  # granian.rsgi's, not re-exported
    from granian.rsgi import Scope

log = logging.getLogger("foundations.web")


# The 415 to a body on a route that takes none: not too large, but not wanted; its parameters go elsewhere.
NO_BODY = "this route takes no request body: send its parameters in the query string"
MAX_DRAIN_BYTES = 8 * 1024 * 1024  # a refused body is read and dropped up to this (20 MB took ~30 ms here)
_CHUNK = 64 * 1024
GET_AND_HEAD = ("GET", "HEAD")  # HEAD wherever GET: RFC 9110 asks a server that answers GET to answer it
# (it asks it of a server, not of every resource: a GET that changes data opts out, ``Route(head=False)``)


@dataclass(slots=True)
class Request:
    environ: dict
    body: bytes = b""  # read by App, at most the route's max_body bytes

    @property
    def path(self) -> str:
        return self.environ.get("PATH_INFO") or "/"

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET")

    @overload
    def arg(self, name: str) -> str | None: ...
    @overload
    def arg(self, name: str, default: str) -> str: ...
    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name``; the book's ``r.FormValue`` would also read a POST form."""
        query = self.environ.get("QUERY_STRING", "")
        if not query:
            return default
        if "%" in query or "+" in query:  # encoded: let parse_qs decode it
            values = parse_qs(query, keep_blank_values=True).get(name)
            return values[0] if values else default
        # nothing to decode (/get?key=name): a split answers what parse_qs would, in a fraction of its time
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == name:
                return value
        return default


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]
AsyncHandler = Callable[[Request], Awaitable[Response]]


class Route:
    """A handler with the methods it answers and the largest body it reads; ``App`` enforces both. A plain
    function in a route table is a ``Route`` with the defaults: GET only, no body. ``shown_to(request)``
    false: the route answers that request a 404 before anything else, as if it did not exist. A route that
    answers GET answers HEAD too (its GET, without the body), unless ``head`` is False: for a GET that
    changes data, which a HEAD, sent freely as a safe method (link checkers, ``curl -I``), would change too;
    its HEAD is then a 405 like any other method it does not answer."""

    __slots__ = ("handler", "methods", "max_body", "shown_to")

    def __init__(
        self,
        handler: Handler,
        methods: tuple[str, ...] = GET_AND_HEAD,
        max_body: int = 0,
        shown_to: Callable[[Request], bool] | None = None,
        head: bool = True,
    ):
        if head and "GET" in methods and "HEAD" not in methods:  # once, here
            methods = (*methods, "HEAD")
        elif not head:
            methods = tuple(method for method in methods if method != "HEAD")
        self.handler, self.methods, self.max_body, self.shown_to = handler, methods, max_body, shown_to

    def __call__(self, request: Request) -> Response:
        return self.handler(request)


def methods_of(handler: Handler) -> tuple[str, ...]:
    """The methods ``handler`` answers: ``Route.methods`` (GET and HEAD for a plain function)."""
    return getattr(handler, "methods", GET_AND_HEAD)


class RequestCounter(Protocol):
    """What ``App`` needs of chapter 11's ``metrics.Metrics``: one call per request."""

    def count_request(self) -> None: ...


def json_response(payload: object, status: int = 200) -> Response:
    # allow_nan=False: a NaN or infinity raises (then the handler's 500) instead of writing `NaN`, not JSON
    return Response(status, json.dumps(payload, allow_nan=False).encode())


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


# Python 3.13 took RFC 9110's name for 413, "Content Too Large": the API's error type keeps the name it was
# published with, whatever the interpreter.
_ERROR_TYPES = {413: "request_entity_too_large"}


def error_response(status: int, message: str) -> Response:
    """``{"error": {"type": "not_found", "message": ...}}`` with ``status``."""
    kind = _ERROR_TYPES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return json_response({"error": {"type": kind, "message": message}}, status)


class App:
    """A WSGI callable: exact paths first (``routes["/hello"]``, one dict lookup), then the longest matching
    prefix (``prefixes["/keys/"]``, for paths with parameters; the handler parses the rest of the path)."""

    def __init__(
        self,
        routes: dict[str, Handler],
        prefixes: dict[str, Handler] | None = None,
        metrics: RequestCounter | None = None,
    ):
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
        response = self.respond(Request(environ))
        start_response(
            f"{response.status} {HTTPStatus(response.status).phrase}",
            [
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(response.body))),
                *response.headers,
            ],
        )
        # HEAD: the GET's headers, Content-Length too, and no body (respond hands the handler a copy saying GET)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def respond(self, request: Request) -> Response:
        """The answer to ``request``: 404, 405, 400/413/415 for the body (415: the route takes none), else the
        handler's (500 on a bug)."""
        handler = self.handler_for(request.path)
        shown_to = getattr(handler, "shown_to", None)
        if handler is None or (shown_to is not None and not shown_to(request)):
            return refuse(request.environ, error_response(404, f"no route for {request.path}"))
        allowed = methods_of(handler)
        if request.method not in allowed:
            response = error_response(
                405, f"{request.method} is not allowed on {request.path}; use {' or '.join(allowed)}"
            )
            response.headers.append(("Allow", ", ".join(allowed)))
            return refuse(request.environ, response)
        if request.method == "HEAD":  # RFC 9110: a GET whose body the server leaves out; the handler sees GET
            request = Request({**request.environ, "REQUEST_METHOD": "GET"})
        try:
            request.body = read_body(request.environ, getattr(handler, "max_body", 0))
        except Refused as exc:
            return exc.response
        try:
            return handler(request)
        except Exception:  # a bug: log it with its traceback, answer 500 in JSON
            return _internal_error(request)


def _internal_error(request: Request) -> Response:
    log.exception("unhandled error on %s", request.path)
    return error_response(500, "internal error; see the server log")


class Refused(Exception):
    """A request body ``App`` will not hand to the handler; ``response`` says why: 400 (a malformed length),
    413 (over the route's ``max_body``) or 415 (a route that takes no body)."""

    def __init__(self, response: Response):
        super().__init__(response.body.decode())
        self.response = response


def _length(environ: dict) -> int | None:
    """The body's announced length: 0 for none, ``None`` when it comes without one (chunked, and the server
    ends it for us: ``wsgi.input_terminated``, as granian does; from other servers such a body cannot be told
    apart from the next request, so it counts as none), -1 when the Content-Length is not a number."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None if environ.get("wsgi.input_terminated") else 0
    raw = environ.get("CONTENT_LENGTH")
    if not raw:
        return 0
    return int(raw) if raw.isdigit() else -1


def read_body(environ: dict, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes; else ``Refused`` (the body drained): 415 when ``limit`` is 0
    (the route takes no body), 413 when it is larger than ``limit``, or 400 for a Content-Length that is not
    a number."""
    length = _length(environ)
    if length == 0:
        return b""
    if length == -1:
        raise Refused(refuse(environ, error_response(400, "Content-Length is not a number")))
    if length is not None and length > limit:
        raise Refused(refuse(environ, _not_taken(limit)))
    body = environ["wsgi.input"].read(limit + 1 if length is None else length)
    if len(body) > limit:
        raise Refused(refuse(environ, _not_taken(limit)))
    return body


def _not_taken(limit: int) -> Response:
    """415 for a body on a route that takes none (whatever its size: it is not too large, it is not wanted),
    413 for one over a body-taking route's ``limit``."""
    if limit == 0:
        return error_response(415, NO_BODY)
    return error_response(413, f"the request body is over the limit of {limit} bytes")


def refuse(environ: dict, response: Response) -> Response:
    """``response`` to a request whose body (the rest of it) we will not use: read it and drop it, so a client
    still sending reads the answer rather than a reset. Past ``MAX_DRAIN_BYTES`` (or with a length we cannot
    trust) it is left unread, and the answer says ``Connection: close``."""
    length = _length(environ)
    if length == 0:
        return response
    if length == -1 or (length or 0) > MAX_DRAIN_BYTES:
        response.headers.append(("Connection", "close"))
        return response
    stream, left = environ["wsgi.input"], MAX_DRAIN_BYTES if length is None else length
    while left > 0:  # with a known length, never read past it: the next request may follow on the socket
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            return response
        left -= len(chunk)
    if length is None and stream.read(1):
        response.headers.append(("Connection", "close"))
    return response


_NOT_FAST = (None, (), False)


class RSGIApp:
    """RSGI's interface over the same ``App`` and its contract. A request for a path in ``fast``, with a method
    its route answers and no body, runs that handler on the event loop: a coroutine (chapter 10's pipelined
    Redis path), or a plain function that never waits on I/O (``/hello``), called as is. Every other request
    goes to ``App.respond`` in a thread: its 404s, 405s, 413s and 415s, body reading and handlers, exactly as
    under WSGI. The body is buffered up to ``MAX_DRAIN_BYTES`` for it."""

    def __init__(
        self,
        app: App,
        fast: dict[str, AsyncHandler | Handler],
        on_start: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ):
        self.app = app
        # path -> (handler, the methods its route answers, whether it is a coroutine): one lookup per request
        self.fast: dict[str, tuple[Callable[[Request], Any], tuple[str, ...], bool]] = {
            path: (handler, methods_of(app.routes[path]), inspect.iscoroutinefunction(handler))
            for path, handler in fast.items()
        }
        self.on_start = on_start  # told each loop, e.g. by a client that the threads reach the loop with

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:  # granian: each worker's event loop
        if self.on_start is not None:
            self.on_start(loop)

    def answer_at_once(self, scope: Scope, protocol: HTTPProtocol) -> bool:
        """Answer now, on the caller's thread, a request for a plain fast handler (one that never waits):
        True if ``scope`` was one. No coroutine is made for it: ``loopserver`` asks this first."""
        path, headers = scope.path, scope.headers
        fast, methods, awaits = self.fast.get(path, _NOT_FAST)
        if awaits or not fast or scope.method not in methods:
            return False
        if "content-length" in headers or "transfer-encoding" in headers:
            return False
        if self.app.metrics is not None:
            self.app.metrics.count_request()
        environ = {"PATH_INFO": path, "QUERY_STRING": scope.query_string, "REQUEST_METHOD": scope.method}
        request = Request(environ)
        try:
            response = fast(request)
        except Exception:
            response = _internal_error(request)
        protocol.response_bytes(
            response.status, [("content-type", response.content_type), *response.headers], response.body
        )
        return True

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol) -> None:
        if not self.answer_at_once(scope, protocol):
            await self.answer(scope, protocol)

    async def answer(self, scope: Scope, protocol: HTTPProtocol) -> None:
        """Answer a request ``answer_at_once`` did not take: a coroutine handler awaited on the loop, or
        ``App.respond`` in a thread."""
        metrics = self.app.metrics
        if metrics is not None:
            metrics.count_request()
        path, method, headers = scope.path, scope.method, scope.headers
        environ: dict = {"PATH_INFO": path, "QUERY_STRING": scope.query_string, "REQUEST_METHOD": method}
        request = Request(environ)
        length, chunked = headers.get("content-length"), "chunked" in headers.get("transfer-encoding", "")
        fast, methods, awaits = self.fast.get(path, _NOT_FAST)
        if fast and awaits and method in methods and not (length or chunked):  # a fast path: PATH_INFO as is
            try:
                response: Response = await fast(request)
            except Exception:
                response = _internal_error(request)
        else:
            # PATH_INFO as WSGI hands it over: the path's UTF-8 bytes read as latin-1 (RSGI gives decoded text)
            environ["PATH_INFO"] = path.encode().decode("latin-1")
            environ["REMOTE_ADDR"] = scope.client.rpartition(":")[0].strip("[]")
            environ.update(
                {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
            )
            environ.update(
                {
                    "CONTENT_TYPE": headers.get("content-type", ""),
                    "CONTENT_LENGTH": length or "",
                    "wsgi.input_terminated": True,
                    "wsgi.input": io.BytesIO(await self._body(protocol, length, chunked)),
                }
            )
            response = await asyncio.get_running_loop().run_in_executor(None, self.app.respond, request)
        protocol.response_bytes(
            response.status, [("content-type", response.content_type), *response.headers], response.body
        )

    @staticmethod
    async def _body(protocol: HTTPProtocol, length: str | None, chunked: bool) -> bytes:
        """The body, read no further than ``MAX_DRAIN_BYTES``; none when it announces more (``App`` then
        answers 413, or 415 on a route that takes none, with ``Connection: close`` without waiting for it)."""
        if not (length or chunked) or (length and length.isdigit() and int(length) > MAX_DRAIN_BYTES):
            return b""
        body = bytearray()
        async for chunk in protocol:
            body += chunk
            if len(body) > MAX_DRAIN_BYTES:
                break
        return bytes(body)
