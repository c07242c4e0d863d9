"""Chapter 10: the OpenAPI 3.1 document of the API server, served at ``/openapi.json``: the contract.

It lists every route the server answers, every method of each, and every status each can answer: the
handler's own, and the kernel's (``web.App``: 405 with ``Allow`` for another method, 415 for a body on a
route that takes none, 413 for a larger one than a body-taking route reads, 400 for a malformed one). A
request its schemas refuse (a value over ``maxLength``, a parameter missing) is a 400; 413 is only about
the body's size in bytes. Built as a plain dict so the limits in it are the ones
``foundations.api`` enforces; tests validate it with openapi-spec-validator, compare it with the server's
route table, and fuzz the running server against it with schemathesis.
"""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error(description: str, **extra: object) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}, **extra}


def _ok(description: str, schema: dict, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _operation(operation_id: str, summary: str, responses: dict, **extra: object) -> dict:
    """One operation, with the statuses ``web.App`` answers added to ``responses``: 400 and 405 on every
    route; for a body, 413 (over the limit) on one that takes a body (``requestBody``), 415 on one that
    takes none."""
    kernel = {"400": _ref("BadRequest"), "405": _ref("MethodNotAllowed")}
    if "requestBody" in extra:
        kernel["413"] = _ref("ContentTooLarge")
    else:
        kernel["415"] = _ref("NoBodyTaken")
    return {"operationId": operation_id, "summary": summary, **extra, "responses": {**kernel, **responses}}


def document(
    max_value_chars: int, max_key_length: int, max_query_value_chars: int, max_body_bytes: int
) -> dict:
    """The OpenAPI 3.1 description of every route of the API server, with the given limits."""
    key_schema = {"type": "string", "minLength": 1, "maxLength": max_key_length}
    key_query = {"name": "key", "in": "query", "required": True, "schema": key_schema}
    key_path = {"name": "key", "in": "path", "required": True, "schema": key_schema}
    name_path = {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
    }
    value = {
        "type": "string",
        "maxLength": max_value_chars,
        "description": f"at most {max_value_chars} characters (400 over that)",
    }
    value_query = {
        "name": "value",
        "in": "query",
        "required": True,
        "schema": {
            **value,
            "maxLength": max_query_value_chars,
            "description": f"at most {max_query_value_chars} characters, what a URL can carry (400 over that); "
            f"PUT /keys/{{key}} takes longer values",
        },
    }
    text = {"type": "string"}
    hello = _ok("the greeting", text, "text/plain")
    unavailable, not_found = {"503": _ref("Unavailable")}, {"404": _ref("NotFound")}
    wrong_type, full = {"409": _ref("Conflict")}, {"507": _ref("InsufficientStorage")}
    ok = _ok("stored or deleted", {"const": "OK"})
    # RFC 9110, 9.3.4: a PUT that creates the resource answers 201; no Location, the target URI is the resource
    created = _ok("stored: the key was new", {"const": "OK"})
    replaced = _ok("stored: the key's value was replaced", {"const": "OK"})
    one = _ok("the value", value)
    every = _ok("every key and its value", {"type": "object", "additionalProperties": text})
    debug_only = {
        "404": _error(
            "not served to this client: only to loopback clients that did not come "
            "through a proxy, or with the debug token"
        )
    }
    get_set_key = {"GetSetKey": {"operationId": "getKeyQuery", "parameters": {"key": "$request.query.key"}}}
    key_links = {
        "GetPutKey": {"operationId": "getKey", "parameters": {"key": "$request.path.key"}},
        "DeletePutKey": {"operationId": "deleteKey", "parameters": {"key": "$request.path.key"}},
    }

    # A GET must be safe (RFC 9110, 9.2.1): prefetchers and crawlers send it on their own. The book's GET /set
    # stays for its clients, marked deprecated; PUT and DELETE /keys/{key} (or POST) are the design to copy.
    unsafe_get = {
        "deprecated": True,
        "description": "changes data on a GET, as the book's API does; use PUT or DELETE /keys/{key}, or POST "
        "(a HEAD here is a 405: it would change data too)",
    }

    def set_(operation_id: str, **extra: object) -> dict:
        return _operation(
            operation_id,
            "store a value (the book's /set)",
            {"200": {**ok, "links": get_set_key}, **unavailable, **full},
            parameters=[key_query, value_query],
            **extra,
        )

    def delete(operation_id: str, **extra: object) -> dict:
        return _operation(
            operation_id,
            "delete a key",
            {"200": ok, **not_found, **unavailable},
            parameters=[key_query],
            **extra,
        )

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API Foundations: the API server",
            "version": "1.0.0",
            "description": "The book's chapter 5 greetings, chapter 10's registry API (/get, /set, "
            "/getAll) plus /del and a REST resource /keys/{key} over the same Redis keys "
            "(`api:<key>`), and chapter 11's health and debug endpoints. PUT /keys/{key} answers 201 when it "
            "created the key and 200 when it replaced its value. The server answers HEAD wherever it "
            "answers GET (the GET's status and headers, no body), except on the deprecated GETs of /set and "
            "/del: they change data, and a HEAD must not, so it is a 405 there (Allow: GET, POST). Every "
            "route answers 405 (with Allow) to other methods, 415 to a body on a route that takes none (its "
            "parameters go in the query string), 413 to a body larger than PUT /keys/{key} reads, and 400 "
            "to a request its schemas refuse. Redis's own errors are answered as errors too: 409 a key Redis holds as "
            "another type, 503 a Redis down or refusing the server, 507 a full Redis.",
        },
        "paths": {
            "/hello": {
                "get": _operation(
                    "hello",
                    "the book's greeting",
                    {"200": hello},
                    parameters=[{"name": "name", "in": "query", "required": False, "schema": text}],
                )
            },
            "/hello/{name}": {
                "get": _operation(
                    "helloName",
                    "greet a name from the path",
                    {"200": hello, **not_found},
                    parameters=[name_path],
                )
            },
            "/say": {"get": _operation("say", "Gorilla Mux's /say", {"200": hello})},
            "/say/": {"get": _operation("saySlash", "/say with a trailing slash", {"200": hello})},
            "/say/{name}": {
                "get": _operation(
                    "sayName",
                    "greet a name from the path (a trailing slash is allowed too)",
                    {"200": hello, **not_found},
                    parameters=[name_path],
                )
            },
            "/livez": {
                "get": _operation(
                    "livez",
                    "the server answers (no Redis call: liveness, for container health checks)",
                    {
                        "200": _ok(
                            "alive",
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"const": "ok"}},
                            },
                        )
                    },
                )
            },
            "/healthz": {
                "get": _operation(
                    "healthz",
                    "the server answers and reaches Redis (readiness)",
                    {
                        "200": _ok(
                            "healthy",
                            {
                                "type": "object",
                                "required": ["status", "redis"],
                                "properties": {"status": {"const": "ok"}, "redis": {"const": "ok"}},
                            },
                        ),
                        **unavailable,
                    },
                )
            },
            "/openapi.json": {
                "get": _operation(
                    "openapi", "this document", {"200": _ok("the OpenAPI document", {"type": "object"})}
                )
            },
            "/debug/vars": {
                "get": _operation(
                    "debugVars",
                    "the book's expvar counters (chapter 11)",
                    {"200": _ok("counters and process figures", {"type": "object"}), **debug_only},
                )
            },
            "/metrics": {
                "get": _operation(
                    "metrics",
                    "Prometheus metrics (chapter 11)",
                    {"200": _ok("the exposition format", text, "text/plain"), **debug_only},
                )
            },
            "/get": {
                "get": _operation(
                    "getKeyQuery",
                    "the value of a key (the book's /get)",
                    {"200": one, **not_found, **wrong_type, **unavailable},
                    parameters=[key_query],
                )
            },
            "/set": {"get": set_("setKeyQuery", **unsafe_get), "post": set_("setKeyQueryPost")},
            "/del": {"get": delete("deleteKeyQuery", **unsafe_get), "post": delete("deleteKeyQueryPost")},
            "/getAll": {
                "get": _operation(
                    "getAll", "every key/value pair (the book's /getAll)", {"200": every, **unavailable}
                )
            },
            "/keys": {"get": _operation("listKeys", "every key/value pair", {"200": every, **unavailable})},
            "/keys/{key}": {
                "parameters": [key_path],
                "get": _operation(
                    "getKey", "the value of a key", {"200": one, **not_found, **wrong_type, **unavailable}
                ),
                "put": _operation(
                    "putKey",
                    "store a value: the raw UTF-8 body, or a JSON string",
                    {
                        "200": {**replaced, "links": key_links},
                        "201": {**created, "links": key_links},
                        "415": _ref("UnsupportedMediaType"),
                        **unavailable,
                        **full,
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "text/plain": {"schema": {**value, "minLength": 1}},
                            "application/json": {"schema": value},
                        },
                    },
                ),
                "delete": _operation("deleteKey", "delete a key", {"200": ok, **not_found, **unavailable}),
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["type", "message"],
                            "properties": {
                                "type": {"type": "string", "examples": ["not_found"]},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            },
            "responses": {
                "BadRequest": _error(
                    "a parameter or value the schemas here refuse (missing, malformed, over its maxLength), "
                    "or a malformed request"
                ),
                "NotFound": _error("no such key, or no such route"),
                "MethodNotAllowed": _error(
                    "this path does not answer the method; Allow names those it does",
                    headers={
                        "Allow": {"required": True, "schema": text, "description": "e.g. GET, PUT, DELETE"}
                    },
                ),
                "ContentTooLarge": _error(
                    f"a body over {max_body_bytes} bytes (twice what any value within its maxLength takes)"
                ),
                "NoBodyTaken": _error(
                    "a request body on a route that takes none, whatever its size or type: send the "
                    "parameters in the query string"
                ),
                "Conflict": _error(
                    "the key holds a value of another Redis type than a string (another program wrote it): "
                    "delete it, then set it again"
                ),
                "UnsupportedMediaType": _error("a body that is neither text/plain nor application/json"),
                "Unavailable": _error(
                    "Redis does not answer, or refuses the server: its password or permissions (ACL), a "
                    "read-only replica, a data set still loading; the message names which, and the fix"
                ),
                "InsufficientStorage": _error("Redis is full (over its maxmemory): nothing was stored"),
            },
        },
    }
