"""Chapter 10: the registry API - the book's ``/get``, ``/set``, ``/getAll`` (+ ``/del``) and a REST resource
``/keys/{key}`` for the same data, sharing one implementation, with honest status codes.

Statuses: 201 a ``PUT /keys/{key}`` that created the key (RFC 9110, 9.3.4; 200 one that replaced its value),
400 a parameter or value the document's schema refuses (missing, malformed, over its length), 404 unknown key
(or route), 405 wrong method (with ``Allow``; a HEAD on ``/set`` and ``/del`` too, whose GETs change data),
409 a key Redis holds as another type, 413 a body larger than ``PUT /keys/{key}`` reads, 415 a body there
neither text nor JSON, or any body on a route that takes none (``/set``'s parameters go in the query string),
503 Redis down or refusing this server, 507 Redis full; every body is JSON: the methods, limits and statuses
``foundations.apispec`` documents.
``book_routes`` keeps the book's 200-with-``{"error": ...}`` answers, for the notebook to show why they
mislead clients.

    >>> routes(Registry(client, prefix="api"))["/get"]    # server.create_app wires these in
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from foundations import apispec
from foundations.errors import FoundationsError
from foundations.registry import AsyncRegistry, Full, NotFound, Registry, Unavailable, WrongType
from foundations.web import AsyncHandler, Handler, Request, Response, Route, error_response

# Characters, as JSON Schema's maxLength counts them, so /openapi.json states the limit exactly; a registry
# of settings, not a blob store (at most 256 KiB in UTF-8; Redis itself would take 512 MB).
MAX_VALUE_CHARS = 64 * 1024
MAX_KEY_LENGTH = 512  # characters; longer keys are a client bug, not data
# /set?value=: what a URL can carry. Percent-encoded, a character takes up to 12 bytes, and granian refuses
# a request line over 64 KiB (414): 4096 characters, plus a key of 512, always fit. Longer: PUT /keys/{key}.
MAX_QUERY_VALUE_CHARS = 4096
# PUT /keys/{key}: the largest body read. A value within the limit takes up to 12 bytes a character (a JSON
# string escapes one as ``\ud83d\ude00``); the route reads twice that, so a value a little over the limit is
# parsed and told its length (400, as the schema's maxLength says), and web.App refuses only a body far
# larger, unparsed (413).
MAX_BODY_BYTES = 2 * (12 * MAX_VALUE_CHARS + 2)
KEYS_PREFIX = "/keys/"
_OK = b'"OK"'
# The book's routes and the methods each takes (one table for the WSGI handlers and their coroutine twins;
# web.RSGIApp runs a twin only for a method its WSGI route answers). The GETs of /set and /del change data, so
# their routes take no automatic HEAD (``head=False``): a HEAD there is a 405, on every server.
METHODS = {"/get": ("GET",), "/set": ("GET", "POST"), "/del": ("GET", "POST")}
_dumps = json.dumps
# The registry's errors and their statuses (docs/architecture.md, "Statuses", says why each).
STATUSES = {NotFound: 404, WrongType: 409, Unavailable: 503, Full: 507}


class BadInput(FoundationsError):
    """A request the client must fix: carries its HTTP status (400 or 415) and the message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _key(key: str | None) -> str:
    if not key:
        raise BadInput(400, "missing parameter `key`: e.g. /get?key=name")
    if len(key) > MAX_KEY_LENGTH:
        raise BadInput(400, f"key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    return key


def _value(value: str | None) -> str:
    if value is None:
        raise BadInput(400, "missing parameter `value`: e.g. /set?key=name&value=Tit%20Petric")
    if len(value) > MAX_VALUE_CHARS:
        raise BadInput(400, f"value is {len(value)} characters long; the limit is {MAX_VALUE_CHARS}")
    return value


def _query_value(value: str | None) -> str:
    if value is not None and len(value) > MAX_QUERY_VALUE_CHARS:
        raise BadInput(
            400,
            f"value is {len(value)} characters long; /set takes up to "
            f"{MAX_QUERY_VALUE_CHARS} (a URL must carry it): PUT /keys/KEY takes up to "
            f"{MAX_VALUE_CHARS}",
        )
    return _value(value)


def _body_value(request: Request) -> str:
    """The value of a ``PUT /keys/{key}``: the raw UTF-8 body (``text/plain``, or no Content-Type), or a JSON
    string (``application/json``). ``web.App`` has already refused bodies over ``MAX_BODY_BYTES`` (413)."""
    content_type = request.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in ("", "text/plain", "application/json"):
        raise BadInput(
            415,
            f"Content-Type {content_type!r} is not supported: send text/plain (the raw "
            "value) or application/json (a JSON string)",
        )
    if not request.body:
        raise BadInput(400, "the request has no body: send the value as the body")
    try:
        text = request.body.decode()
        if content_type == "application/json":
            text = json.loads(text)
            if isinstance(text, str):
                text.encode()  # a lone surrogate ("\ud800") has no UTF-8 encoding: this raises
    except ValueError:
        raise BadInput(
            400, "the body must be UTF-8 text, or a JSON string with Content-Type application/json"
        ) from None
    if not isinstance(text, str):
        raise BadInput(400, f"a JSON body must be a string, got {type(text).__name__}")
    return _value(text)


def _path_key(request: Request) -> str:
    raw = request.path[len(KEYS_PREFIX) :]
    try:  # WSGI hands the path over as latin-1 decoded bytes; the key is UTF-8
        raw = raw.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        pass
    return _key(raw)


def _failure(exc: FoundationsError) -> Response:
    """The input's and the registry's errors as JSON statuses: ``BadInput``'s own, else ``STATUSES``."""
    return error_response(exc.status if isinstance(exc, BadInput) else STATUSES[type(exc)], str(exc))


_EXPECTED: tuple[type[FoundationsError], ...] = (BadInput, *STATUSES)


def _guard(
    allowed: tuple[str, ...], action: Callable[[Request], Response], max_body: int = 0, head: bool = True
) -> Route:
    """``action`` as a route answering ``allowed`` (``web.App`` answers 405 to the rest; HEAD wherever GET,
    unless ``head`` is False); the registry's and the input's errors become JSON statuses."""

    def handler(request: Request) -> Response:
        try:
            return action(request)
        except _EXPECTED as exc:
            return _failure(exc)

    return Route(handler, allowed, max_body, head=head)


def _guard_async(action: Callable[[Request], Awaitable[Response]]) -> AsyncHandler:
    """``_guard`` for a coroutine ``action``: the same error statuses. ``web.RSGIApp`` runs it only for a
    method its WSGI twin answers and a request without a body; the rest goes to ``web.App``."""

    async def handler(request: Request) -> Response:
        try:
            return await action(request)
        except _EXPECTED as exc:
            return _failure(exc)

    return handler


def routes(registry: Registry) -> dict[str, Handler]:
    """Exact-path routes: the book's four and the collection ``/keys``, plus ``/openapi.json``."""
    document = apispec.document(MAX_VALUE_CHARS, MAX_KEY_LENGTH, MAX_QUERY_VALUE_CHARS, MAX_BODY_BYTES)
    spec = Response(200, _dumps(document).encode())

    def get(request: Request) -> Response:
        return Response(200, _dumps(registry.get(_key(request.arg("key")))).encode())

    def set_(request: Request) -> Response:
        registry.set(_key(request.arg("key")), _query_value(request.arg("value")))
        return Response(200, _OK)

    def delete(request: Request) -> Response:
        if not registry.delete(_key(request.arg("key"))):
            raise NotFound(f"no key {request.arg('key')!r} in registry {registry.prefix!r}")
        return Response(200, _OK)

    def get_all(request: Request) -> Response:  # keys sorted, as Go's encoding/json sorts map keys
        return Response(200, _dumps(registry.get_all(), sort_keys=True).encode())

    return {
        "/get": _guard(METHODS["/get"], get),
        "/set": _guard(METHODS["/set"], set_, head=False),  # a GET that stores: a HEAD must not (405)
        "/del": _guard(METHODS["/del"], delete, head=False),
        "/getAll": _guard(("GET",), get_all),
        "/keys": _guard(("GET",), get_all),
        "/openapi.json": _guard(("GET",), lambda request: spec),
    }


def prefixes(registry: Registry) -> dict[str, Handler]:
    """``/keys/{key}``: GET, PUT (body = value) and DELETE, the same operations as the book's routes."""

    def one_key(request: Request) -> Response:
        key = _path_key(request)
        method = request.method
        if method == "GET":
            return Response(200, _dumps(registry.get(key)).encode())
        if method == "PUT":  # 201 (Created) when it created the key, 200 when it replaced a value
            return Response(201 if registry.put(key, _body_value(request)) else 200, _OK)
        if not registry.delete(key):
            raise NotFound(f"no key {key!r} in registry {registry.prefix!r}")
        return Response(200, _OK)

    return {KEYS_PREFIX: _guard(("GET", "PUT", "DELETE"), one_key, MAX_BODY_BYTES)}


def async_routes(registry: AsyncRegistry) -> dict[str, AsyncHandler]:
    """The book's ``/get``, ``/set`` and ``/del`` as coroutines over an ``AsyncRegistry`` (chapter 10, beyond
    the book: the pipelined server's hot path). Same inputs, same answers as ``routes``."""

    async def get(request: Request) -> Response:
        return Response(200, _dumps(await registry.get(_key(request.arg("key")))).encode())

    async def set_(request: Request) -> Response:
        await registry.set(_key(request.arg("key")), _query_value(request.arg("value")))
        return Response(200, _OK)

    async def delete(request: Request) -> Response:
        if not await registry.delete(_key(request.arg("key"))):
            raise NotFound(f"no key {request.arg('key')!r} in registry {registry.prefix!r}")
        return Response(200, _OK)

    actions = {"/get": get, "/set": set_, "/del": delete}
    return {path: _guard_async(action) for path, action in actions.items()}


def book_routes(registry: Registry) -> dict[str, Handler]:
    """The book's handlers as written: always 200, ``{"error": "..."}`` bodies, tab-indented JSON.
    An anti-pattern: a client (or a load balancer, or a cache) cannot tell a failure from a value."""

    def respond(fn: Callable[[], object]) -> Response:
        try:
            payload = fn()
        except Exception as exc:  # noqa: BLE001 - exactly what the book does: every error becomes a 200
            payload = {"error": str(exc)}
        return Response(
            200, json.dumps(payload, indent="\t", sort_keys=True).encode(), "text/plain; charset=utf-8"
        )

    def set_(request: Request) -> str:
        registry.set(request.arg("key", ""), request.arg("value", ""))
        return "OK"

    return {
        "/get": lambda r: respond(lambda: registry.get(r.arg("key", ""))),
        "/set": lambda r: respond(lambda: set_(r)),
        "/getAll": lambda r: respond(registry.get_all_book),
    }
