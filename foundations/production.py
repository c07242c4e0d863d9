"""Chapter 11: the production server as an operator meets it - a real process, configured from outside,
loaded, watched through ``/debug/vars``, and stopped with SIGTERM the way a process manager stops it.

    >>> with start(cfg, workers=2) as api:        # python -m foundations serve --workers 2 --port N
    ...     bench.load(api.url + "/get?key=name", requests=1000, concurrency=8)
    ...     debug_vars(api.url)["registry.get"]
    1000
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import redis

from foundations import config, metrics, net, pids, processes
from foundations.config import Config
from foundations.errors import CommandError, ServiceError
from foundations.processes import Server

MODULE = [sys.executable, "-m", "foundations"]  # `python -m foundations`; pass [python, "api.pyz"] instead
# The book's table, with our prefix: (what was typed, extra arguments, extra environment).
PRECEDENCE_CASES: tuple[tuple[str, list[str], dict[str, str]], ...] = (
    ("run", [], {}),
    ("--port=80", ["--port=80"], {}),
    ("PORT=80", [], {"PORT": "80"}),
    ("FOUNDATIONS_PORT=80", [], {"FOUNDATIONS_PORT": "80"}),
)


def config_dump(
    args: list[str] | None = None,
    environ: dict[str, str] | None = None,
    command: list[str] | None = None,
    cwd: str | None = None,
) -> dict:
    """Run ``<command> config <args>`` (the server's own resolution) in a child process; its JSON."""
    done = subprocess.run(
        [*(command or MODULE), "config", *(args or [])],
        capture_output=True,
        text=True,
        env=environ if environ is not None else config.child_environ(),
        cwd=cwd,
        timeout=60,
    )
    if done.returncode:
        raise CommandError(f"`config {' '.join(args or [])}` exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def precedence_table(
    command: list[str] | None = None, cwd: str | None = None, environ: dict[str, str] | None = None
) -> list[dict]:
    """The book's four runs (``run``, ``--port=80``, ``PORT=80``, ``FOUNDATIONS_PORT=80``), each a real child;
    ``environ``: more variables for every run (``SHIV_ROOT``: where an archive unpacks)."""
    rows = []
    for typed, args, env in PRECEDENCE_CASES:
        port = config_dump(args, config.child_environ(None, **env, **(environ or {})), command, cwd)["port"]
        rows.append({"how": typed, "port": port["value"], "source": port["source"]})
    return rows


def start(
    cfg: Config,
    *args: str,
    workers: int = 1,
    command: list[str] | None = None,
    environ: dict[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 30.0,
) -> Server:
    """``serve --host 127.0.0.1 --workers N *args --port <free>`` with ``cfg``'s settings; waits for /healthz
    and for every worker to have started."""
    cmd = [*(command or MODULE), "serve", "--host", "127.0.0.1", "--workers", str(workers), *args]
    env = config.child_environ(cfg, **{config.ENV_PREFIX + "METRICS_DIR": ""}, **(environ or {}))
    return processes.start(
        cmd,
        "API server",
        timeout=timeout,
        env=env,
        cwd=cwd,
        ready=lambda url: _healthy(url, workers),
        keep_log=True,
    )


def _healthy(url: str, workers: int) -> None:
    """Raise until /healthz answers 200 and all ``workers`` run: a stop that lands while a worker is still
    starting costs that worker's whole grace period."""
    status, body = net.http_get(url + "/healthz")
    if status != 200:
        raise ServiceError(f"/healthz answered {status}: {body[:100]!r}")
    started = debug_vars(url)["process"]["workers"]
    if started < workers:
        raise ServiceError(f"{started} of {workers} workers started")


def debug_vars(url: str) -> dict:
    """``GET /debug/vars`` as a dict."""
    status, body = net.http_get(url.rstrip("/") + "/debug/vars")
    if status != 200:
        raise ServiceError(f"/debug/vars answered {status}: {body[:200]!r}")
    return json.loads(body)


def watch(
    url: str,
    seconds: float,
    interval: float = 0.1,
    until: Callable[[], bool] | None = None,
    at_least: int = 1,
) -> list[dict]:
    """Poll ``/debug/vars`` for ``seconds``, or until ``until()`` is true and one last poll has seen the end,
    and ``at_least`` polls were made (on a fast machine a load can end after a few): one sample per poll, with
    ``t`` (seconds since the first)."""
    samples, start = [], time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        done = until is not None and until()
        samples.append({"t": now - start, **debug_vars(url)})
        if done and len(samples) >= at_least:
            break
        time.sleep(interval)
    return samples


def stop_mid_request(
    cfg: Config, key: str = "slow", stall: float = 1.5, workers: int = 1, clients: int = 1
) -> dict:
    """SIGTERM a fresh server (``workers`` of them) while a ``/get`` is in flight, as ``docker stop`` would: ``DEBUG
    SLEEP`` stalls ``cfg``'s Redis for ``stall`` s, a ``/get?key=`` waits on it, and SIGTERM comes 0.5 s into
    the stall. Returns what the client got (``status`` and ``body``, or ``error`` when the connection was
    cut), whether a new connection made after the SIGTERM was accepted (``new_connection_accepted``), how long
    the server took to exit after the SIGTERM (``stop_seconds``) and its log. It stalls the whole Redis:
    give it one of its own, never a shared one. With ``clients`` > 1, that many ``/get``s wait at once (spread
    over the workers), and ``statuses`` holds each one's status (``None``: cut). ``gets_per_worker``: how many
    ``/get``s each worker held at the SIGTERM, read from its own counter file (``metrics.per_worker``)."""
    redis.Redis.from_url(cfg.redis_url).set(f"api:{key}", "finished")
    counters = tempfile.TemporaryDirectory(prefix="foundations-stop-")  # the workers' counter files
    # the stalled GET waits instead of a 503
    api = start(cfg, "--redis-timeout", str(stall + 5), "--metrics-dir", counters.name, workers=workers)
    answers: list[dict] = [{} for _ in range(clients)]  # each client's; the first is the one reported whole
    stopped: dict = {}

    def stall_redis() -> None:
        stalled = redis.Redis.from_url(cfg.redis_url, socket_timeout=stall + 5)
        stalled.execute_command("DEBUG", "SLEEP", str(stall))

    def slow_get(answer: dict) -> None:
        try:
            answer["status"], answer["body"] = net.http_get(f"{api.url}/get?key={key}", timeout=stall + 10)
        except ServiceError as exc:  # the server closed the connection before it answered
            answer["status"], answer["error"] = None, str(exc.__cause__ or exc)

    threads = [threading.Thread(target=stall_redis)]
    threads += [threading.Thread(target=slow_get, args=(answer,)) for answer in answers]
    try:
        threads[0].start()
        time.sleep(0.2)  # the stall has begun ...
        for thread in threads[1:]:
            thread.start()
        time.sleep(0.3)  # ... and the /get is waiting on it
        # which worker holds it: each counts registry.get before it asks Redis
        stopped["gets_per_worker"] = [w["registry.get"] for w in metrics.per_worker(counters.name).values()]
        started = time.monotonic()
        os.kill(api.pid, signal.SIGTERM)  # what stop() sends first
        time.sleep(0.1)
        stopped["new_connection_accepted"] = net.port_open("127.0.0.1", api.port, timeout=0.5)
        api.stop(timeout=stall + 10)  # returns once the server has exited (SIGKILL only after the timeout)
        stopped["stop_seconds"] = time.monotonic() - started
        for thread in threads:
            thread.join(stall + 10)
    finally:
        api.stop()
        counters.cleanup()
    statuses = [answer.get("status") for answer in answers]
    return {
        **answers[0],
        **stopped,
        "statuses": statuses,
        "pid_alive": pids.alive(api.pid),
        "log": api.output(),
    }
