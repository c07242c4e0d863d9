"""Solutions to the exercises of notebook 09. The test suite runs each through its check."""

from foundations.registry import glob_escape


def pattern():
    def pattern(prefix):
        return glob_escape(prefix + ":") + "*"

    return pattern


def count():
    def count(registry):
        return sum(1 for _ in registry.client.scan_iter(match=glob_escape(registry.prefix + ":") + "*", count=1000))

    return count


SOLUTIONS = {"09.pattern": pattern, "09.count": count}
