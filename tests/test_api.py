"""The registry API: every route and status code in-process, the OpenAPI document, no 5xx from bad input,
and the running server sharing the Go reference's key layout (``api:<key>``)."""

import json
import urllib.request
import uuid
from urllib.parse import quote

import pytest
from openapi_spec_validator import validate
from werkzeug.test import Client

from foundations import api, net, redisdb, web
from foundations.registry import NotFound, Registry


@pytest.fixture
def app(reg):
    return web.App(api.routes(reg), api.prefixes(reg))


def call(app, method, target, body=b"", content_type=None):
    response = Client(app).open(target, method=method, data=body, content_type=content_type)
    return response.status_code, response.headers, response.data


def answer(app, method, target, body=b"", content_type=None):
    status, headers, payload = call(app, method, target, body, content_type)
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(payload) if payload else None


def test_set_get_getall_del_as_in_the_book(app):
    assert answer(app, "GET", "/set?key=foo&value=bar") == (200, "OK")
    assert answer(app, "GET", "/set?key=name&value=Tit%20Petric") == (200, "OK")
    assert answer(app, "GET", "/get?key=name") == (200, "Tit Petric")
    assert answer(app, "GET", "/getAll") == (200, {"foo": "bar", "name": "Tit Petric"})
    assert answer(app, "GET", "/del?key=foo") == (200, "OK")
    assert answer(app, "GET", "/keys") == (200, {"name": "Tit Petric"})


def test_rest_resource_shares_the_data(app):
    assert answer(app, "PUT", "/keys/city", b"Ljubljana", "text/plain") == (201, "OK")
    assert answer(app, "GET", "/get?key=city") == (200, "Ljubljana")
    assert answer(app, "PUT", "/keys/city", b'"Maribor"', "application/json") == (200, "OK")
    assert answer(app, "GET", "/keys/city") == (200, "Maribor")
    assert answer(app, "GET", "/keys/" + quote("čćž/x y"))[0] == 404
    assert answer(app, "PUT", "/keys/" + quote("čćž/x y"), "é".encode()) == (201, "OK")
    assert answer(app, "GET", "/get?key=" + quote("čćž/x y")) == (200, "é")
    assert answer(app, "DELETE", "/keys/city") == (200, "OK")
    assert answer(app, "DELETE", "/keys/city")[0] == 404


def test_put_answers_201_when_it_creates_the_key_and_200_when_it_replaces_its_value(app, reg):
    """RFC 9110, 9.3.4: a PUT that creates the resource MUST answer 201 (Created); one that replaces its value
    answers 200. Both store the value and answer the API's ``"OK"``; no Location: the target is the resource."""
    for value, status in [("first", 201), ("second", 200)]:
        got, headers, payload = call(app, "PUT", "/keys/created", value.encode(), "text/plain")
        assert (got, headers["Content-Type"], payload) == (status, "application/json", b'"OK"')
        assert "Location" not in headers
        assert reg.get("created") == value
    assert answer(app, "DELETE", "/keys/created") == (200, "OK")
    assert answer(app, "PUT", "/keys/created", b"again", "text/plain") == (201, "OK")  # new again


@pytest.mark.parametrize(
    "method,target,status,kind",
    [
        ("GET", "/get", 400, "bad_request"),
        ("GET", "/get?key=", 400, "bad_request"),
        ("GET", "/get?key=" + "k" * 513, 400, "bad_request"),
        ("GET", "/get?key=missing", 404, "not_found"),
        ("GET", "/set?key=a", 400, "bad_request"),
        ("GET", "/set?value=a", 400, "bad_request"),
        ("GET", "/set?key=a&value=" + "x" * (api.MAX_QUERY_VALUE_CHARS + 1), 400, "bad_request"),
        ("GET", "/set?key=a&value=" + quote("é") * (api.MAX_QUERY_VALUE_CHARS + 1), 400, "bad_request"),
        ("GET", "/del", 400, "bad_request"),
        ("GET", "/del?key=missing", 404, "not_found"),
        ("POST", "/get?key=a", 405, "method_not_allowed"),
        ("DELETE", "/getAll", 405, "method_not_allowed"),
        ("POST", "/keys/a", 405, "method_not_allowed"),
        ("GET", "/keys/", 400, "bad_request"),
        ("GET", "/nope", 404, "not_found"),
    ],
)
def test_status_codes(app, method, target, status, kind):
    got, body = answer(app, method, target)
    assert (got, body["error"]["type"]) == (status, kind) and body["error"]["message"]


def test_a_form_body_on_set_is_a_415_and_writes_nothing(app, reg):
    """``POST /set`` with ``value=c`` as a form body (7 bytes): the route takes no body. 415, saying to send the
    parameters in the query string; neither value is stored."""
    response = Client(app).post("/set?key=formed&value=b", data={"value": "c"})
    assert response.request.content_type == "application/x-www-form-urlencoded"  # werkzeug's, for a dict
    assert (response.status_code, response.headers["Content-Type"]) == (415, "application/json")
    assert response.json == {"error": {"type": "unsupported_media_type", "message": web.NO_BODY}}
    with pytest.raises(NotFound):
        reg.get("formed")
    assert answer(app, "POST", "/set?key=formed&value=b") == (200, "OK")  # the same, in the query string


def test_405_names_the_allowed_methods(app):
    status, headers, _ = call(app, "PATCH", "/keys/a")
    assert status == 405 and headers["Allow"] == "GET, PUT, DELETE, HEAD"


def test_head_on_the_deprecated_gets_is_a_405_and_changes_nothing(app, reg):
    """``GET /set`` and ``GET /del`` change data, so a HEAD there would too (a link checker or ``curl -I`` sends
    one because HEAD is safe): 405 with ``Allow: GET, POST``, the GET's error headers and no body, nothing
    deleted or stored. A safe route still answers HEAD."""
    reg.set("kept", "v")
    for target in ("/del?key=kept", "/set?key=kept&value=changed", "/set?key=made&value=x"):
        status, headers, payload = call(app, "HEAD", target)
        assert (status, headers["Allow"], payload) == (405, "GET, POST", b""), target
        assert headers["Content-Length"] != "0", target  # the error's length, as a GET would have it
    assert reg.get("kept") == "v"
    with pytest.raises(NotFound):
        reg.get("made")
    assert call(app, "HEAD", "/get?key=kept")[:1] == (200,) and reg.get("kept") == "v"


def test_a_route_can_opt_out_of_the_automatic_head():
    """``Route`` adds HEAD wherever GET is, unless ``head=False``: then a HEAD is a 405 like any other method
    the route does not answer, and the handler never runs."""
    ran = []

    def handler(request):
        ran.append(request.method)
        return web.json_response("done")

    assert web.Route(handler, ("GET", "POST")).methods == ("GET", "POST", "HEAD")
    unsafe = web.Route(handler, ("GET", "POST"), head=False)
    assert web.methods_of(unsafe) == ("GET", "POST")
    status, headers, payload = call(web.App({"/x": unsafe}), "HEAD", "/x")
    assert (status, headers["Allow"], payload, ran) == (405, "GET, POST", b"", [])


CHUNKED = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}


@pytest.mark.parametrize(
    "body,content_type,headers,status",
    [
        (b"x" * (api.MAX_VALUE_CHARS + 1), "text/plain", {}, 400),  # over the schema's maxLength
        ("é".encode() * api.MAX_VALUE_CHARS, "text/plain", {}, 201),  # the limit counts characters
        (
            json.dumps("😀" * api.MAX_VALUE_CHARS).encode(),
            "application/json",
            {},
            201,
        ),  # 12 bytes a character
        (json.dumps("😀" * (api.MAX_VALUE_CHARS + 1)).encode(), "application/json", {}, 400),  # not 413
        (b'"\\ud800"', "application/json", {}, 400),  # a lone surrogate: it has no UTF-8 encoding
        (b"\xff\xfe", "text/plain", {}, 400),
        (b"{not json", "application/json", {}, 400),
        (b'{"a": 1}', "application/json", {}, 400),
        (b"v", "text/plain", {"CONTENT_LENGTH": "abc"}, 400),
        (b"v", "text/plain", {"CONTENT_LENGTH": str(api.MAX_BODY_BYTES + 1)}, 413),
        (b"x" * (api.MAX_BODY_BYTES + 1), "text/plain", CHUNKED, 413),
        (b"chunked", "text/plain", CHUNKED, 201),
        (b"v", "application/x-www-form-urlencoded", {}, 415),
        (b"x" * (api.MAX_VALUE_CHARS + 1), "application/x-www-form-urlencoded", {}, 415),  # urllib's default
        (b"", "text/plain", {}, 400),
    ],
)
def test_put_bodies(app, reg, body, content_type, headers, status):
    import io

    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/keys/b",
        "QUERY_STRING": "",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        **headers,
    }
    seen = {}
    payload = b"".join(app(environ, lambda s, h: seen.update(status=int(s.split()[0]))))
    assert seen["status"] == status, payload
    if status == 201:  # created: the key "b" is new under this test's own prefix
        assert reg.get("b") == (json.loads(body) if content_type == "application/json" else body.decode())


def test_redis_down_is_a_503(cfg):
    down = Registry(redisdb.client("redis://127.0.0.1:1/0", timeout=0.2), prefix="api")
    app = web.App(api.routes(down), api.prefixes(down))
    for method, target in [
        ("GET", "/get?key=a"),
        ("GET", "/set?key=a&value=b"),
        ("GET", "/getAll"),
        ("DELETE", "/keys/a"),
    ]:
        status, body = answer(app, method, target)
        assert status == 503 and "127.0.0.1:1" in body["error"]["message"]


def test_openapi_document_is_valid_and_lists_every_route(app):
    status, spec = answer(app, "GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    validate(spec)
    assert {"/get", "/set", "/del", "/getAll", "/keys", "/keys/{key}"} <= set(spec["paths"])  # and the rest
    assert json.dumps(spec).count(str(api.MAX_VALUE_CHARS)) >= 1
    # a GET that changes data is not safe (RFC 9110): kept for the book's clients, deprecated; POST is not
    operations = [
        (path, m, op) for path, ops in spec["paths"].items() for m, op in ops.items() if m != "parameters"
    ]
    unsafe = [(path, m) for path, m, op in operations if op.get("deprecated")]
    assert unsafe == [("/set", "get"), ("/del", "get")], unsafe


def test_book_routes_answer_200_even_on_errors(reg):
    book = web.App(api.book_routes(reg))
    assert call(book, "GET", "/set?key=name&value=Tit")[2] == b'"OK"'
    assert call(book, "GET", "/get?key=name")[:3:2] == (200, b'"Tit"')
    status, _, body = call(book, "GET", "/get?key=missing")
    assert status == 200 and "error" in json.loads(body)
    assert json.loads(call(book, "GET", "/getAll")[2]) == {"name": "Tit"}


BAD_INPUTS = [
    "/get?key=%ff",
    "/get?key=%00",
    "/get?key=*",
    "/get?key=a&key=b",
    "/get?%zz",
    "/set?key=[&value=%ff",
    "/set?key=a&value=",
    "/del?key=%",
    "/keys/%ff%fe",
    "/keys/*",
    "/keys/a/../../b",
    "/getAll?x=1",
    "/get?key=" + "%F0%9F%98%80" * 600,
    "/" + "x" * 5000,
    "/keys/" + "y" * 600,
]


@pytest.mark.parametrize("target", BAD_INPUTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST", "HEAD", "OPTIONS", "BREW"])
def test_no_bad_input_makes_a_5xx(app, method, target):
    status, _, _ = call(app, method, target, b"\xff" if method == "PUT" else b"")
    assert status < 500


def test_the_running_server_uses_the_go_key_layout(cfg, client):
    key = f"test_api_{uuid.uuid4().hex}"
    try:
        assert net.http_get(f"{cfg.api_url}/set?key={key}&value=Tit%20Petric") == (200, b'"OK"')
        assert (
            client.get(f"api:{key}") == b"Tit Petric"
        )  # what the Go reference's Registry{Name: "api"} reads
        client.set(f"api:{key}", "written by Go")
        assert net.http_get(f"{cfg.api_url}/get?key={key}") == (200, b'"written by Go"')
        assert json.loads(net.http_get(f"{cfg.api_url}/getAll")[1])[key] == "written by Go"
        request = urllib.request.Request(
            f"{cfg.api_url}/keys/{quote(key + 'ž')}",
            data=b"put",
            method="PUT",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=2) as response:
            assert response.status == 201 and response.headers["Content-Type"] == "application/json"
        assert client.get(f"api:{key}ž") == b"put"  # the server hands the path over as WSGI latin-1
    finally:
        client.delete(f"api:{key}", f"api:{key}ž")


def test_the_running_server_reports_errors_with_statuses(cfg):
    assert net.http_get(f"{cfg.api_url}/get")[0] == 400
    assert net.http_get(f"{cfg.api_url}/get?key=never-set-{uuid.uuid4().hex}")[0] == 404
    assert net.http_get(f"{cfg.api_url}/keys/" + quote("ž") + "?x")[0] == 404


def test_a_server_that_hands_over_unicode_paths_works_too(app, reg):
    reg.set("ž", "v")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/keys/ž", "QUERY_STRING": ""}  # not WSGI's latin-1
    seen = {}
    assert b"".join(app(environ, lambda s, h: seen.update(status=s))) == b'"v"' and seen["status"].startswith(
        "200"
    )
