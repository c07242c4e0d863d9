"""Chapter 11: /debug/vars and /metrics, in-process and across real granian workers; access log; SIGTERM."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from foundations import bench, metrics, net, production
from foundations.server import create_app

BOOK_NAMES = {"registry.get", "registry.set", "registry.del", "registry.getAll", "registry.getAll.get"}


def call(app, path: str, **environ) -> tuple[int, dict, bytes]:
    """One WSGI request to ``app`` from a loopback client (unless ``environ`` says otherwise)."""
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(
        app(
            {
                "PATH_INFO": path.split("?")[0],
                "QUERY_STRING": path.partition("?")[2],
                "REQUEST_METHOD": "GET",
                "REMOTE_ADDR": "127.0.0.1",
                **environ,
            },
            start_response,
        )
    )
    return seen["status"], seen["headers"], body


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def app(cfg):
    client = redis.Redis.from_url(cfg.redis_url)
    yield create_app(cfg, redis_client=client)
    client.delete("api:t11-key")
    client.close()


# --- in process ----------------------------------------------------------------------------------


def test_counts_follow_the_book_names_and_requests(app):
    call(app, "/set?key=t11-key&value=v")
    for _ in range(3):
        call(app, "/get?key=t11-key")
    status, headers, body = call(app, "/debug/vars")
    assert status == 200 and headers["Content-Type"] == "application/json"
    variables = json.loads(body)
    assert BOOK_NAMES <= set(variables)
    assert (variables["registry.set"], variables["registry.get"], variables["http.requests"]) == (1, 3, 5)
    assert list(variables) == sorted(variables)  # expvar lists its variables sorted
    assert variables["worker"] == {"pid": os.getpid(), **{name: variables[name] for name in BOOK_NAMES}}
    process = variables["process"]
    assert process["workers"] == 1 and process["rss_bytes"] > 10_000_000 and process["threads"] >= 1
    assert len(process["gc_collections"]) == 3 and process["gc_collections"][0] > 0


def test_get_all_counts_each_key_like_the_book(app, cfg):
    client = redis.Redis.from_url(cfg.redis_url)
    call(app, "/set?key=t11-key&value=v")
    before = app.metrics.totals()
    call(app, "/getAll")
    after = app.metrics.totals()
    keys = len(client.keys("api:*"))
    assert after["registry.getAll"] - before["registry.getAll"] == 1
    assert after["registry.getAll.get"] - before["registry.getAll.get"] == keys >= 1
    found = samples(call(app, "/metrics")[2].decode())  # keys are not calls: Prometheus gets them apart
    assert found[("foundations_registry_keys_fetched_total", ())] == after["registry.getAll.get"]
    assert found[("foundations_registry_calls_total", (("operation", "getAll"),))] == after["registry.getAll"]
    assert not [name for name, labels in found if ("operation", "getAll.get") in labels]


def test_metrics_endpoint_speaks_prometheus(app):
    call(app, "/get?key=t11-key")
    status, headers, body = call(app, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    found = samples(body.decode())
    assert found[("foundations_registry_calls_total", (("operation", "get"),))] == 1
    assert found[("foundations_http_requests_total", ())] == 2
    assert found[("foundations_workers", ())] == 1
    assert found[("process_resident_memory_bytes", ())] > 10_000_000
    assert ("python_gc_collections_total", (("generation", "2"),)) in found


def test_gc_collections_are_counted(app):
    import gc

    before = app.metrics.totals()["gc.gen2"]
    gc.collect()
    assert app.metrics.totals()["gc.gen2"] == before + 1


PROXIED = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}


@pytest.mark.parametrize(
    "client, enabled, token, served",
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, False, "", True),
        ({"REMOTE_ADDR": "127.0.0.5"}, False, "", True),
        ({"REMOTE_ADDR": "::1"}, False, "", True),
        ({"REMOTE_ADDR": "::ffff:127.0.0.1"}, False, "", True),
        ({"REMOTE_ADDR": "10.1.2.3"}, False, "", False),
        ({"REMOTE_ADDR": ""}, False, "", False),
        ({"REMOTE_ADDR": "127.0.0.1", **PROXIED}, False, "", False),  # nginx on the same host
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"}, False, "", False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"}, False, "", False),
        ({"REMOTE_ADDR": "10.1.2.3", **PROXIED}, True, "", True),  # debug_endpoints: every client
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer s3cret"}, False, "s3cret", True),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer guess"}, False, "s3cret", False),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer "}, False, "", False),
    ],
)
def test_debug_endpoints_are_served_by_client_not_by_bind_address(cfg, client, enabled, token, served):
    app = create_app(
        dataclasses.replace(cfg, host="0.0.0.0", debug_endpoints=enabled, debug_token=token),
        redis_client=redis.Redis.from_url(cfg.redis_url),
    )
    statuses = [call(app, p, **client)[0] for p in ("/debug/vars", "/metrics")]
    assert statuses == ([200, 200] if served else [404, 404])
    # another method: told what the path takes only when it is shown at all (a 405 would reveal it)
    posted = [call(app, p, REQUEST_METHOD="POST", **client) for p in ("/debug/vars", "/metrics")]
    assert [status for status, _, _ in posted] == ([405, 405] if served else [404, 404])
    assert all(("Allow" in headers) == served for _, headers, _ in posted)


@pytest.mark.parametrize(
    "args, shown",
    [
        (["--mysql-dsn", "mysql://api:s3cret@db:3306/api"], ["--mysql-dsn", "mysql://api:***@db:3306/api"]),
        (["--mysql-dsn=mysql://api:s3cret@db/api"], ["--mysql-dsn=mysql://api:***@db/api"]),
        (
            ["--redis-url", "redis://:s3cret@127.0.0.1:6379/0"],
            ["--redis-url", "redis://:***@127.0.0.1:6379/0"],
        ),
        (["--db-password", "s3cret", "--port", "80"], ["--db-password", "***", "--port", "80"]),
        (["--debug-token=s3cret"], ["--debug-token=***"]),
        (["--legacy-dsn", "host=db user=api password=s3cret"], ["--legacy-dsn", "***"]),
        (["serve", "password=s3cret"], ["serve", "password=***"]),
        (["serve", "--host", "0.0.0.0"], ["serve", "--host", "0.0.0.0"]),
    ],
)
def test_debug_vars_redacts_secrets_from_the_command_line(tmp_path, args, shown):
    metrics.prepare(tmp_path, cmdline=["python", "-m", "foundations", *args])
    variables = metrics.Metrics(tmp_path).debug_vars()
    assert variables["cmdline"] == ["python", "-m", "foundations", *shown]
    assert "s3cret" not in json.dumps(variables)


def test_counts_of_every_worker_file_add_up_and_prepare_forgets_them(tmp_path):
    metrics.prepare(tmp_path, cmdline=["old"])
    mine = metrics.Metrics(tmp_path)
    mine.count("registry.get", 7)
    fake = tmp_path / "worker-999999.bin"  # another worker, since exited: its counts still add up
    fake.write_bytes((5).to_bytes(8, "little") + bytes(8 * (len(metrics.COUNTERS) - 1)))
    assert mine.totals()["registry.get"] == 12
    assert {pid: w["registry.get"] for pid, w in metrics.per_worker(tmp_path).items()} == {
        os.getpid(): 7,
        999999: 5,
    }
    assert mine.process()["workers"] == 1  # ...but it is not counted as a live worker
    assert mine.debug_vars()["cmdline"] == ["old"]
    metrics.prepare(tmp_path, cmdline=["new"])
    assert not list(tmp_path.glob("worker-*.bin"))
    fresh = metrics.Metrics(tmp_path)
    assert fresh.totals()["registry.get"] == 0 and fresh.debug_vars()["cmdline"] == ["new"]


def test_a_file_already_there_keeps_its_counts(tmp_path):
    """A pid the kernel recycled from an exited worker (or another Metrics of this process) adds to that
    worker's counts instead of erasing them: totals() keeps an exited worker's counts."""
    metrics.prepare(tmp_path)
    earlier = tmp_path / f"worker-{os.getpid()}.bin"  # an exited worker that had this pid counted 5
    earlier.write_bytes((5).to_bytes(8, "little") + bytes(8 * (len(metrics.COUNTERS) - 1)))
    first = metrics.Metrics(tmp_path)
    first.count("registry.get", 2)
    second = metrics.Metrics(tmp_path)
    assert second.totals()["registry.get"] == first.totals()["registry.get"] == 7
    assert earlier.stat().st_size == 8 * len(metrics.COUNTERS)


def test_unknown_counter_is_a_bug_not_a_new_name():
    with pytest.raises(KeyError):
        metrics.Metrics("").count("registry.gett")


# The collector may run in a thread that holds the counters' lock: from CPython 3.12 a collection runs at the
# eval-breaker check of whichever thread comes next, e.g. right after its acquire() in count() returned. A gc
# callback that waits for that lock then waits forever (review 69b, notebook 11). Part 1 makes that moment
# happen on any version (the sure check); part 2 is the reviewer's pattern, which hangs 3.12.1 in most runs.
DEADLOCK_SCRIPT = """
import faulthandler, gc, sys, threading, time, types
folder, seconds, root = sys.argv[1], float(sys.argv[2]), sys.argv[3]
faulthandler.dump_traceback_later(seconds + 20, exit=True)  # a hang: every thread's stack, exit status 1
sys.path.insert(0, root)
try:
    import psutil  # noqa: F401
except ImportError:  # another interpreter than the course's: only Metrics.process needs psutil
    sys.modules["psutil"] = types.ModuleType("psutil")
from foundations import metrics

m = metrics.Metrics(folder)
gen2 = m.totals()["gc.gen2"]
m._lock.acquire()  # part 1: a collection in the thread that holds the lock
gc.collect()
m._lock.release()
assert m.totals()["gc.gen2"] == gen2 + 1, "the collection under the lock was not counted"

stop, done, gen0 = time.monotonic() + seconds, [], m.totals()["gc.gen0"]
def work():  # part 2: count while allocating (tracked objects: collections get scheduled often)
    junk, n = [], 0
    while time.monotonic() < stop:
        m.count("registry.get")
        m.count_request()
        n += 1
        junk.append([n])
        if len(junk) > 1000:
            junk.clear()
    done.append(n)
def scrape():
    while time.monotonic() < stop:
        m.totals()
threads = [threading.Thread(target=work) for _ in range(4)] + [threading.Thread(target=scrape)]
for t in threads:
    t.start()
for t in threads:
    t.join()
totals = m.totals()
assert totals["registry.get"] == totals["http.requests"] == sum(done), (totals, sum(done))
assert totals["gc.gen0"] > gen0, "no collection counted while the threads allocated"
print(sys.version.split()[0], "counted", sum(done), "collections", [totals[f"gc.gen{g}"] for g in range(3)])
"""


def run_deadlock_script(python: str, folder: Path, seconds: float = 2.0) -> subprocess.CompletedProcess:
    root = str(Path(metrics.__file__).resolve().parents[1])
    return subprocess.run(
        [python, "-c", DEADLOCK_SCRIPT, str(folder), str(seconds), root],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )


def test_a_collection_in_a_thread_that_holds_the_lock_does_not_deadlock(tmp_path):
    done = run_deadlock_script(sys.executable, tmp_path)
    assert done.returncode == 0 and "counted" in done.stdout, done.stdout + done.stderr[-3000:]


def python_312() -> str | None:
    """A CPython 3.12 on this machine, if any: there a collection runs in whichever thread checks next."""
    home = os.path.expanduser("~")
    found = [
        *sorted(glob.glob(f"{home}/.pyenv/versions/3.12*/bin/python3.12")),
        *sorted(glob.glob(f"{home}/.local/share/uv/python/cpython-3.12*/bin/python3.12")),
        shutil.which("python3.12"),  # may be a pyenv shim that refuses to run: tried below
    ]
    for python in filter(None, found):
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True
        )
        if version.stdout.strip() == b"(3, 12)":
            return python
    return None


def test_the_counters_do_not_deadlock_on_python_312(tmp_path):
    python = python_312()
    if python is None:
        pytest.skip("no CPython 3.12 found (python3.12 on PATH, ~/.pyenv/versions, ~/.local/share/uv/python)")
    done = run_deadlock_script(python, tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("3.12."), done.stdout + done.stderr[-3000:]


# --- real server, several workers ----------------------------------------------------------------


def test_two_workers_totals_equal_requests_sent(cfg, tmp_path):
    sent = 3000
    client = redis.Redis.from_url(cfg.redis_url)
    client.set("api:t11-load", "x")
    with production.start(cfg, "--metrics-dir", str(tmp_path), workers=2) as api:
        before = production.debug_vars(api.url)
        # A new connection per request (the book's `ab`): granian's workers take turns accepting them.
        statuses = bench.load(
            api.url + "/get?key=t11-load", requests=sent, concurrency=16, keepalive=False
        ).statuses
        variables = production.debug_vars(api.url)
        _, text = net.http_get(api.url + "/metrics")
    client.delete("api:t11-load")
    assert statuses == {200: sent}
    # Each worker's own file holds part of the count: the sum is only right if both are read.
    counts = [
        int.from_bytes(f.read_bytes()[:8], "little", signed=True) for f in tmp_path.glob("worker-*.bin")
    ]
    assert len(counts) == 2 and all(c > 0 for c in counts), counts
    assert sorted(w["registry.get"] for w in metrics.per_worker(tmp_path).values()) == sorted(counts)
    assert variables["registry.get"] == sum(counts) == sent
    own = variables["worker"]  # the answering worker's part: what a per-process expvar would have said
    assert (
        own["registry.get"] in counts
        and own["registry.get"] < sent
        and own["pid"] in metrics.per_worker(tmp_path)
    )
    assert before["registry.get"] == 0
    # requests between the two scrapes: the load, plus the first scrape itself (counted as it arrives)
    assert variables["http.requests"] - before["http.requests"] == sent + 1
    assert variables["process"]["workers"] == 2
    found = samples(text.decode())
    assert found[("foundations_registry_calls_total", (("operation", "get"),))] == sent
    assert found[("foundations_http_requests_total", ())] == variables["http.requests"] + 1
    assert found[("foundations_workers", ())] == 2


def test_watch_polls_until_the_load_is_over_and_sees_its_end(cfg):
    with production.start(cfg) as api:
        driver = threading.Thread(
            target=bench.load, args=(api.url + "/hello", 300), kwargs={"concurrency": 2}
        )
        driver.start()
        samples = production.watch(api.url, seconds=60, interval=0.05, until=lambda: not driver.is_alive())
        driver.join()
    assert samples[-1]["t"] < 60 and len(samples) >= 1
    assert samples[-1]["http.requests"] >= 300  # the last poll came after the last request


def test_watch_keeps_polling_past_the_end_until_it_has_enough_polls(cfg):
    with production.start(cfg) as api:
        samples = production.watch(api.url, seconds=60, interval=0.01, until=lambda: True, at_least=5)
    assert len(samples) == 5 and samples[-1]["t"] < 60


def test_access_log_has_each_request_with_its_duration(cfg):
    with production.start(cfg, "--access-log", "true") as api:
        bench.load(api.url + "/hello?name=log", requests=3, concurrency=1)
        time.sleep(0.3)  # granian's log is written by the worker; give it a moment
        log = api.output()
    lines = [line for line in log.splitlines() if '"GET /hello HTTP/1.1" 200' in line]
    assert len(lines) == 3, log[-500:]
    assert all(line.endswith(" ms") and float(line.split()[-2]) >= 0 for line in lines)


def test_no_access_log_by_default(cfg):
    with production.start(cfg) as api:
        bench.load(api.url + "/hello", requests=2, concurrency=1)
        time.sleep(0.3)
        assert '"GET /hello' not in api.output()


def test_sigterm_lets_in_flight_requests_finish(own_redis):
    stopped = production.stop_mid_request(own_redis, stall=1.5)
    assert stopped["status"] == 200 and json.loads(stopped["body"]) == "finished", stopped
    assert stopped["stop_seconds"] >= 0.5, "the server exited before its in-flight request was done"
    assert not stopped["pid_alive"]
    assert "shutdown completed" in stopped["log"]  # the loop server's last line (granian's ends the same)
