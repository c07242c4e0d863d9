"""Solutions to the exercises of notebook 09. The test suite runs each through its check."""

import pytest

from foundations.registry import NotFound, glob_escape


def pattern():
    def pattern(prefix):
        return glob_escape(prefix + ":") + "*"

    return pattern


def count():
    def count(registry):
        return sum(
            1 for _ in registry.client.scan_iter(match=glob_escape(registry.prefix + ":") + "*", count=1000)
        )

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


SOLUTIONS = {"09.pattern": pattern, "09.count": count, "09.test_delete": test_delete}
