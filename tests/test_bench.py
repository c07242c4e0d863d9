"""The load generators against the running server: each finishes, counts errors, and cleans up.
Speed is printed by `python -m foundations bench`, never asserted here."""

import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import psutil
import pytest

from foundations import bench, footprint, net, serve, variants
from foundations.errors import ServiceError


@pytest.fixture(scope="module")
def url(cfg):
    bench.seed(cfg.api_url)
    return cfg.api_url + "/get?key=name"


def test_builtin_load_counts_requests_and_errors(url, cfg):
    result = bench.builtin(url, requests=300, concurrency=4, progress=False)
    assert (result.tool, result.requests, result.errors) == ("builtin", 300, 0)
    assert result.rps > 0 and 0 < result.p50_ms <= result.p99_ms
    missing = bench.builtin(
        cfg.api_url + "/get?key=never-set-for-bench", requests=20, concurrency=2, progress=False
    )
    assert missing.errors == 20  # 404s are errors for a benchmark


def test_builtin_counts_every_error_from_many_threads(cfg):
    missing = bench.builtin(
        cfg.api_url + "/get?key=never-set-for-bench", requests=600, concurrency=16, progress=False
    )
    assert (missing.requests, missing.errors) == (600, 600)


def test_a_short_soak_reports_errors_latency_and_the_servers_memory(cfg):
    bench.seed(cfg.api_url)
    run = bench.soak(cfg.api_url, "/get?key=name", seconds=1, connections=8, warmup=0.5)
    assert run.result.errors == 0 and run.result.requests > 0 and run.rss_start > 0 and run.rss_end > 0
    text = bench.render_soak(run)
    assert "errors 0" in text and "p99" in text and "MiB at start" in text


def test_builtin_survives_a_server_that_is_gone(capsys):
    result = bench.builtin("http://127.0.0.1:1/get?key=name", requests=10, concurrency=2)
    assert result.requests == 10 and result.errors == 10
    shown = capsys.readouterr()
    assert "GET /get?key=name" in shown.out and shown.err == ""  # a notebook shows stderr like an error


def test_load_counts_each_status_and_a_failed_connection_as_0(cfg):
    bench.seed(cfg.api_url)
    got = bench.load(cfg.api_url + "/get?key=name", requests=30, concurrency=3, keepalive=False)
    assert got.statuses == {200: 30} and len(got.latencies) == 30 and got.seconds > 0
    missing = bench.load(cfg.api_url + "/get?key=never-set-for-bench", requests=5, concurrency=2)
    assert missing.statuses == {404: 5}
    assert bench.load("http://127.0.0.1:1/get", requests=4, concurrency=2).statuses == {0: 4}


@pytest.mark.parametrize("tool", ["ab", "wrk"])
def test_external_tools_are_parsed(url, tool):
    if not bench.available(tool):
        pytest.fail(f"{tool} is not installed here; CI installs it (.ci/run)")
    result = bench.run(url, tool, requests=500, concurrency=4, seconds=1)
    assert result.tool == tool and result.requests > 0 and result.rps > 0 and result.errors == 0


@pytest.mark.parametrize("keepalive", [False, True], ids=["ab", "ab -k"])
def test_ab_keepalive_sends_the_requests_on_kept_connections(keepalive):
    """Only keep-alive changes between the two: ab -c2 sends each request on a connection of its own, ab -k -c2
    all of them on two (counted where a request arrives: ab may open a spare connection it never uses)."""
    if not bench.available("ab"):
        pytest.fail("ab is not installed here; CI installs it (.ci/run)")
    served = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = (
            "HTTP/1.1"  # keeps a connection whose request asks for it, as ab -k's HTTP/1.0 does
        )

        def do_GET(self):
            served.add(self.client_address)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("Connection", "keep-alive" if keepalive else "close")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        result = bench.ab(
            f"http://127.0.0.1:{server.server_port}/", requests=40, concurrency=2, keepalive=keepalive
        )
        server.shutdown()
    assert (result.requests, result.errors) == (40, 0)
    assert len(served) == (2 if keepalive else 40), served


def test_a_missing_tool_says_how_to_install_it(url):
    with pytest.raises(ServiceError, match="not installed"):
        bench.run(url, "nonexistent-tool", 1, 1, 1)


def test_throwaway_servers_start_and_stop(cfg):
    for factory, interface in [
        ("foundations.server:app_from_environment", "wsgi"),
        (variants.POOLED, "wsgi"),
        (variants.SPAWNING, "wsgi"),
        (variants.UNPIPELINED, "rsgi"),
        (variants.ONE_AT_A_TIME, "rsgi"),
    ]:
        with bench.server(cfg, factory, interface=interface) as (base, pid):
            bench.seed(base)
            assert net.http_get(base + "/get?key=name") == (200, b'"Tit Petric"')
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_a_throwaway_server_asked_for_http_1_does_not_take_http_2(cfg):
    """granian's default, --http auto, answers an HTTP/2 preface with its SETTINGS frame (the control); with
    http="1", as serve runs it, the preface is no request of HTTP/1 and the connection closes."""
    first_bytes = {}
    for version in ("auto", "1"):
        with bench.server(cfg, serve.FAST_APP, interface="rsgi", http=version) as (base, _):
            host, port = base.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                first_bytes[version] = conn.recv(64)
            assert net.http_get(base + "/healthz")[0] == 200  # HTTP/1 either way
    assert first_bytes["auto"][3:4] == b"\x04"  # a SETTINGS frame: HTTP/2 spoken
    assert not first_bytes["1"].startswith(b"\x00")  # no HTTP/2 frame


def test_cli_bench_prints_a_table():
    done = subprocess.run(
        [sys.executable, "-m", "foundations", "bench", "--tool", "builtin", "--requests", "200"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert header.split() == ["tool", "requests", "errors", "req/s", "p50", "p99", "server", "RSS"]
    assert row.split()[:3] == ["builtin", "200", "0"] and row.endswith(" MB")


def test_server_memory_counts_every_process_of_the_server(cfg):
    """The running server (one process) and a throwaway one with two worker processes and a supervisor."""
    single = footprint.server_mb(cfg.api_url)
    with bench.server(cfg, workers=2) as (base, pid):
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 10
        while (
            len(footprint.listeners(port)) < 2 and time.monotonic() < deadline
        ):  # the second may still start
            time.sleep(0.1)
        listening, roots = footprint.listeners(port), footprint.server_roots(port)
        several = footprint.server_mb(base)
        alone = footprint.tree_rss(listening) / 1e6
    assert len(listening) == 2 and pid not in listening  # the two workers listen, granian's supervisor not
    assert roots == [pid]  # raised to the supervisor: all three processes count
    assert several > alone > 2 * 15  # each Python process holds well over 15 MB
    assert single is not None and 15 < single < several
    assert footprint.server_mb("http://127.0.0.1:1") is None


def test_breakdown_sorts_samples_by_their_innermost_known_frame():
    from foundations import profiling

    raw = "\n".join(
        [
            "process 1;run (granian/wsgi.py:57);App.__call__ (foundations/web.py:95);get (foundations/api.py:1);"
            "Redis.get (redis/commands/core.py:1);recv (socket.py:1) 6",
            "process 1;App.__call__ (x);Request.arg (foundations/web.py:40);parse_qs (urllib/parse.py:1) 2",
            "process 1;App.__call__ (x);dumps (json/__init__.py:1) 1",
            "process 1;App.__call__ (x);Response (foundations/web.py:50) 1",
            "process 1;idle (granian/wsgi.py:60) 50",  # outside a request: not counted
        ]
    )
    shares = profiling.breakdown(raw)
    assert shares == {
        "Redis I/O": 0.6,
        "JSON encoding": 0.1,
        "request parsing": 0.2,
        "other (routing, responses, server glue)": 0.1,
    }
    with pytest.raises(profiling.ProfilerError, match="no request samples"):
        profiling.breakdown("process 1;idle 5")


def test_py_spy_records_a_flame_graph_of_the_server_under_load(cfg, tmp_path):
    from foundations import profiling

    paths = profiling.under_load(cfg, tmp_path, seconds=1)
    assert "<svg" in paths["svg"].read_text() and "App.__call__" in paths["cpu"].read_text()
    for view in ("cpu", "wall"):
        assert profiling.breakdown(paths[view].read_text())["Redis I/O"] > 0


def test_flame_chart_draws_the_request_stacks_at_the_output_width():
    from foundations import profiling

    raw = "\n".join(
        [
            "process 1;run (granian/wsgi.py:57);App.__call__ (foundations/web.py:95);get (foundations/api.py:1);"
            "Redis.get (redis/commands/core.py:1) 6",
            "process 1;run (granian/wsgi.py:57);App.__call__ (foundations/web.py:96);dumps (json/__init__.py:1) 4",
            "process 1;Condition.wait (threading.py:320) 90",  # an idle thread: not a request
        ]
    )
    assert profiling.request_stacks(raw) == {
        (
            "App.__call__ (foundations/web.py)",
            "get (foundations/api.py)",
            "Redis.get (redis/commands/core.py)",
        ): 6,
        ("App.__call__ (foundations/web.py)", "dumps (json/__init__.py)"): 4,
    }  # cut at the request's first frame, one box per function whatever the line
    fig = profiling.flame_chart(raw, "test", width_px=950)
    labels = [text.get_text() for text in fig.axes[0].texts]
    assert fig.get_size_inches()[0] * fig.dpi == 950
    assert labels[0].startswith("App.__call__") and not any("wait" in label for label in labels)
    assert "10 samples inside requests" in fig.axes[0].get_title()


def test_request_stacks_match_whole_frame_names():
    from foundations import profiling

    raw = "\n".join(
        [
            "process 1;run (granian/wsgi.py:57);StaticApp.__call__ (static.py:31);read (socket.py:1) 7",
            "process 1;run (granian/wsgi.py:57);App.__call__ (foundations/web.py:95);get (foundations/api.py:1) 3",
            "process 1;MyRSGIApp.__rsgi__ (x.py:1);recv (socket.py:1) 5",
        ]
    )
    # StaticApp.__call__ and MyRSGIApp.__rsgi__ are not the course's request frames, though they contain them
    assert profiling.request_stacks(raw) == {
        ("App.__call__ (foundations/web.py)", "get (foundations/api.py)"): 3
    }
    with pytest.raises(profiling.ProfilerError, match="no request samples"):
        profiling.request_stacks(raw.splitlines()[0])


def test_py_spy_failure_is_one_line(tmp_path):
    from foundations import profiling

    with pytest.raises(profiling.ProfilerError, match="could not profile pid"):
        profiling.record(2**22 + 12345, 1, tmp_path / "x.svg")


def test_pyinstrument_view_of_in_process_requests(cfg):
    from foundations import api, profiling, redisdb, web
    from foundations.registry import Registry

    reg = Registry(redisdb.client(cfg.redis_url), prefix="test_bench_pyinstrument")
    reg.set("name", "x")
    try:
        profiler, unprofiled = profiling.pyinstrument_profile(web.App(api.routes(reg)), "/get?key=name", 200)
        text = profiler.output_text()
        assert 0 < unprofiled < 10, unprofiled  # 200 calls of well under a millisecond each
    finally:
        reg.delete("name")
    assert "Registry.get" in text
    request, registry = (profiling.seconds_inside(profiler, f) for f in ("App.__call__", "Registry.get"))
    assert 0 < registry <= request <= profiler.last_session.duration  # few samples: all may be inside both
    assert profiling.seconds_inside(profiler, "no_such.function") == 0


def test_testing_helpers_read_coverage_reports(tmp_path):
    from foundations.course import testing

    story = tmp_path / "story"
    story.mkdir()
    (story / "mod.py").write_text(
        "def used():\n    return 1\n\n\ndef unused(x):\n    if x:\n        return 2\n    return 3\n"
    )
    (story / "test_mod.py").write_text("import mod\n\n\ndef test_used():\n    assert mod.used() == 1\n")
    (story / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    run = testing.run_pytest(["test_mod.py", *testing.coverage_args("mod", story / "report")], cwd=story)
    assert run.passed, run.output
    assert (
        testing.total(story / "report" / "coverage.json") == "coverage: 50.0% of statements, 0.0% of branches"
    )
    rows = {row["function"]: row for row in testing.per_function(story / "report" / "coverage.json")}
    assert rows["used"]["statements"] == "100.0%" and rows["unused"]["missing lines"] == "6, 7, 8"


@pytest.mark.parametrize(
    "caller", [{"COLUMNS": "250"}, {"CI": "true"}, {"BUILD_NUMBER": "7"}, {"PYTEST_ADDOPTS": "-vv"}]
)
def test_run_pytest_output_does_not_depend_on_the_callers_terminal(tmp_path, monkeypatch, caller):
    """pytest cuts summary lines to the terminal width, but not when it sees a CI marker (``CI``,
    ``BUILD_NUMBER``); notebook 09 stores this output, so neither CI's width nor its markers may change it."""
    from foundations.course import testing

    (tmp_path / "test_long.py").write_text(f"def test_long():\n    assert False, '{'x' * 150}'\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    for name in ("COLUMNS", "CI", "BUILD_NUMBER", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    plain = testing.run_pytest(["test_long.py"], cwd=tmp_path).output.rsplit(" in ", 1)[0]
    for name, value in caller.items():
        monkeypatch.setenv(name, value)
    assert testing.run_pytest(["test_long.py"], cwd=tmp_path).output.rsplit(" in ", 1)[0] == plain


def test_interactive_url_is_none_where_no_jupyter_server_serves_the_file(tmp_path):
    from foundations import profiling

    assert profiling.interactive_url(tmp_path / "flamegraph.svg") is None


def test_latency_gives_abs_rounded_milliseconds_as_the_range_they_stand_for():
    ab = bench.Result("ab", 100, 0, 1.0, 100.0, 0.0, 2.0)
    wrk = bench.Result("wrk", 100, 0, 1.0, 100.0, 0.74, 2.0)
    assert [bench.latency(ab, ab.p50_ms), bench.latency(ab, ab.p99_ms)] == ["<0.5 ms", "1.5-2.5 ms"]
    assert bench.latency(wrk, wrk.p50_ms) == "0.74 ms" and bench.latency(wrk, None) == "-"


def test_server_cpu_seconds_grow_with_the_load(cfg):
    with bench.server(cfg) as (base, pid):
        bench.seed(base)
        before = footprint.server_cpu_seconds(base)
        bench.builtin(base + "/get?key=name", 300, 2, progress=False)
        assert footprint.server_cpu_seconds(base) > before > 0
    assert footprint.server_cpu_seconds("http://127.0.0.1:1") is None


def test_server_cpu_seconds_reads_each_process_clock_to_the_nanosecond(cfg):
    with bench.server(cfg, serve.FAST_APP, interface="rsgi", task_impl="rust") as (base, pid):
        assert "rust" in psutil.Process(pid).cmdline()  # granian's --task-impl rust
        bench.seed(base)
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]

        def ticks() -> float:  # what /proc counts, in 10 ms steps per process (supervisor and worker)
            return sum(sum(proc.cpu_times()[:2]) for proc in procs)

        before, ticks_before = footprint.server_cpu_seconds(base), ticks()
        bench.builtin(base + "/get?key=name", 300, 2, progress=False)
        after, ticks_after = footprint.server_cpu_seconds(base), ticks()
        assert after is not None and before is not None and after > before > 0
        # the same CPU as the tick counters, read finer
        assert abs((after - before) - (ticks_after - ticks_before)) < 0.05
        assert round((after - before) * 1e9) % 10_000_000 != 0  # not whole ticks


def test_server_thread_switches_loses_a_thread_that_ended_during_a_load():
    """A server whose second thread ends when the first client connects: server_thread_switches loses it, and
    with it that thread's sleeps (so 10A's ``measure`` asserts that no thread ended during a load)."""
    script = (
        "import socket, sys, threading\n"
        "listener = socket.socket(); listener.bind(('127.0.0.1', 0)); listener.listen()\n"
        "stop = threading.Event(); worker = threading.Thread(target=stop.wait); worker.start()\n"
        "print(listener.getsockname()[1], flush=True)\n"
        "listener.accept(); stop.set(); worker.join()\n"
        "print('ended', flush=True); sys.stdin.read()\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        before = footprint.server_thread_switches(url)
        assert before is not None and len(before) == 2 and sum(before.values()) > 0
        socket.create_connection(("127.0.0.1", port)).close()
        assert server.stdout.readline().strip() == "ended"
        after = footprint.server_thread_switches(url)
        assert after is not None and len(after) == 1 and after.keys() < before.keys()
    finally:
        server.kill()
        server.wait()
    assert footprint.server_thread_switches("http://127.0.0.1:1") is None


def test_server_thread_switches_tells_the_threads_apart():
    """A server whose main thread waits in accept() while its second thread wakes every 10 ms: the second
    thread's count climbs, the main thread's stays put, and each is named by what it sleeps in."""
    script = (
        "import socket, threading, time\n"
        "listener = socket.socket(); listener.bind(('127.0.0.1', 0)); listener.listen()\n"
        "def tick():\n    while True: time.sleep(0.01)\n"
        "threading.Thread(target=tick, daemon=True).start()\n"
        "print(listener.getsockname()[1], flush=True); listener.accept()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        before = footprint.server_thread_switches(url)
        time.sleep(0.5)
        after = footprint.server_thread_switches(url)
        assert before is not None and after is not None and set(after) == set(before) and len(after) == 2
        (main,) = [key for key in after if key == (server.pid, server.pid)]
        (ticker,) = [key for key in after if key != main]
        assert after[ticker] - before[ticker] >= 10 and after[main] - before[main] <= 2, (before, after)
        assert "accept" in footprint.thread_waits_in(*main), footprint.thread_waits_in(*main)
        assert "sleep" in footprint.thread_waits_in(*ticker), footprint.thread_waits_in(*ticker)
    finally:
        server.kill()
        server.wait()
    assert footprint.thread_waits_in(server.pid, server.pid) == "?"  # gone: nothing to read
