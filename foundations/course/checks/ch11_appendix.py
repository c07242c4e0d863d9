"""Checks for the exercise of notebook 11's appendix (operating the server): who may read the debug routes.
``ch11`` imports this module, so its exercise is chapter 11's last."""

import contextlib
import hmac
import secrets
from collections.abc import Iterator

from foundations import metrics
from foundations.course.checks import swap
from foundations.course.exercises import Wrong, exercise, expect

# 127.0.0.6: Istio's sidecar; 127.0.1.1: Debian's hostname in /etc/hosts; all of 127.0.0.0/8 is loopback
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.6", "127.0.1.1", "127.255.255.254")
OUTSIDE = ("203.0.113.5", "2001:db8::5", "::ffff:203.0.113.5", None)  # None: no REMOTE_ADDR at all
PROXIED = (("X-Forwarded-For", "203.0.113.5"), ("Forwarded", "for=203.0.113.5"), ("X-Real-IP", "203.0.113.5"))
# a forwarding header names whatever the client wrote in it: nginx appends to a client's own X-Forwarded-For
SPOOFED = (
    ("X-Forwarded-For", "127.0.0.1"),
    ("Forwarded", "for=127.0.0.1"),
    ("X-Real-IP", "127.0.0.1"),
    ("X-Forwarded-For", "127.0.0.1, 203.0.113.5"),
)


def _environ(address: str | None, headers: dict[str, str]) -> dict[str, str]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/debug/vars", "QUERY_STRING": ""}
    if address is not None:
        environ["REMOTE_ADDR"] = address
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def _cases(new: str, old: str) -> Iterator[tuple[str, dict, bool, tuple[str, ...], bool]]:
    """(situation, environ, enabled, tokens, the answer's verdict), in the order a learner meets them."""
    both = (new, old)
    for address in LOOPBACK:
        yield (
            f"a client at {address}, no forwarding header, no token sent",
            _environ(address, {}),
            False,
            both,
            True,
        )
    for outside in OUTSIDE:
        where = f"a client at {outside}" if outside else "a request without REMOTE_ADDR"
        yield f"{where}, no token sent", _environ(outside, {}), False, both, False
    for name, value in PROXIED + SPOOFED:
        situation = f"a client at 127.0.0.1 whose request has {name}: {value}, no token sent"
        yield situation, _environ("127.0.0.1", {name: value}), False, both, False
    for address in ("203.0.113.5", "127.0.0.1"):
        yield (
            f"debug_endpoints on, a client at {address} with X-Forwarded-For",
            _environ(address, dict(PROXIED[:1])),
            True,
            both,
            True,
        )
    proxied = dict(PROXIED[:1])  # sent(): a client through the proxy, with an Authorization header

    def sent(authorization: str) -> dict:
        return _environ("127.0.0.1", {**proxied, "Authorization": authorization})

    rotation = "(tokens holds two while the scraper's token is rotated)"
    yield "a client through the proxy with a right token", sent(f"Bearer {new}"), False, both, True
    yield (
        f"a client through the proxy with the other token {rotation}",
        sent(f"Bearer {old}"),
        False,
        both,
        True,
    )
    # a scraper on another host, at the pod's own address: its token lets it in without a proxy
    direct = "a client at 203.0.113.5, no forwarding header,"
    yield (
        f"{direct} with a right token",
        _environ("203.0.113.5", {"Authorization": f"Bearer {new}"}),
        False,
        both,
        True,
    )
    yield (
        f"{direct} with the other token {rotation}",
        _environ("203.0.113.5", {"Authorization": f"Bearer {old}"}),
        False,
        both,
        True,
    )
    yield (
        "a client at 127.0.0.1, no forwarding header, with a wrong token",
        _environ("127.0.0.1", {"Authorization": "Bearer guess"}),
        False,
        both,
        True,
    )
    yield "a client through the proxy with a wrong token", sent("Bearer guess"), False, both, False
    yield (
        "a client through the proxy with a right token under another scheme (Authorization: Basic <token>)",
        sent(f"Basic {new}"),
        False,
        both,
        False,
    )
    yield (
        "a client through the proxy with a right token with no scheme (Authorization: <token>)",
        sent(new),
        False,
        both,
        False,
    )
    yield (
        "a client through the proxy with a right token followed by more characters",
        sent(f"Bearer {new}{secrets.token_urlsafe(3)}"),
        False,
        both,
        False,
    )
    yield (
        "a client through the proxy with only the start of a right token",
        sent(f"Bearer {new[:-4]}"),
        False,
        both,
        False,
    )
    yield (
        "a client through the proxy with a token, and no token configured",
        sent(f"Bearer {new}"),
        False,
        (),
        False,
    )
    for authorization in ("Bearer ", "Bearer", ""):
        yield (
            (
                f"one of the tokens configured is empty (a debug_token left blank), and a client through the proxy "
                f"sends Authorization: {authorization!r}"
            ),
            sent(authorization),
            False,
            ("", new),
            False,
        )
    yield (
        "a client at 127.0.0.1, no forwarding header, and no token configured",
        _environ("127.0.0.1", {}),
        False,
        (),
        True,
    )
    yield (
        "debug_endpoints on, a client at 203.0.113.5, and no token configured",
        _environ("203.0.113.5", {}),
        True,
        (),
        True,
    )
    yield (
        "a client at 203.0.113.5 with no Authorization header, and every token configured empty",
        _environ("203.0.113.5", {}),
        False,
        ("",),
        False,
    )
    yield (
        (
            "a client through the proxy whose Authorization header has bytes outside ASCII (WSGI hands them over "
            "as a latin-1 str)"
        ),
        sent("Bearer \xe9\xe9\xe9"),
        False,
        both,
        False,
    )


def _guess(header: str) -> bool:
    """A guess at a token: ``Bearer `` and ASCII after it. Refusing another scheme, or bytes no token has,
    before any comparison tells a client nothing about a token."""
    token = header.removeprefix("Bearer ")
    return token != header and bool(token) and token.isascii()


@contextlib.contextmanager
def _counted(answer) -> Iterator[list]:
    """The constant-time comparison, counted wherever the answer may reach it (``swap.swapped``). The list
    records each call's result."""
    original, calls = hmac.compare_digest, []

    def counting(a, b):
        result = original(a, b)
        calls.append(result)
        return result

    with swap.swapped(answer, [hmac, secrets], [original], counting):
        yield calls


CALLS_THE_RULE = (
    "your answer calls metrics.allowed, the package's own rule: the exercise is to write the rule yourself "
    "(for every token, and for none)"
)


@contextlib.contextmanager
def _own_rule(answer) -> Iterator[list]:
    """``metrics.allowed`` raises while the answer runs, wherever the answer may reach it (``swap.swapped``);
    the list records each call."""
    calls = []

    def refused(*args, **kwargs):
        calls.append(1)
        raise Wrong(CALLS_THE_RULE)

    with swap.swapped(answer, [metrics], [metrics.allowed], refused):
        yield calls


@exercise("11.allowed")
def allowed(answer):
    expect(callable(answer), "expected a function allowed(environ, enabled, tokens)")
    new, old = secrets.token_urlsafe(12), secrets.token_urlsafe(12)  # fresh every run
    timed: list[str] = []  # verdicts on a token reached without the constant-time comparison the check counts
    right = {f"Bearer {new}", f"Bearer {old}"}
    with _counted(answer) as calls, _own_rule(answer) as borrowed:
        for situation, environ, enabled, tokens, want in _cases(new, old):
            before = len(calls)
            try:
                got = answer(dict(environ), enabled, tokens)
            except Exception as error:  # noqa: BLE001 - the learner's code: said with its situation
                expect(not borrowed, CALLS_THE_RULE)
                raise Wrong(f"{situation}: your answer raised {type(error).__name__}: {error}") from None
            expect(not borrowed, CALLS_THE_RULE)  # even if the answer caught what it raised
            expect(isinstance(got, bool), f"{situation}: expected True or False, got {got!r}")
            expect(got is want, f"{situation}: your answer says {got}")
            header = environ.get("HTTP_AUTHORIZATION", "")
            if want and not enabled and header in right and not any(calls[before:]):  # none found it equal
                timed.append(f"{situation}: your answer let the token in without calling")
            elif not want and any(tokens) and _guess(header) and len(calls) == before:  # a guess never timed
                timed.append(f"{situation}: your answer refused it without calling")
    expect(
        not timed,
        f"{timed[0] if timed else ''} hmac.compare_digest (or secrets.compare_digest), the comparison the check "
        "counts. Compare every token that way, wrong guesses included: a comparison that stops at the first "
        "wrong character takes longer the more of a guess is right, and a client can time its guesses",
    )
