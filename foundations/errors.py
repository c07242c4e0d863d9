"""Errors for people: every failure the package expects says what failed, where, and what to do next."""

FIX_DOWN = "start it with `python -m foundations services up`"  # the fix for a tutorial service that is down


class FoundationsError(Exception):
    """Root of the errors this package raises on purpose; ``str(err)`` is a one-line message for a person."""


class ConfigError(FoundationsError):
    """A setting has a value that cannot be used (names the setting and what is expected)."""


class ServiceError(FoundationsError):
    """A service is missing, down, or its port is taken (names host:port and the fix)."""
