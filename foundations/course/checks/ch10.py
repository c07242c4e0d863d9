"""Checks for the exercises of notebook 10 (your first API), against the running API server."""

import contextlib
import json
import logging
import random
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from foundations import config, redisdb, web
from foundations.course.exercises import exercise, expect
from foundations.registry import Registry


def _answer(handler, target):
    """The learner's handler called on ``GET target``, as ``web.App`` would: (status, JSON body, type)."""
    from werkzeug.test import EnvironBuilder

    try:
        response = handler(web.Request(EnvironBuilder(target).get_environ()))
    except Exception as exc:  # noqa: BLE001 - named in the message: App would answer 500
        expect(False, f"GET {target}: your handler raised {type(exc).__name__} ({exc}); App would answer 500")
    expect(isinstance(response, web.Response), f"GET {target}: expected a web.Response, got {response!r}")
    try:
        payload = json.loads(response.body)
    except ValueError:
        payload = None
    return response.status, payload, response.content_type


@exercise("10.length")
def length(answer):
    expect(callable(answer), "expected a function length(registry) that returns a handler")
    cfg = config.load(argv=[])
    raw = redisdb.client(cfg.redis_url)
    store = Registry(raw, prefix=f"nb10-length-{uuid.uuid4().hex[:8]}")
    value = "žaba " * random.randint(2, 9)  # characters, not bytes: ž takes two in UTF-8
    store.set("word", value)
    try:
        handler = answer(store)
        expect(callable(handler), f"length(registry) should return a handler, got {handler!r}")
        status, payload, kind = _answer(handler, "/len?key=word")
        expect(status == 200, f"for a key that is set your handler answered {status}")
        expect(
            kind.startswith("application/json"), f"answer JSON (Content-Type application/json), not {kind}"
        )
        expect(
            payload == len(value),
            f"the value has {len(value)} characters; your handler answered {payload!r}"
            + (" (bytes, not characters)" if payload == len(value.encode()) else "")
            + (" (the length of its JSON text)" if payload == len(json.dumps(value)) else ""),
        )
        for target, situation, want in [
            ("/len?key=nobody-set-this", "a key nobody set", 404),
            ("/len", "no key parameter", 400),
            ("/len?key=", "an empty key", 400),
        ]:
            status, payload, kind = _answer(handler, target)
            expect(
                status == want,
                f"{situation}: your handler answered {status}; which status tells a client what happened? "
                "(the chapter's table of statuses)",
            )
            _expect_json_error(situation, payload, kind, want)
        down = Registry(redisdb.client("redis://127.0.0.1:1/0", timeout=0.2), prefix="api")
        status, payload, kind = _answer(answer(down), "/len?key=word")
        expect(
            status == 503,
            f"when Redis is down your handler answered {status}: is that the server's fault or Redis's?",
        )
        _expect_json_error("when Redis is down", payload, kind, 503)
        raw.rpush(store.key("list"), "written by another program")
        status, payload, kind = _answer(handler, "/len?key=list")
        expect(
            status == 409,
            f"a key that holds a list (another program wrote it): your handler answered {status}; the registry "
            "raises WrongType, and the client can resolve it by deleting the key: which status is that? "
            "(api.STATUSES maps the registry's errors to statuses)",
        )
        _expect_json_error("a key that holds a list", payload, kind, 409)
        _expect_a_bug_ends_as_in_app(answer, _Buggy(raw, prefix=store.prefix), "/len?key=word")
    finally:
        raw.delete(store.key("word"), store.key("list"))


class _Buggy(Registry):
    """A registry whose ``get`` fails as a bug of the server would: not Redis, not the client."""

    raised: RuntimeError | None = None  # the error its get raised, which the handler's answer must not show

    def get(self, key):
        self.raised = RuntimeError(f"a bug in the server, #{uuid.uuid4().hex[:6]}")
        raise self.raised


_BUG = "when the server itself fails (here the registry raised RuntimeError, as a bug would) your handler"


def _expect_a_bug_ends_as_in_app(answer, buggy, target):
    """A bug must end as ``web.App`` ends an error that escapes the handler: a 500 that does not show the client
    the error's text, and its traceback in the server's log. Escaping does both; a handler that builds the 500
    itself must do both too."""
    from werkzeug.test import EnvironBuilder

    handler, logged = answer(buggy), _Records()
    logging.getLogger().addHandler(logged)
    try:
        response = handler(web.Request(EnvironBuilder(target).get_environ()))
    except Exception:  # noqa: BLE001 - what a bug does: App logs its traceback and answers 500 without its text
        return
    finally:
        logging.getLogger().removeHandler(logged)
    expect(isinstance(response, web.Response), f"GET {target}: expected a web.Response, got {response!r}")
    expect(
        response.status == 500,
        f"{_BUG} answered {response.status}: only a 500 tells the client the fault is the server's; catch the "
        "registry's own errors by name and let any other escape (App answers 500)",
    )
    expect(
        buggy.raised is not None, "the handler length(registry) returns should ask the registry it is given"
    )
    traced = any(record.exc_info and record.exc_info[1] is buggy.raised for record in logged.records)
    untraced = (
        ""
        if traced
        else ", and nothing logged the error's traceback, which the operator needs to find the bug"
    )
    expect(
        str(buggy.raised) not in response.body.decode(errors="replace"),
        f"{_BUG} answered a 500 of its own that shows the client the bug's message ({str(buggy.raised)!r}): a "
        f"public API keeps such details in its own log (part 1's note after the 503){untraced}. What does App do "
        "with an error that escapes a handler? (web.App.respond)",
    )
    expect(
        traced,
        f"{_BUG} answered a 500 of its own, and nothing logged the error's traceback: the client learns that "
        "the server failed, but the operator never learns what failed, or where. What does App do with an error "
        "that escapes a handler? (web.App.respond)",
    )


class _Records(logging.Handler):
    """The log records emitted while it is attached to the root logger, which every logger passes its records to
    (unless its ``propagate`` is off)."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _expect_json_error(situation, payload, kind, status):
    """The API's JSON error, sent as JSON, its ``type`` the one every other route sends with ``status``."""
    expect(
        isinstance(payload, dict)
        and isinstance(payload.get("error"), dict)
        and set(payload["error"]) == {"type", "message"},
        f"{situation}: the body should be the API's JSON error "
        '{"error": {"type", "message"}} (web.error_response)',
    )
    expect(
        payload["error"]["type"] == json.loads(web.error_response(status, "").body)["error"]["type"],
        f"{situation}: your error's type is {payload['error']['type']!r}, which no other route of the API sends "
        f"with a {status}: a client that branches on error.type would miss it (web.error_response)",
    )
    expect(
        kind.startswith("application/json"),
        f"{situation}: your error came as {kind}: a client reads the API's errors as JSON "
        "(Content-Type application/json)",
    )


@exercise("10.fetch")
def fetch(answer):
    expect(callable(answer), "expected a function fetch(base_url, key) -> str | None")
    cfg = config.load(argv=[])
    client = redisdb.client(cfg.redis_url)
    key = f"nb10-fetch-{uuid.uuid4().hex[:8]} ž&?+%#"  # every character here means something in a URL
    value = f'Tit "{uuid.uuid4().hex[:4]}" Petrič \\ ž'  # quotes, a backslash, ž: the JSON text escapes them
    client.set(f"api:{key}", value)
    try:
        got = answer(cfg.api_url, key)
    finally:
        client.delete(f"api:{key}")
    expect(
        got == value,
        f"for a key that is set to {value!r}, got {got!r} "
        "(quote the key: it holds a space, '&', '?', '+', '%' and '#'; and the answer is JSON)",
    )
    expect(answer(cfg.api_url, f"nb10-never-{uuid.uuid4().hex}") is None, "a key nobody set should give None")
    listed = f"nb10-fetch-list-{uuid.uuid4().hex[:8]}"
    client.rpush(f"api:{listed}", "written by another program")
    try:
        with _answering(503) as down:
            for base_url, key, what in [
                (cfg.api_url, "", "a 400 (an empty key)"),
                (cfg.api_url, listed, "a 409 (a key that holds a list)"),
                (down, "name", "a 503 (the API's Redis is down)"),
                ("http://127.0.0.1:1", "name", "a server that does not answer"),
            ]:
                try:
                    got = answer(base_url, key)
                except Exception:  # noqa: BLE001 - any error is right here
                    continue
                expect(False, f"{what} must raise, not return {got!r}: only a 404 means 'not set'")
    finally:
        client.delete(f"api:{listed}")


@contextlib.contextmanager
def _answering(status):
    """A server on a free port that answers every GET with ``status`` and the API's JSON error for it: the API
    as a client sees it when its Redis is down, without stopping the lab's Redis."""
    body = web.error_response(status, "Redis is not reachable").body

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # nothing on the notebook's stderr
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _profile() -> tuple[str, dict[str, float]]:
    """py-spy raw stacks with fresh counts, and the share each asked-for function should get."""
    names = "recv send arg json recursion into cached idle idlerecv static".split()
    n = dict(zip(names, random.sample(range(3, 100), len(names))))
    head = 'process 7:"python -m foundations serve";_runner (granian/wsgi.py:57);App.__call__ (foundations/web.py:127)'
    get = f"{head};get (foundations/api.py:145);Registry.get (foundations/registry.py:73)"
    lines = [
        f"{get};AbstractConnection.read_response (redis/connection.py:1407);recv (socket.py:1) {n['recv']}",
        f"{get};AbstractConnection.send_command (redis/connection.py:1371);send (socket.py:2) {n['send']}",
        f"{head};Request.arg (foundations/web.py:48);parse_qs (urllib/parse.py:687) {n['arg']}",
        f"{head};dumps (json/__init__.py:183) {n['json']}",
        f"{get};Registry.get (foundations/registry.py:75);recv (socket.py:1) {n['recursion']}",
        f"{head};Route.__call__ (foundations/web.py:76);recv_into (socket.py:3) {n['into']}",
        f"{head};get (foundations/api.py:145);CachedRegistry.get (foundations/cache.py:31) {n['cached']}",
        f'process 7:"python -m foundations serve";Thread._bootstrap (threading.py:1002);'
        f"Condition.wait (threading.py:320) {n['idle']}",
        f'process 7:"python -m foundations serve";Thread._bootstrap (threading.py:1002);'
        f"recv (socket.py:1) {n['idlerecv']}",
        # not a request: no App.__call__ frame, though "App.__call__" is part of a line
        f'process 7:"python -m foundations serve";_runner (granian/wsgi.py:57);StaticApp.__call__ (static.py:31);'
        f"guess_type (mimetypes.py:307) {n['static']}",
    ]
    requests = sum(n[k] for k in ("recv", "send", "arg", "json", "recursion", "into", "cached"))
    shares = {
        "Registry.get": (n["recv"] + n["send"] + n["recursion"]) / requests,
        "recv": (n["recv"] + n["recursion"]) / requests,
    }
    collapsed = "\n".join(lines) + "\n"  # py-spy's file ends with a newline too
    for function, want in shares.items():  # two rules wrong with one share would blur the message: draw again
        tied: dict[float, set[str]] = {}
        for trap, rule in _TRAPS:
            share = _share(collapsed, function, **trap)
            if len(trap) > 1 and any(
                abs(share - _share(collapsed, function, **{f: True})) < 1e-9 for f in trap
            ):
                continue  # one of its flags changes nothing here: the one-mistake trap, listed first, names it
            if abs(share - want) > 1e-9:
                tied.setdefault(round(share, 9), set()).add(rule)
        # a suffix match and a substring match agree on 'Registry.get' by design: both rules say "whole"
        if any(len(rules) > 1 and rules != {_SUFFIX, _SUBSTRING} for rules in tied.values()):
            return _profile()
    return collapsed, shares


@exercise("10.request_share")
def request_share(answer):
    expect(callable(answer), "expected a function request_share(collapsed, function) -> a number from 0 to 1")
    collapsed, shares = _profile()
    for function, want in shares.items():
        got = answer(collapsed, function)
        expect(isinstance(got, (int, float)), f"expected a number from 0 to 1, got {type(got).__name__}")
        if abs(got / 100 - want) < 1e-9:
            expect(False, f"a share is a fraction from 0 to 1, not a percentage: got {got!r} for {function}")
        if abs(got - want) < 1e-9:
            continue
        rules = [rule for trap, rule in _TRAPS if abs(_share(collapsed, function, **trap) - got) < 1e-9]
        expect(
            False,
            f"for {function!r} your share is {got:.4f}, not the share of the request samples whose stacks hold "
            f"that function: {rules[0] if rules else '; '.join(dict.fromkeys(rule for _, rule in _TRAPS))}",
        )


_SUFFIX = "a frame's function is the name before ' (', whole ('Registry.get' is not 'CachedRegistry.get')"
_SUBSTRING = "a frame's function is the name before ' (', whole ('recv' is not 'recv_into')"
# one mistake each, then "loose" (requests picked by "App.__call__" in the line) with the two above, as one
# substring habit: their rule comes first, this one once the function's frames are whole. Where a flag changes
# nothing (suffix on 'recv'), the one-mistake trap comes first and names the mistake that counts
_TRAPS = [
    ({"lines": True}, "a line stands for as many samples as its last number, not for one"),
    ({"everything": True}, "only stacks with App.__call__ are requests, in the total too"),
    ({"twice": True}, "a stack counts once, however many of its frames call that function"),
    ({"suffix": True}, _SUFFIX),
    ({"substring": True}, _SUBSTRING),
    (
        {"loose": True},
        "a frame's function is the name before ' (', whole, for App.__call__ too "
        "('App.__call__' is not 'StaticApp.__call__')",
    ),
    ({"suffix": True, "loose": True}, _SUFFIX),
    ({"substring": True, "loose": True}, _SUBSTRING),
]


def _share(  # noqa: PLR0913 - one flag per trap
    collapsed,
    function,
    lines=False,
    everything=False,
    twice=False,
    substring=False,
    suffix=False,
    loose=False,
):
    """The share ``request_share`` should return, or, with flags set, the answer of one trap."""
    requests = holding = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        n = 1 if lines else int(count)
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        inside = "App.__call__" in (stack if loose else frames)
        requests += n if inside or everything else 0
        if inside:
            hits: int = (
                function in stack if substring else frames.count(function) if twice else function in frames
            )
            if suffix:
                hits = any(frame.endswith(function) for frame in frames)
            holding += n * hits
    return holding / requests


# the appendix's exercise, registered after the three above (the board's columns follow the notebooks)
from foundations.course.checks import ch10_appendix  # noqa: E402, F401
