"""Chapter 9's exercise checks reject plausible wrong answers, each with a message that helps."""

import re

import pytest

from foundations import config, redisdb
from foundations.course import exercises
from foundations.registry import NotFound, Registry, glob_escape


def plain_key_only(make_registry):  # what the book's TestRegistryGetAll checks
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert reg.get_all()["name"] == "Tit Petric"


def glob_without_a_neighbour(make_registry):  # the book's pattern then misses its own keys: caught
    reg = make_registry("t[x]")
    reg.set("name", "Tit Petric")
    assert reg.get_all() == {"name": "Tit Petric"}


def glob_pages_without_a_neighbour(make_registry):  # glob, pages, names and values: but nobody else's keys
    reg = make_registry("t[x]", page_size=10)  # are there to leak in
    mine = {f"k{i}": f"value{i}" for i in range(25)}
    for key, value in mine.items():
        reg.set(key, value)
    assert reg.get_all() == mine


def glob_and_neighbour(make_registry):  # a few keys fit in one page
    reg, neighbour = make_registry("t[x]"), make_registry("tx")
    reg.set("name", "Tit Petric")
    neighbour.set("theirs", "2")
    assert reg.get_all() == {"name": "Tit Petric"}


def counts_only(make_registry):  # pages and glob, but never looks at the names
    reg, neighbour = make_registry("t[x]", page_size=10), make_registry("tx")
    for i in range(25):
        reg.set(f"key{i}", "v")
    neighbour.set("theirs", "2")
    assert len(reg.get_all()) == 25 and "theirs" not in str(reg.get_all())


def names_only(make_registry):  # pages, glob and the names all right, but never looks at a value
    reg, neighbour = make_registry("t[x]", page_size=10), make_registry("tx")
    for i in range(25):
        reg.set(f"k{i}", f"value{i}")
    neighbour.set("theirs", "2")
    assert set(reg.get_all()) == {f"k{i}" for i in range(25)}


def values_as_a_set(make_registry):  # looks at the values, but not at which name each belongs to
    reg, neighbour = make_registry("t[x]", page_size=10), make_registry("tx")
    mine = {f"k{i}": f"value{i}" for i in range(25)}
    for key, value in mine.items():
        reg.set(key, value)
    neighbour.set("theirs", "2")
    found = reg.get_all()
    assert set(found) == set(mine) and sorted(map(str, found.values())) == sorted(mine.values())


def expects_redis_names(make_registry):  # wrong about what get_all answers
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert reg.get_all() == {reg.key("name"): "Tit Petric"}


def judges_the_methods(make_registry):  # Registry's own methods: every broken registry overrides one
    registry_class = type(make_registry("test"))
    assert all(
        getattr(registry_class, name) is getattr(Registry, name) for name in ("get", "delete", "get_all")
    )


def judges_the_names(make_registry):  # what the methods are called, never what they do
    assert all(
        getattr(Registry, name).__qualname__ == f"Registry.{name}"
        and getattr(Registry, name).__code__.co_name == name
        for name in ("get", "delete", "get_all")
    )


def compares_with_a_fresh_registry(make_registry):  # Registry as its own oracle: can never fail in a project
    reg, neighbour = make_registry("t[x]", page_size=1), make_registry("tx")
    for i in range(5):
        reg.set(f"k{i}", f"value{i}")
    neighbour.set("theirs", "2")
    assert reg.get_all() == Registry(reg.client, prefix=reg.prefix, page_size=1).get_all()


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda make_registry: None, "passes against the book's `get_all`"),
        (compares_with_a_fresh_registry, "passes against the book's `get_all`"),
        (judges_the_names, "passes against the book's `get_all`"),
        (plain_key_only, "passes against the book's `get_all`"),
        (glob_without_a_neighbour, "passes against a `get_all` that answers another registry's keys"),
        (glob_pages_without_a_neighbour, "passes against a `get_all` that answers another registry's keys"),
        (glob_and_neighbour, "passes against a `get_all` that stops after its first page"),
        (counts_only, "passes against a `get_all` that answers Redis' key names"),
        (names_only, "passes against a `get_all` that answers its values as bytes"),
        (values_as_a_set, "passes against a `get_all` that pairs each value with another key's name"),
        (expects_redis_names, "your test fails against the working Registry"),
        (judges_the_methods, "your test fails against the working Registry (AssertionError"),
        ("not a function", "expected a test function"),
    ],
)
def test_test_get_all_rejects(answer, message):
    assert message in exercises.verdict("09.test_get_all", answer)


def scan(registry, pattern):  # distinct names: SCAN may hand one out twice
    return len(set(registry.client.scan_iter(match=pattern, count=1000)))


def scan_count(reg, count):
    return len(set(reg.client.scan_iter(match=glob_escape(reg.prefix + ":") + "*", count=count)))


def escaping_only(chars):  # a half-escape: a backslash before these glob characters, none before the others
    def count(reg):
        return scan(reg, "".join("\\" + c if c in chars else c for c in reg.prefix + ":") + "*")

    return count


def without_the_colon(reg):  # escaped, but a registry whose name starts with this one's is counted too
    return scan(reg, glob_escape(reg.prefix) + "*")


def test_count_without_the_colon_counts_the_look_alike_registry_and_is_not_told_how_to_fix_it():
    message = exercises.verdict("09.count", without_the_colon)
    expected, got = map(int, re.search(r"expected (\d+) keys, got (\d+)", message).groups())
    assert got == expected + 1
    assert "two SCAN pages" not in message  # its extra name is the look-alike registry's, not a repeat
    assert not any(word in message for word in ("escape", "glob", "colon", "[", "*"))  # no answer given


@pytest.mark.parametrize(
    "answer",
    [
        lambda reg: len(reg.client.keys(glob_escape(reg.prefix + ":") + "*")),
        lambda reg: len(reg.get_all()),
        lambda reg: scan_count(reg, 10),
    ],
)
def test_count_messages_do_not_name_the_way(answer):
    message = exercises.verdict("09.count", answer)
    assert not any(word in message.lower() for word in ("scan the", "page through", "count=", "count ="))


def through_another_client(reg):  # the notebook's own client, on the notebook's database: not the registry's
    other = redisdb.client(config.load(argv=[]).redis_url)
    return len(set(other.scan_iter(match=glob_escape(reg.prefix + ":") + "*", count=1000)))


def test_count_through_another_client_is_rejected():
    assert re.search(r"expected \d+ keys, got 0", exercises.verdict("09.count", through_another_client))


def fetches_values(reg):
    names = list(reg.client.scan_iter(match=glob_escape(reg.prefix + ":") + "*", count=1000))
    return len(reg.client.mget(names)) if names else 0


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda reg: len(reg.client.keys(glob_escape(reg.prefix + ":") + "*")), "count sent KEYS"),
        (lambda reg: len(reg.get_all()), "count used the registry's own methods"),
        (fetches_values, r"count fetched values \(MGET\)"),
        (lambda reg: scan(reg, reg.prefix + ":*"), r"expected \d+ keys, got \d+: compare the names"),
        # half-escapes: right while the name holds no other glob character, wrong once it does
        (
            lambda reg: scan(reg, reg.prefix.replace("[", r"\[") + ":*"),
            r"expected \d+ keys, got \d+: compare",
        ),
        (escaping_only("[]"), r"expected \d+ keys, got \d+: compare the names"),
        (escaping_only("[]*"), r"expected \d+ keys, got \d+: compare the names"),
        (escaping_only("[]?"), r"expected \d+ keys, got \d+: compare the names"),
        # every glob character escaped but the escape character itself
        (escaping_only("[]*?"), r"expected \d+ keys, got \d+: compare the names"),
        # the escape character escaped, but one other glob character not: each has a look-alike neighbour
        (escaping_only("[]*\\"), r"expected \d+ keys, got \d+: compare the names"),
        (escaping_only("[]?\\"), r"expected \d+ keys, got \d+: compare the names"),
        (escaping_only("*?\\"), r"expected \d+ keys, got \d+: compare the names"),
        # escaped, but without the colon: a registry whose name starts with this one's counts too
        (without_the_colon, r"expected \d+ keys, got \d+: compare the names"),
        (lambda reg: reg.client.dbsize(), "an empty registry holds 0 keys|expected .* keys, got"),
        (lambda reg: 2345, "an empty registry holds 0 keys"),
        # redis-py's default COUNT of 10: right, but a hundred times the round trips
        (
            lambda reg: len(set(reg.client.scan_iter(match=glob_escape(reg.prefix + ":") + "*"))),
            r"sent \d+ SCANs",
        ),
        (lambda reg: scan_count(reg, 100), r"sent \d+ SCANs for a database of \d+ keys"),
        # every name SCAN handed out, counted: one that came back in two pages counts twice
        (
            lambda reg: sum(
                1 for _ in reg.client.scan_iter(match=glob_escape(reg.prefix + ":") + "*", count=1000)
            ),
            r"expected \d+ keys, got \d+: .*came back in two SCAN pages",
        ),
        # no KEYS on the wire, but a script that runs it: the server serves nobody else until it ends
        (
            lambda reg: reg.client.eval(
                "return #redis.call('KEYS', ARGV[1])", 0, glob_escape(reg.prefix + ":") + "*"
            ),
            "count sent EVAL: only commands that walk the keyspace a few keys at a time",
        ),
        # one SCAN that walks the whole keyspace: no KEYS on the wire, but it blocks the server as long
        (lambda reg: scan_count(reg, 10_000_000), r"may walk 10000000 keys, a quarter or more of the 10,000"),
        # just over a quarter of the check's fixed 10,000 keys: refused in every run, not by chance
        (lambda reg: scan_count(reg, 2_600), r"may walk 2600 keys, a quarter or more"),
        # one SCAN nearly as wide as the database: few round trips, but it blocks almost as long as KEYS
        (
            lambda reg: scan_count(reg, max(10, int(0.9 * reg.client.dbsize()))),
            r"may walk \d+ keys, a quarter or more",
        ),
    ],
)
def test_count_rejects(answer, message):
    assert re.search(message, exercises.verdict("09.count", answer))


def filters_on_the_client(
    reg,
):  # no MATCH: every name of the database, the registry's kept, none made distinct
    head = reg.key("").encode()
    return sum(1 for name in reg.client.scan_iter(count=1000) if name.startswith(head))


def test_count_that_filters_on_the_client_and_counts_a_repeat_twice_is_rejected_every_run():
    for _ in range(5):  # the name handed out twice must be the registry's, whatever SCAN's first page holds
        message = exercises.verdict("09.count", filters_on_the_client)
        assert re.search(r"expected \d+ keys, got \d+: .*came back in two SCAN pages", message or ""), message


def test_count_with_a_page_under_a_quarter_of_the_database_passes_every_run():
    for _ in range(3):  # the registry's share is random; the database's size, and so the limit, are not
        assert exercises.verdict("09.count", lambda reg: scan_count(reg, 2_000)) is None


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


def only_deletes_a_missing_key(make_registry):  # never deletes a key that is there
    reg = make_registry("test")
    assert reg.delete("never-set") is False


def judges_only_the_return_values(make_registry):  # DEL's counts: a `delete` that empties the registry
    reg = make_registry("test")  # answers them as honestly as the working one
    reg.set("name", "Tit Petric")
    assert reg.delete("name")
    assert not reg.delete("name")


def fails_always(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    reg.delete("name")
    assert reg.get("name") is None  # the book's nil; ours raises NotFound


def deletes_as_a_fresh_registry_does(make_registry):  # Registry as its own oracle, for delete
    reg, twin = make_registry("test"), make_registry("twin")
    for each in (reg, twin):
        each.set("name", "Tit Petric")
        each.set("city", "Ljubljana")
    reg.delete("name")
    Registry(twin.client, prefix=twin.prefix).delete("name")
    assert reg.get_all() == Registry(twin.client, prefix=twin.prefix).get_all()


def judges_the_class(make_registry):
    assert type(make_registry("test")) is Registry  # passes on the working class, fails on every broken one


@pytest.mark.parametrize(
    "answer, message",
    [
        (judges_the_class, "your test fails against the working Registry (AssertionError"),
        (judges_the_methods, "your test fails against the working Registry (AssertionError"),
        (passes_always, "a `delete` that does nothing"),
        (deletes_as_a_fresh_registry_does, "a `delete` that does nothing"),
        (judges_the_names, "a `delete` that does nothing"),
        (trusts_the_return_value, "a `delete` that does nothing"),
        (only_deletes_a_missing_key, "a `delete` that does nothing"),
        (judges_only_the_return_values, "a `delete` that empties the whole registry"),
        (only_checks_it_is_gone, "a `delete` that empties the whole registry"),
        (never_checks_the_neighbour, "a `delete` that empties the whole registry"),
        (fails_always, "your test fails against the working Registry (NotFound"),
    ],
)
def test_test_delete_rejects(answer, message):
    assert message in exercises.verdict("09.test_delete", answer)


def test_a_test_that_looks_at_the_neighbour_without_get_passes():
    def neighbour_without_get(make_registry):  # correct: both keys stored by `set`, so the neighbour vouches
        reg = make_registry("test")
        reg.set("name", "Tit Petric")
        reg.set("city", "Ljubljana")
        reg.delete("name")
        with pytest.raises(NotFound):
            reg.get("name")
        assert reg.client.exists(reg.key("city"))  # the neighbour, without `get`

    assert exercises.verdict("09.test_delete", neighbour_without_get) is None


def never_sees_the_key_before_deleting(make_registry):  # the neighbour written past `set`: nothing says
    reg = make_registry("test")  # the deleted key was ever there
    reg.set("name", "Tit Petric")
    reg.client.set(reg.key("city"), "Ljubljana")
    reg.delete("name")
    with pytest.raises(NotFound):
        reg.get("name")
    assert reg.get("city") == "Ljubljana"


def test_a_test_that_never_sees_the_key_before_deleting_it_is_rejected():
    message = exercises.verdict("09.test_delete", never_sees_the_key_before_deleting)
    assert "your test passes against a `set` that stores nothing" in message


def writes_past_set(make_registry):  # correct: every key written straight to Redis, read back before
    reg = make_registry("test")
    reg.client.set(reg.key("name"), "Tit Petric")
    reg.client.set(reg.key("city"), "Ljubljana")
    assert reg.get("name") == "Tit Petric"
    reg.delete("name")
    assert reg.get_all() == {"city": "Ljubljana"}


def test_a_test_that_never_calls_set_is_not_judged_by_a_broken_set():
    assert exercises.verdict("09.test_delete", writes_past_set) is None


def compares_the_listing_before_and_after(make_registry):  # correct: never calls `get`
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    reg.set("city", "Ljubljana")
    assert reg.get_all() == {"name": "Tit Petric", "city": "Ljubljana"}
    reg.delete("name")
    assert reg.get_all() == {"city": "Ljubljana"}


def test_a_correct_test_that_reads_only_through_get_all_passes():
    assert exercises.verdict("09.test_delete", compares_the_listing_before_and_after) is None
