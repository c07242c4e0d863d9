"""Checks for the exercises of notebook 10 (your first API), against the running API server."""

import json
import random
import uuid

from foundations import config, redisdb
from foundations.course.exercises import exercise, expect
from foundations.registry import Registry


def _answer(handler, target):
    """The learner's handler called on ``GET target``, as ``web.App`` would: (status, JSON body, type)."""
    from werkzeug.test import EnvironBuilder

    from foundations import web

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
    store = Registry(redisdb.client(cfg.redis_url), prefix=f"nb10-length-{uuid.uuid4().hex[:8]}")
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
            status, payload, _ = _answer(handler, target)
            expect(
                status == want,
                f"{situation}: your handler answered {status}; which status tells a client what happened? "
                "(the chapter's table of statuses)",
            )
            expect(
                isinstance(payload, dict) and set(payload.get("error", {})) == {"type", "message"},
                f"{situation}: the body should be the API's JSON error "
                '{"error": {"type", "message"}} (web.error_response)',
            )
    finally:
        store.delete("word")
    down = Registry(redisdb.client("redis://127.0.0.1:1/0", timeout=0.2), prefix="api")
    status, _, _ = _answer(answer(down), "/len?key=word")
    expect(
        status == 503,
        f"when Redis is down your handler answered {status}: is that the server's fault or Redis's?",
    )


@exercise("10.fetch")
def fetch(answer):
    expect(callable(answer), "expected a function fetch(base_url, key) -> str | None")
    cfg = config.load(argv=[])
    client = redisdb.client(cfg.redis_url)
    key = f"nb10-fetch-{uuid.uuid4().hex[:8]} ž&?"
    client.set(f"api:{key}", "Tit Petric")
    try:
        got = answer(cfg.api_url, key)
    finally:
        client.delete(f"api:{key}")
    expect(
        got == "Tit Petric",
        f"for a key that is set, expected 'Tit Petric', got {got!r} "
        "(quote the key: it holds a space, '&' and '?')",
    )
    expect(answer(cfg.api_url, f"nb10-never-{uuid.uuid4().hex}") is None, "a key nobody set should give None")
    for base_url, key, what in [
        (cfg.api_url, "", "a 400 (an empty key)"),
        ("http://127.0.0.1:1", "name", "a server that does not answer"),
    ]:
        try:
            got = answer(base_url, key)
        except Exception:  # noqa: BLE001 - any error is right here
            continue
        expect(False, f"{what} must raise, not return {got!r}: only a 404 means 'not set'")
