"""Checks for the exercises of notebook 01 (setting up your environment)."""

from dataclasses import replace
from urllib.parse import urlsplit

from foundations import config, redisdb
from foundations.course.exercises import exercise, expect

# A Redis paused this long answers a PING late: a real stopwatch sees it, a made-up figure does not.
PAUSE_MS = 200


@exercise("01.redis2_url")
def redis2_url(answer):
    expect(
        callable(answer),
        f"expected a function redis2_url(cfg) that reads the URL from cfg, got {type(answer).__name__}",
    )
    cfg = config.load(argv=[])
    elsewhere = replace(cfg, redis2_url="redis://127.0.0.1:6999/0")  # a config this notebook never printed
    got = answer(elsewhere)
    expect(isinstance(got, str), f"expected the URL as a string, got {type(got).__name__}")
    expect(
        got != cfg.redis2_url,
        "that is the URL printed above, typed or copied in: read it from the cfg "
        "your function is given, so it works on every machine",
    )
    others = {
        cfg.redis_url: "redis",
        cfg.redis1_url: "redis1",
        elsewhere.redis_url: "redis",
        elsewhere.redis1_url: "redis1",
    }
    expect(got not in others, f"that is {others.get(got)}'s URL; the exercise asks for redis2's")
    expect(
        got == elsewhere.redis2_url,
        f"given a config whose redis2 is {elsewhere.redis2_url}, your function returned {got!r}",
    )


@exercise("01.ping_all")
def ping_all(answer):
    expect(callable(answer), "expected a function that takes a list of Redis URLs")
    cfg = config.load(argv=[])
    urls = [cfg.redis_url, cfg.redis1_url, cfg.redis2_url]
    result = answer(urls)
    expect(isinstance(result, dict), f"expected a dict {{url: milliseconds}}, got {type(result).__name__}")
    expect(set(result) == set(urls), f"expected one entry per URL ({len(urls)}), got keys {sorted(result)}")
    for url, ms in result.items():
        expect(
            isinstance(ms, float) and ms > 0,
            f"{url}: expected the round trip in ms as a float > 0, got {ms!r}",
        )
    _slow_redis_is_seen(answer, cfg.redis2_url)
    down = "redis://127.0.0.1:1/0"
    try:
        answer([down])
    except Exception as exc:  # noqa: BLE001 - any exception is what we want here
        expect(
            str(urlsplit(down).port) in str(exc) or "127.0.0.1" in str(exc),
            "when a Redis is down, the error should name its address",
        )
        return
    expect(False, "a Redis that is down must raise an error (probe.redis_ping does), not be skipped")


def _slow_redis_is_seen(answer, url: str) -> None:
    """Pause the Redis at ``url`` (CLIENT PAUSE), PING it through ``answer``: the figure shows the wait."""
    redisdb.client(url).client_pause(PAUSE_MS, all=True)
    ms = answer([url])[url]
    expect(
        ms >= PAUSE_MS / 4,
        f"that Redis was paused for {PAUSE_MS} ms, yet you report {ms!r}: time each PING and report "
        "milliseconds; a made-up figure, or seconds, cannot show the wait",
    )
    expect(
        ms < 100 * PAUSE_MS, f"{ms!r} for a {PAUSE_MS} ms wait: are those microseconds? Report milliseconds"
    )
