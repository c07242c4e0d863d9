"""Checks for the exercises of notebook 01 (setting up your environment)."""

from urllib.parse import urlsplit

from foundations import config
from foundations.course.exercises import exercise, expect


@exercise("01.redis2_url")
def redis2_url(answer):
    expect(isinstance(answer, str), f"expected the URL as a string, got {type(answer).__name__}")
    expect(answer.startswith("redis://"), f"a Redis URL starts with redis://, yours is {answer!r}")
    cfg = config.load(argv=[])
    expect(answer == cfg.redis2_url, "that is not redis2's URL: ask the config (cfg.redis2_url), "
                                     "do not type the address by hand")


@exercise("01.ping_all")
def ping_all(answer):
    expect(callable(answer), "expected a function that takes a list of Redis URLs")
    cfg = config.load(argv=[])
    urls = [cfg.redis_url, cfg.redis1_url, cfg.redis2_url]
    result = answer(urls)
    expect(isinstance(result, dict), f"expected a dict {{url: milliseconds}}, got {type(result).__name__}")
    expect(set(result) == set(urls), f"expected one entry per URL ({len(urls)}), got keys {sorted(result)}")
    for url, ms in result.items():
        expect(isinstance(ms, float) and ms > 0, f"{url}: expected the round trip in ms as a float > 0, got {ms!r}")
    down = "redis://127.0.0.1:1/0"
    try:
        answer([down])
    except Exception as exc:  # noqa: BLE001 - any exception is what we want here
        expect(str(urlsplit(down).port) in str(exc) or "127.0.0.1" in str(exc),
               "when a Redis is down, the error should name its address")
        return
    expect(False, "a Redis that is down must raise an error (probe.redis_ping does), not be skipped")


