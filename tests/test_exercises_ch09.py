"""Chapter 9's exercise checks reject plausible wrong answers, each with a message that helps."""

import re

import pytest

from foundations.course import exercises
from foundations.registry import NotFound, glob_escape


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda prefix: prefix + ":*", "escape the glob characters"),
        (lambda prefix: glob_escape(prefix) + "*", "other keys"),
        (lambda prefix: prefix.replace("*", "\\*").replace("?", "\\?") + ":*", "escape the glob characters"),
        (lambda prefix: "plain-*:*", "and 1 other keys"),
        (lambda prefix: [prefix + ":*"], "should return a str"),
    ],
)
def test_pattern_rejects(answer, message):
    assert message in exercises.verdict("09.pattern", answer)


def scan(registry, pattern):
    return sum(1 for _ in registry.client.scan_iter(match=pattern, count=1000))


def fetches_values(reg):
    names = list(reg.client.scan_iter(match=glob_escape(reg.prefix + ":") + "*", count=1000))
    return len(reg.client.mget(names)) if names else 0


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda reg: len(reg.client.keys(glob_escape(reg.prefix + ":") + "*")), "count sent KEYS"),
        (lambda reg: len(reg.get_all()), "count used the registry's own methods"),
        (fetches_values, r"count fetched values \(MGET\)"),
        (lambda reg: scan(reg, reg.prefix + ":*"), r"is the prefix escaped\?"),
        (lambda reg: reg.client.dbsize(), "an empty registry holds 0 keys|expected .* keys, got"),
        (lambda reg: 2345, "an empty registry holds 0 keys"),
    ],
)
def test_count_rejects(answer, message):
    assert re.search(message, exercises.verdict("09.count", answer))


def passes_always(make_registry):
    pass


def only_checks_it_is_gone(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    reg.delete("name")
    with pytest.raises(NotFound):
        reg.get("name")


def never_checks_the_neighbour(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert reg.get("name") == "Tit Petric"
    reg.delete("name")
    with pytest.raises(NotFound):
        reg.get("name")


def trusts_the_return_value(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert reg.delete("name")


def fails_always(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    reg.delete("name")
    assert reg.get("name") is None  # the book's nil; ours raises NotFound


@pytest.mark.parametrize(
    "answer, message",
    [
        (passes_always, "a `delete` that does nothing"),
        (trusts_the_return_value, "a `delete` that does nothing"),
        (only_checks_it_is_gone, "a `delete` that empties the whole registry"),
        (never_checks_the_neighbour, "a `delete` that empties the whole registry"),
        (fails_always, "your test fails against the working Registry (NotFound"),
    ],
)
def test_test_delete_rejects(answer, message):
    assert message in exercises.verdict("09.test_delete", answer)


def test_a_test_that_only_misses_the_get_check_is_rejected():
    def misses_get(make_registry):
        reg = make_registry("test")
        reg.set("name", "Tit Petric")
        reg.set("city", "Ljubljana")
        reg.delete("name")
        with pytest.raises(NotFound):
            reg.get("name")
        assert reg.client.exists(reg.key("city"))  # the neighbour, without `get`

    assert "a `get` that never finds anything" in exercises.verdict("09.test_delete", misses_get)
