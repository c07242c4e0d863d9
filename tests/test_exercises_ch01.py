"""Chapter 1's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import pytest

from foundations import config
from foundations.course import exercises
from foundations.ops import probe

REDIS2_WRONG = [
    pytest.param(
        lambda cfg: config.load(argv=[]).redis2_url, "typed or copied in", id="value-read-off-the-output"
    ),
    pytest.param(
        lambda cfg: "redis://127.0.0.1:6392/0", "given a config whose redis2 is", id="compose-default"
    ),
    pytest.param(lambda cfg: cfg.redis_url, "that is redis's URL", id="the-first-redis"),
    pytest.param(lambda cfg: cfg.redis1_url, "that is redis1's URL", id="redis1"),
    pytest.param(
        lambda cfg: cfg.endpoint("redis2_url"), "expected the URL as a string, got tuple", id="host-port"
    ),
    pytest.param(
        "redis://127.0.0.1:6392/0", "expected a function redis2_url(cfg)", id="a-string-not-a-function"
    ),
]


@pytest.mark.parametrize("answer, message", REDIS2_WRONG)
def test_redis2_url_rejects(answer, message):
    assert message in exercises.verdict("01.redis2_url", answer)


def _fixed_figures(urls):
    return {url: 0.2 for url in urls}


def _seconds(urls):
    return {url: probe.redis_ping(url) / 1000 for url in urls}


def _skips_the_dead(urls):
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url)
        except Exception:  # noqa: BLE001 - the wrong answer under test swallows errors
            pass
    return result


def _anonymous_error(urls):
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url)
        except Exception:  # noqa: BLE001
            raise RuntimeError("a Redis is down") from None
    return result


PING_WRONG = [
    pytest.param(
        _fixed_figures, "a made-up figure, or seconds, cannot show the wait", id="hard-coded-figures"
    ),
    pytest.param(_seconds, "yet you report 0.", id="seconds-not-ms"),
    pytest.param(
        lambda urls: {urls[0]: probe.redis_ping(urls[0])}, "expected one entry per URL", id="first-only"
    ),
    pytest.param(lambda urls: [probe.redis_ping(u) for u in urls], "expected a dict", id="a-list"),
    pytest.param(_skips_the_dead, "must raise an error", id="skips-a-dead-redis"),
    pytest.param(_anonymous_error, "should name its address", id="error-without-address"),
]


@pytest.mark.parametrize("answer, message", PING_WRONG)
def test_ping_all_rejects(answer, message):
    assert message in exercises.verdict("01.ping_all", answer)
