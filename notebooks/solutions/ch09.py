"""Solutions to the exercises of notebook 09. The test suite runs each through its check."""

import pytest

from foundations.registry import NotFound, glob_escape


def test_get_all():
    def test_get_all(make_registry):
        tricky = make_registry("t[x]", page_size=10)  # a glob character, and pages of 10 keys
        neighbour = make_registry("tx")  # the registry an unescaped t[x] pattern matches
        mine = {f"key{i}": f"value{i}" for i in range(25)}  # more than one page
        for key, value in mine.items():
            tricky.set(key, value)
        neighbour.set("theirs", "not mine")
        assert tricky.get_all() == mine  # all of its keys, by their names, and nobody else's

    return test_get_all


def count():
    def count(registry):
        # a set: SCAN may return a key twice when the keyspace's table is resized while it walks
        return len(set(registry.client.scan_iter(match=glob_escape(registry.prefix + ":") + "*", count=1000)))

    return count


def test_delete():
    def test_delete(make_registry):
        reg = make_registry("test")
        reg.set("name", "Tit Petric")
        reg.set("city", "Ljubljana")
        assert reg.get("name") == "Tit Petric"  # there before: deleting nothing proves nothing
        reg.delete("name")
        with pytest.raises(NotFound):
            reg.get("name")
        assert reg.get("city") == "Ljubljana"  # only that key went

    return test_delete


SOLUTIONS = {"09.test_get_all": test_get_all, "09.count": count, "09.test_delete": test_delete}
