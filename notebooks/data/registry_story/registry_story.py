"""The book's registry tests (chapter 9), in pytest. Not collected by the project's test run: notebook 09
runs this file explicitly, against each stage of the story (see story_plugin.py)."""

from foundations.registry import NotFound


def read(reg, key):
    """The value, or None when missing. For a missing key the book's Go ``Get`` answers "" with
    ``redis.ErrNil``, the story's Python stages answer redis-py's None, and the project's Registry raises
    NotFound, its counterpart of ErrNil."""
    try:
        value = reg.get(key)
    except NotFound:
        return None
    return value.decode() if isinstance(value, bytes) else value


def test_registry_get(make_registry):
    reg = make_registry("test")
    reg.delete("name")
    assert read(reg, "name") is None


def test_registry_set(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert read(reg, "name") == "Tit Petric", "SET then GET did not read the value back"


def test_registry_get_all(make_registry):
    reg = make_registry("test")
    reg.set("name", "Tit Petric")
    assert reg.get_all() == {"name": "Tit Petric"}


def test_registry_get_all_err(make_registry):
    # The book's second way to reach the "no keys" line: real data (a registry nobody wrote to), no mocks.
    assert make_registry("testerr").get_all() == {}


def test_registry_get_all_skips_keys_deleted_meanwhile(make_registry):
    reg = make_registry("test")
    reg.set("a", "1")
    reg.set("b", "2")
    # One SCAN page for the whole keyspace, so that "b" is listed before it is deleted. A SCAN this wide holds
    # the server as long as KEYS does; on a test server, whose database holds a few keys, that is no time.
    reg.page_size = 10_000_000

    def delete_b(name):  # the registry calls this between listing a page of names and fetching their values
        if name == "registry.getAll.get":
            reg.client.delete(reg.key("b"))

    reg.on_call = delete_b
    assert reg.get_all() == {"a": "1"}
