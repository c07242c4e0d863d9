"""web.Request.arg: its split for plain query strings answers what parse_qs answers, for any query; the
API's error types; and web.read_body's answers to a body: 415 on a route that takes none, 413 over a limit."""

import io
import json
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundations.web import MAX_DRAIN_BYTES, NO_BODY, Refused, Request, error_response, read_body

QUERY = st.text(alphabet="ab=&%+20é;", max_size=24)


def by_parse_qs(query: str, name: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get(name)
    return values[0] if values else None


@given(QUERY, st.sampled_from(["a", "b", "ab", "a b", "é"]))
def test_arg_answers_what_parse_qs_answers(query, name):
    assert Request({"QUERY_STRING": query}).arg(name) == by_parse_qs(query, name)


def test_arg_examples():
    request = Request({"QUERY_STRING": "key=name&value=Tit%20Petric&blank=&bare"})
    assert [request.arg(n) for n in ("key", "value", "blank", "bare")] == ["name", "Tit Petric", "", ""]
    assert request.arg("missing", "default") == "default"
    assert Request({"QUERY_STRING": "key=a&key=b"}).arg("key") == "a"


def test_error_types_do_not_change_with_the_interpreter():
    """Python 3.13 renamed 413's phrase; the API's published error types stay as they are."""
    types = {
        code: json.loads(error_response(code, "x").body)["error"]["type"]
        for code in (400, 404, 413, 415, 503)
    }
    assert types == {
        400: "bad_request",
        404: "not_found",
        413: "request_entity_too_large",
        415: "unsupported_media_type",
        503: "service_unavailable",
    }


def test_json_response_refuses_nan_and_the_app_answers_500_in_json():
    from foundations import web

    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError):  # json.dumps would write NaN, Infinity: not JSON
            web.json_response({"value": value})
    app = web.App({"/nan": lambda request: web.json_response({"value": float("nan")})})
    web.log.disabled = True
    try:
        answer = app.respond(Request({"PATH_INFO": "/nan"}))
    finally:
        web.log.disabled = False
    assert answer.status == 500
    assert json.loads(answer.body)["error"]["type"] == "internal_server_error"


def body_environ(body: bytes, **extra: object) -> dict:
    return {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), **extra}


@pytest.mark.parametrize(
    "body, extra",
    [
        (b"value=c", {}),  # a small form body: not too large, not taken
        (b"x" * 100_000, {}),
        (
            b"value=c",
            {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
        ),
    ],
)
def test_a_body_on_a_route_that_takes_none_is_a_drained_415(body, extra):
    environ = body_environ(body, **extra)
    with pytest.raises(Refused) as refused:
        read_body(environ, 0)
    response = refused.value.response
    assert (response.status, json.loads(response.body)) == (
        415,
        {"error": {"type": "unsupported_media_type", "message": NO_BODY}},
    )
    assert (
        environ["wsgi.input"].tell() == len(body) and response.headers == []
    )  # drained: the connection lives


def test_a_body_past_the_drain_bound_on_a_route_that_takes_none_is_a_415_that_closes():
    environ = body_environ(b"", CONTENT_LENGTH=str(MAX_DRAIN_BYTES + 1))
    with pytest.raises(Refused) as refused:
        read_body(environ, 0)
    assert refused.value.response.status == 415
    assert refused.value.response.headers == [("Connection", "close")]


def test_a_body_over_a_body_taking_routes_limit_is_a_413_and_none_is_no_refusal():
    environ = body_environ(b"x" * 11)
    with pytest.raises(Refused) as refused:
        read_body(environ, 10)
    error = json.loads(refused.value.response.body)["error"]
    assert (refused.value.response.status, error["type"]) == (413, "request_entity_too_large")
    assert environ["wsgi.input"].tell() == 11
    assert read_body(body_environ(b"x" * 10), 10) == b"x" * 10
    assert read_body(body_environ(b""), 0) == b""  # no body on a route that takes none: nothing to refuse
