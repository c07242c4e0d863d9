"""Notebook 10's exercise checks reject plausible wrong answers, each with a message that helps."""

import json
from urllib.parse import quote
from urllib.request import urlopen

import pytest

from foundations.course import exercises
from foundations.ops import probe

RIGHT = {
    "no key parameter": 400,
    "a key nobody set": 404,
    "DELETE on /getAll": 405,
    "a 100 KB value": 413,
    "Redis is down": 503,
}


@pytest.mark.parametrize(
    "answer, message",
    [
        ({situation: 200 for situation in RIGHT}, "not the status"),  # the book's way: 200 with an error body
        ({**RIGHT, "Redis is down": 500}, "Redis is down"),  # a server error, but not the one the API answers
        ({**RIGHT, "a 100 KB value": 400}, "a 100 KB value"),  # 413 is the status for a body over the limit
        ({**RIGHT, "DELETE on /getAll": 404}, "DELETE on /getAll"),  # the route exists: 405, not 404
        ({k: str(v) for k, v in RIGHT.items()}, "not the status"),  # strings, not numbers
        ({k: v for k, v in RIGHT.items() if k != "Redis is down"}, "expected exactly the keys"),
    ],
    ids=["all-200", "503-as-500", "413-as-400", "405-as-404", "strings", "missing-key"],
)
def test_statuses_rejects(answer, message):
    assert message in exercises.verdict("10.statuses", answer)


def _keeps_separators(base_url, key):  # quotes, but leaves '&' and '?' as URL syntax: the key is cut
    status, body = probe.http_get(f"{base_url}/get?key={quote(key, safe='&?')}")
    return json.loads(body) if status == 200 else None


def _raw_body(base_url, key):  # returns the JSON text, quotes and all
    status, body = probe.http_get(f"{base_url}/get?key={quote(key)}")
    return body.decode() if status == 200 else None


def _none_for_any_status(base_url, key):  # right for 404, but a 400 or 503 also becomes "not set"
    status, body = probe.http_get(f"{base_url}/get?key={quote(key)}")
    return json.loads(body) if status == 200 else None


def _none_on_any_error(base_url, key):  # hides a 400 (or a 503) as "not set"
    try:
        status, body = probe.http_get(f"{base_url}/get?key={quote(key)}")
    except Exception:  # noqa: BLE001
        return None
    return json.loads(body) if status == 200 else None


def _urlopen_none_on_error(base_url, key):  # urllib raises on 404; catching everything hides failures
    try:
        with urlopen(f"{base_url}/get?key={quote(key)}", timeout=2) as response:
            return json.loads(response.read())
    except Exception:  # noqa: BLE001
        return None


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda base_url, key: "Tit Petric", "a key nobody set should give None"),  # hard-coded
        (_keeps_separators, "quote the key"),
        (_raw_body, "expected 'Tit Petric', got '\"Tit Petric\"'"),
        (_none_for_any_status, "a 400 (an empty key) must raise"),
        (_none_on_any_error, "must raise"),
        (_urlopen_none_on_error, "must raise"),
    ],
    ids=[
        "hard-coded",
        "keeps-separators",
        "raw-json",
        "none-for-any-status",
        "none-on-any-error",
        "urlopen-swallows",
    ],
)
def test_fetch_rejects(answer, message):
    verdict = exercises.verdict("10.fetch", answer)
    assert verdict is not None and message in verdict, verdict
