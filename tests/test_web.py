"""web.Request.arg: its split for plain query strings answers what parse_qs answers, for any query."""

from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from foundations.web import Request

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
