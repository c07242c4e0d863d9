"""redisspeed.redis_benchmark against the run's main Redis: only the tests asked for run, so that a caller
timing the run (notebook 07's CPU columns) times those alone."""

import shutil

import pytest

from foundations import redisspeed
from foundations.errors import ServiceError

pytestmark = pytest.mark.skipif(
    not shutil.which("redis-benchmark"), reason="redis-benchmark: apt-get install redis-tools"
)


def test_one_test_asked_for_is_the_only_one_run(cfg, monkeypatch):
    run, argvs = redisspeed.subprocess.run, []

    def watched(argv, **kwargs):
        argvs.append(argv)
        return run(argv, **kwargs)

    monkeypatch.setattr(redisspeed.subprocess, "run", watched)
    rates = redisspeed.redis_benchmark(cfg.redis_url, requests=20_000, tests=("ping_mbulk",))
    assert list(rates) == ["PING_MBULK"] and rates["PING_MBULK"] > 1000
    [argv] = argvs
    assert argv[argv.index("-t") + 1] == "ping_mbulk" and argv[argv.index("-n") + 1] == "20000"


def test_a_test_that_printed_no_rate_is_an_error(cfg, monkeypatch):
    mbulk_only = '"test","rps"\n"PING_MBULK","2000000.00"\n'
    monkeypatch.setattr(
        redisspeed.subprocess, "run", lambda *a, **k: type("Done", (), {"stdout": mbulk_only})
    )
    with pytest.raises(ServiceError, match="printed something unexpected"):
        redisspeed.redis_benchmark(cfg.redis_url)  # both PING tests asked for, one printed
