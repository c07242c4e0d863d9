"""The load generators against the running server: each finishes, counts errors, and cleans up.
Speed is printed by `python -m foundations bench`, never asserted here."""

import os
import subprocess
import sys

import pytest

from foundations import bench, probe
from foundations.errors import ServiceError


@pytest.fixture(scope="module")
def url(cfg):
    bench.seed(cfg.api_url)
    return cfg.api_url + "/get?key=name"


def test_builtin_load_counts_requests_and_errors(url, cfg):
    result = bench.builtin(url, requests=300, concurrency=4, progress=False)
    assert (result.tool, result.requests, result.errors) == ("builtin", 300, 0)
    assert result.rps > 0 and 0 < result.p50_ms <= result.p99_ms
    missing = bench.builtin(cfg.api_url + "/get?key=never-set-for-bench", requests=20, concurrency=2, progress=False)
    assert missing.errors == 20  # 404s are errors for a benchmark


def test_builtin_survives_a_server_that_is_gone():
    result = bench.builtin("http://127.0.0.1:1/get?key=name", requests=10, concurrency=2, progress=False)
    assert result.requests == 10 and result.errors == 10


@pytest.mark.parametrize("tool", ["ab", "wrk"])
def test_external_tools_are_parsed(url, tool):
    if not bench.available(tool):
        pytest.fail(f"{tool} is not installed here; CI installs it (.ci/run)")
    result = bench.run(url, tool, requests=500, concurrency=4, seconds=1)
    assert result.tool == tool and result.requests > 0 and result.rps > 0 and result.errors == 0


def test_a_missing_tool_says_how_to_install_it(url):
    with pytest.raises(ServiceError, match="not installed"):
        bench.run(url, "nonexistent-tool", 1, 1, 1)


def test_throwaway_servers_start_and_stop(cfg):
    for factory in ("foundations.server:app_from_environment", bench.SPAWNING):
        with bench.server(cfg, factory) as (base, pid):
            bench.seed(base)
            assert probe.http_get(base + "/get?key=name") == (200, b'"Tit Petric"')
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_cli_bench_prints_a_table():
    done = subprocess.run([sys.executable, "-m", "foundations", "bench", "--tool", "builtin", "--requests", "200"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:4] == ["tool", "requests", "errors", "req/s"]
    assert done.stdout.splitlines()[1].split()[:3] == ["builtin", "200", "0"]
