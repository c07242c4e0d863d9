"""Stored notebook outputs show no secret: a learner's outputs are shared (committed, screenshared, pasted)."""

import re

import nbformat
import pytest

from foundations.config import REPO_ROOT

# a URL carrying a password (mysql://api:secret@host) or a non-empty token/password field in a repr
SECRET = re.compile(
    r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?!\*+@)[^@\s'\"]+@|\w*(?:password|token)\w*\s*[=:]\s*'[^']+'", re.I
)
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _texts(output):
    if "text" in output:
        yield output["text"]
    for value in output.get("data", {}).values():
        if isinstance(value, str):
            yield value


@pytest.mark.parametrize(
    "text",
    [
        "Config(mysql_dsn='mysql://api:api@127.0.0.1:3390/api', debug_token='')",
        "redis://default:s3cret@127.0.0.1:6390/0",
        "Config(debug_token='abc123')",
    ],
)
def test_the_pattern_finds_a_secret(text):
    assert SECRET.search(text)


def test_the_pattern_leaves_plain_and_redacted_addresses_alone():
    plain = "redis://127.0.0.1:6390/0 http://127.0.0.1:8080/get?name=x debug_token=''"
    assert not SECRET.search(plain + " mysql://api:***@127.0.0.1:3390/api")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_no_stored_output_shows_a_secret(path):
    found = [
        (index, match.group(0))
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        for output in cell.get("outputs", [])
        for text in _texts(output)
        for match in SECRET.finditer(text)
    ]
    assert not found, f"cells (index, secret) {found}: print what the learner needs, not a config's repr"
