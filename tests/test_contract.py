"""The HTTP contract of the API server: the OpenAPI document matches the route table, schemathesis finds no
request the live server answers against the document, and every request gets an answer - bodies on routes
that take none, bodies over the limit, chunked bodies - with the body drained so the client reads it."""

from __future__ import annotations

import http.client
import io
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from foundations import api, apispec, production, redisdb, serve, server, web

TWO_MB = b"x" * (2 * 1024 * 1024)
# One concrete request per documented path (the templated ones with a value filled in), plus no route at all.
TARGETS = [
    "/hello",
    "/hello/Tit",
    "/say",
    "/say/",
    "/say/Tit",
    "/livez",
    "/healthz",
    "/openapi.json",
    "/debug/vars",
    "/metrics",
    "/get?key=a",
    "/set?key=a&value=b",
    "/del?key=a",
    "/getAll",
    "/keys",
    "/keys/a",
    "/nope",
]


@pytest.fixture
def app(cfg):
    return server.create_app(cfg, redis.Redis.from_url(cfg.redis_url))


def call(app, method, target, body=b"", **environ):
    path, _, query = target.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "REMOTE_ADDR": "127.0.0.1",
        **environ,
    }
    seen = {}
    payload = b"".join(
        app(env, lambda status, headers: seen.update(status=int(status.split()[0]), headers=dict(headers)))
    )
    return seen["status"], seen["headers"], payload, env["wsgi.input"]


def documented(spec: dict) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(exact path -> methods, prefix -> methods) as the document describes them."""
    exact, prefixes = {}, {}
    for path, item in spec["paths"].items():
        methods = {m.upper() for m in item if m != "parameters"}
        if "{" in path:
            prefixes[path[: path.index("{")]] = methods
        else:
            exact[path] = methods
    return exact, prefixes


def test_the_document_and_the_route_table_agree(app):
    spec = apispec.document(
        api.MAX_VALUE_CHARS, api.MAX_KEY_LENGTH, api.MAX_QUERY_VALUE_CHARS, api.MAX_BODY_BYTES
    )
    exact, prefixes = documented(spec)
    # HEAD is not an operation of its own in the document: its description says where a GET answers it
    assert {path: set(web.methods_of(h)) - {"HEAD"} for path, h in app.routes.items()} == exact
    assert {prefix: set(web.methods_of(h)) - {"HEAD"} for prefix, h in app.prefixes} == prefixes
    assert "HEAD wherever it answers GET" in spec["info"]["description"]
    assert "except on the deprecated GETs" in spec["info"]["description"]
    # HEAD where GET is, except where the document marks the GET deprecated (it changes data: so would HEAD)
    for path, handler in [*app.routes.items(), *app.prefixes]:
        methods = web.methods_of(handler)
        item = spec["paths"].get(path) or next(
            v for k, v in spec["paths"].items() if k.partition("{")[0] == path
        )
        unsafe = item.get("get", {}).get("deprecated", False)
        assert ("HEAD" in methods) == ("GET" in methods and not unsafe), (path, methods)


def test_the_drift_check_sees_an_undocumented_route(app):
    app.routes["/extra"] = web.text_response  # a route added without its documentation
    with pytest.raises(AssertionError):
        test_the_document_and_the_route_table_agree(app)


def test_every_operation_lists_the_kernels_statuses():
    """405 everywhere; a body is a 415 where the operation takes none (never a 413: it is not too large),
    and a 413 (over the limit) or 415 (neither text nor JSON) where it takes one."""
    spec = apispec.document(
        api.MAX_VALUE_CHARS, api.MAX_KEY_LENGTH, api.MAX_QUERY_VALUE_CHARS, api.MAX_BODY_BYTES
    )
    no_body = {"$ref": "#/components/responses/NoBodyTaken"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert {"400", "405", "415"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert "413" in responses and responses["415"] != no_body, (method, path)
            else:
                assert "413" not in responses and responses["415"] == no_body, (method, path)
    assert "query string" in spec["components"]["responses"]["NoBodyTaken"]["description"]


@pytest.mark.parametrize(
    "method, target",
    [
        ("PUT", "/set?key=a&value=b"),
        ("PUT", "/del?key=a"),
        ("POST", "/hello"),
        ("DELETE", "/healthz"),
        ("PATCH", "/keys/a"),
    ],
)
def test_other_methods_are_a_405_naming_the_allowed_ones(app, method, target):
    status, headers, body, _ = call(app, method, target)
    allowed = web.methods_of(app.handler_for(target.partition("?")[0]))
    assert status == 405 and headers["Allow"] == ", ".join(allowed)
    assert json.loads(body)["error"]["type"] == "method_not_allowed"


def test_head_is_the_get_without_its_body_and_changes_nothing(app, cfg):
    key = f"contract-head-{time.monotonic_ns()}"
    assert call(app, "PUT", f"/keys/{key}", b"v", CONTENT_TYPE="text/plain")[0] == 201  # created
    got = call(app, "GET", f"/keys/{key}")
    head = call(app, "HEAD", f"/keys/{key}")
    assert (head[0], head[1], head[2]) == (got[0], got[1], b"") and got[2] == b'"v"'
    assert call(app, "GET", f"/keys/{key}")[2] == b'"v"'  # /keys/{key} answers DELETE too: HEAD is not one
    assert call(app, "DELETE", f"/keys/{key}")[0] == 200
    status, headers, _, _ = call(app, "HEAD", "/nope")
    assert status == 404 and headers["Content-Length"] != "0"  # an error keeps its length too


def test_the_document_lists_put_keys_201_created_and_200_replaced():
    """RFC 9110, 9.3.4: a PUT that creates the resource answers 201, one that replaces its value 200; both
    are documented, each with the links the stateful fuzzer follows (GET and DELETE the same key)."""
    spec = apispec.document(
        api.MAX_VALUE_CHARS, api.MAX_KEY_LENGTH, api.MAX_QUERY_VALUE_CHARS, api.MAX_BODY_BYTES
    )
    responses = spec["paths"]["/keys/{key}"]["put"]["responses"]
    assert {"200", "201"} <= set(responses)
    assert responses["201"]["links"] == responses["200"]["links"] and responses["201"]["links"]
    assert "headers" not in responses["201"]  # no Location: the target URI is the resource itself


@pytest.mark.parametrize("interface", ["loop", "rsgi", "wsgi"])
def test_the_live_server_answers_put_201_for_a_new_key_and_200_for_a_replaced_one(cfg, interface):
    """On each server, one keep-alive connection: the WSGI server's PUT asks Redis through redis-py, the RSGI
    and loop servers' through ``pipelining.Blocking``. The value is stored both times."""
    key = f"contract-put-{interface}-{time.monotonic_ns()}"
    stored = redis.Redis.from_url(cfg.redis_url)
    answers = []
    try:
        with production.start(cfg, "--interface", interface) as api_server:
            conn = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=10)
            try:
                for value in (b"first", b"second"):
                    conn.request("PUT", f"/keys/{key}", body=value, headers={"Content-Type": "text/plain"})
                    response = conn.getresponse()
                    answers.append(
                        (
                            response.status,
                            response.read(),
                            response.getheader("Location"),
                            stored.get(f"api:{key}"),
                        )
                    )
            finally:
                conn.close()
    finally:
        stored.delete(f"api:{key}")
    assert answers == [(201, b'"OK"', None, b"first"), (200, b'"OK"', None, b"second")]


@pytest.mark.parametrize("interface", ["loop", "rsgi", "wsgi"])
def test_the_live_server_answers_head_on_one_connection_with_the_get_after_it(cfg, interface):
    """HEAD then GET on one keep-alive connection: a body sent after the HEAD would be read as the GET's status
    line. Each kind of route: a plain fast handler (/hello), a coroutine (/get), ``App.respond`` (/keys/x)."""
    redis.Redis.from_url(cfg.redis_url).set("api:contract-head", "v")
    with production.start(cfg, "--interface", interface) as api_server:
        conn = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=10)
        try:
            for target in ("/hello", "/get?key=contract-head", "/keys/contract-head", "/nope"):
                conn.request("HEAD", target)
                head = conn.getresponse()
                assert head.read() == b""
                conn.request("GET", target)
                got = conn.getresponse()
                body = got.read()
                assert head.status == got.status, (target, head.status, got.status)
                assert head.getheader("Content-Length") == got.getheader("Content-Length") == str(len(body))
        finally:
            conn.close()


@pytest.mark.parametrize("interface", ["loop", "rsgi", "wsgi"])
def test_the_live_server_answers_head_on_the_deprecated_gets_with_a_405_and_changes_nothing(cfg, interface):
    """HEAD is safe, so link checkers and ``curl -I`` send it freely; on ``/del`` and ``/set``, whose GETs
    change data, it is a 405 (``Allow: GET, POST``) on every server: the RSGI and loop servers' coroutine
    fast path must not run ``delete`` or ``set_`` for it. Then a GET on the same connection: no body leaked."""
    key = f"contract-head-unsafe-{interface}-{time.monotonic_ns()}"
    stored = redis.Redis.from_url(cfg.redis_url)
    stored.set(f"api:{key}", "kept")
    try:
        with production.start(cfg, "--interface", interface) as api_server:
            conn = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=10)
            try:
                for target in (
                    f"/del?key={key}",
                    f"/set?key={key}&value=changed",
                    f"/set?key={key}-new&value=x",
                ):
                    conn.request("HEAD", target)
                    head = conn.getresponse()
                    assert (head.status, head.getheader("Allow"), head.read()) == (405, "GET, POST", b""), (
                        target
                    )
                conn.request("GET", f"/get?key={key}")
                got = conn.getresponse()
                assert (got.status, got.read()) == (200, b'"kept"')
            finally:
                conn.close()
        assert (stored.get(f"api:{key}"), stored.exists(f"api:{key}-new")) == (b"kept", 0)
    finally:
        stored.delete(f"api:{key}", f"api:{key}-new")


@pytest.mark.parametrize(
    "body, content_type, status, kind",
    [
        (b"", "text/plain", 400, "bad_request"),  # no body: nothing to store
        (b"v", "application/xml", 415, "unsupported_media_type"),
        (b"x" * (api.MAX_BODY_BYTES + 1), "text/plain", 413, "request_entity_too_large"),
    ],
)
def test_put_keys_refuses_what_the_document_does_not_allow(app, body, content_type, status, kind):
    got, _, payload, _ = call(app, "PUT", "/keys/contract-test", body, CONTENT_TYPE=content_type)
    assert (got, json.loads(payload)["error"]["type"]) == (status, kind)


def test_a_body_on_a_route_that_takes_none_is_drained_and_refused(app):
    status, headers, body, stream = call(app, "GET", "/hello", TWO_MB)
    error = json.loads(body)["error"]
    assert (status, error["type"], error["message"]) == (415, "unsupported_media_type", web.NO_BODY)
    assert "query string" in error["message"]  # it says what to do instead
    assert stream.tell() == len(TWO_MB) and "Connection" not in headers  # all read: the connection lives on


def test_a_small_form_body_on_set_is_a_415_and_writes_nothing(app, cfg):
    """``POST /set`` with a form body (what an HTML form or urllib sends): 415, not 413 (7 bytes are not too
    large), the body drained, and neither the query's value nor the form's stored."""
    key = f"contract-form-{time.monotonic_ns()}"
    form = b"value=c"
    status, headers, body, stream = call(
        app, "POST", f"/set?key={key}&value=b", form, CONTENT_TYPE="application/x-www-form-urlencoded"
    )
    assert (status, headers["Content-Type"]) == (415, "application/json")
    assert json.loads(body) == {"error": {"type": "unsupported_media_type", "message": web.NO_BODY}}
    assert stream.tell() == len(form) and "Connection" not in headers
    assert redis.Redis.from_url(cfg.redis_url).exists(f"api:{key}") == 0
    assert call(app, "GET", f"/get?key={key}")[0] == 404


@pytest.mark.parametrize("interface", ["loop", "rsgi", "wsgi"])
def test_the_live_server_answers_a_form_body_on_set_with_a_415_and_writes_nothing(cfg, interface):
    """The same on each server (the loop server's and RSGI's fast paths hand a request with a body to
    ``web.App``), on one keep-alive connection: the body is drained, so the next request is read whole."""
    key = f"contract-form-{interface}-{time.monotonic_ns()}"
    with production.start(cfg, "--interface", interface) as api_server:
        conn = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=10)
        try:
            conn.request(
                "POST",
                f"/set?key={key}&value=b",
                body=b"value=c",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            refused = conn.getresponse()
            error = json.loads(refused.read())["error"]
            assert (refused.status, error["type"], error["message"]) == (
                415,
                "unsupported_media_type",
                web.NO_BODY,
            )
            assert refused.getheader("Connection") is None  # the 7 bytes were read: the connection lives on
            conn.request("GET", f"/get?key={key}")
            got = conn.getresponse()
            assert (got.status, json.loads(got.read())["error"]["type"]) == (404, "not_found")
        finally:
            conn.close()
    assert redis.Redis.from_url(cfg.redis_url).exists(f"api:{key}") == 0


def test_a_body_past_the_drain_bound_is_left_unread_and_the_connection_closed(app):
    huge = str(web.MAX_DRAIN_BYTES + 1)
    status, headers, _, stream = call(app, "GET", "/nope", b"", CONTENT_LENGTH=huge)
    assert (status, headers["Connection"], stream.tell()) == (404, "close", 0)


def test_a_chunked_body_is_bounded_too(app):
    chunked = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}
    status, _, _, stream = call(app, "PUT", "/keys/t", TWO_MB, CONTENT_TYPE="text/plain", **chunked)
    assert status == 413 and stream.tell() == len(TWO_MB)
    # a server that does not end a chunked body for us: it cannot be read safely, so it counts as none
    status, _, _, stream = call(app, "GET", "/hello", b"abc", **{**chunked, "wsgi.input_terminated": False})
    assert (status, stream.tell()) == (200, 0)


def send(url: str, method: str, target: str, body: bytes, chunked: bool) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        if chunked:
            conn.request(
                method,
                target,
                body=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
                encode_chunked=True,
            )
        else:
            conn.request(method, target, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("target", TARGETS)
def test_the_live_server_answers_a_2mb_body_on_every_route(cfg, target, chunked):
    # No BrokenPipeError or ConnectionResetError: the server reads the body it refuses before it answers.
    method = "PUT" if target.startswith("/keys/") else "GET"
    status, body = send(cfg.api_url, method, target, TWO_MB, chunked)
    if target == "/nope":
        expected = (404, "not_found")
    elif method == "PUT":  # the one route that takes a body: this one is over its limit
        expected = (413, "request_entity_too_large")
    else:  # a body on a route that takes none: not too large, not taken
        expected = (415, "unsupported_media_type")
    assert (status, json.loads(body)["error"]["type"]) == expected


SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def fuzzed_api(cfg):
    """A server of its own on Redis database 15: the fuzzer writes and deletes keys nobody else may see."""
    own_db = redisdb.on_database(cfg.redis_url, 15)
    with production.start(cfg, "--redis-url", own_db) as api_server:
        yield api_server
    redis.Redis.from_url(own_db).flushdb()


def test_schemathesis_finds_nothing(fuzzed_api, tmp_path):
    """Every check with schemathesis's own expectations (no config of ours: a request the schemas refuse must
    get a 400 or 422), on every operation, in every phase, the stateful one (the document's links) included.
    A route that answers a method or a status the document does not list fails it (ST204, ST103, ...)."""
    done = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            fuzzed_api.url + "/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "40",
            "--seed",
            "15",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )  # its .schemathesis/
    report = "\n".join(line[:200] for line in done.stdout.splitlines() if line.strip())  # curl lines are long
    assert done.returncode == 0 and re.search(r"(\d+) generated, \1 passed", done.stdout), report
    assert re.search(r"Tested: 19\b", done.stdout), report  # every operation of the document was exercised


def test_a_client_too_slow_to_send_its_request_head_is_disconnected(cfg):
    limit = serve.HEADER_READ_TIMEOUT_MS / 1000
    parts = urlsplit(cfg.api_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=limit * 3) as conn:
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends the head
        start = time.monotonic()
        assert conn.recv(100) == b""  # closed by the server; our own timeout would raise instead
    assert time.monotonic() - start >= limit * 0.5
