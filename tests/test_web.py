"""web.Request.arg: its split for plain query strings answers what parse_qs answers, for any query; and the
API's error types."""

import json
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundations.web import Request, error_response

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
        code: json.loads(error_response(code, "x").body)["error"]["type"] for code in (400, 404, 413, 503)
    }
    assert types == {
        400: "bad_request",
        404: "not_found",
        413: "request_entity_too_large",
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
