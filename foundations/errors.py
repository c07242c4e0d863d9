"""Errors for people: every failure the package expects says what failed, where, and what to do next.

Every error the package raises on purpose derives from ``FoundationsError``. Python's own stay for what
Python means by them: ``ValueError``/``TypeError`` for a caller's wrong argument, and the builtin
``ConnectionError``/``TimeoutError`` of the asyncio-style ``pipelining`` client, which ``registry`` turns
into ``Unavailable``; ``KeyError`` for a participant's home that does not exist (as ``pwd`` says it
of a system user); and ``web.Refused`` never leaves the kernel, which imports nothing of the package.
``tests/test_errors.py`` reads every ``raise`` to hold this."""

FIX_DOWN = "start it with `python -m foundations services up`"  # the fix for a tutorial service that is down


class FoundationsError(Exception):
    """Root of the errors this package raises on purpose; ``str(err)`` is a one-line message for a person."""


class ConfigError(FoundationsError):
    """A setting has a value that cannot be used (names the setting and what is expected)."""


class ServiceError(FoundationsError):
    """A service is missing, down, unhealthy, or its port is taken (names host:port and the fix)."""


class ServerRefused(ServiceError):
    """A service runs and answered with its own error (too many connections, still loading, a wrong
    password): its message names the fix, and starting the service again is not it."""


class CommandError(FoundationsError):
    """A program we ran (pip, npm, apt-get, docker, a child ``python -m foundations``) failed: names the
    command, and ends with the end of what it printed."""
