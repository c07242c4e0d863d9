"""Checks for the exercises of notebook 10 (your first API), against the running API server."""

import uuid

from foundations import config, redisdb
from foundations.course.exercises import exercise, expect

SITUATIONS = {
    "no key parameter": 400,
    "a key nobody set": 404,
    "DELETE on /getAll": 405,
    "a 100 KB value": 413,
    "Redis is down": 503,
}


@exercise("10.statuses")
def statuses(answer):
    expect(
        isinstance(answer, dict), f"expected a dict {{situation: status code}}, got {type(answer).__name__}"
    )
    expect(set(answer) == set(SITUATIONS), f"expected exactly the keys {sorted(SITUATIONS)}")
    wrong = [s for s, code in SITUATIONS.items() if answer[s] != code]
    expect(
        not wrong, f"not the status the API answers for: {', '.join(wrong)} (try the requests on the server)"
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
