"""Servers as separate processes: started on a free port, waited on, their output readable, stopped by PID."""

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from foundations import net, pids, processes
from foundations.errors import ServiceError


def test_a_server_answers_logs_requests_and_is_gone_afterwards():
    with processes.start_module("foundations.routing", "hello") as hello:
        assert hello.running and hello.url == f"http://127.0.0.1:{hello.port}"
        assert "Starting server on 127.0.0.1:" in hello.new_output()
        assert net.http_get(hello.url + "/anything") == (200, b"Hello world!")
        assert hello.new_output(settle=0.2) == "Request: /anything\n"
        assert hello.new_output(settle=0) == ""  # only what is new
        pid, log_dir = hello.pid, hello.log_path.parent
    assert not hello.running and not Path(f"/proc/{pid}").exists()
    assert not log_dir.exists() and hello.output() == ""
    hello.stop()  # a second stop is harmless


def test_a_server_that_exits_at_once_is_reported_with_its_log():
    with pytest.raises(ServiceError, match=r"broken on 127\.0\.0\.1:\d+ exited.*Log .*: oops"):
        processes.start([sys.executable, "-c", "print('oops'); raise SystemExit(3)"], "broken", timeout=5)
    assert "broken" not in [server.name for server in processes._started]


def test_stop_all_stops_every_server_still_running():
    first = processes.start_module("foundations.routing", "hello", name="first")
    second = processes.start_module("foundations.routing", "servemux", name="second")
    assert processes.stop_all() == ["first", "second"]
    assert not first.running and not second.running and processes._started == []
    assert processes.stop_all() == []


def test_a_given_port_is_used():

    port = net.free_port()
    with processes.start_module("foundations.routing", "hello", port=port) as hello:
        assert hello.port == port and net.port_open("127.0.0.1", port)
    assert not hello.running


def test_stopping_a_server_that_never_started_is_harmless():
    never = processes.Server("never", ["true"], port=1)
    never.stop()
    assert not never.running and never.output() == ""


def test_keep_log_leaves_the_log_readable_after_the_stop():
    with processes.start(
        [sys.executable, "-u", "-m", "foundations.routing", "hello"], "kept", keep_log=True
    ) as hello:
        assert "Starting server" in hello.new_output()
    assert not hello.running and not hello.log_path.exists()
    assert "Starting server" in hello.output()


def test_a_child_that_ends_between_the_reap_and_the_check_is_still_reaped(monkeypatch):
    """CI on c251d4a: a server ended right after the stop's non-blocking waitpid, so it was seen gone but
    left a zombie in /proc. The stand-in for ``alive`` lets the child end at exactly that moment."""
    child = subprocess.Popen(["sleep", "0.2"])
    real_alive = pids.alive

    def alive_once_it_has_ended(pid: int) -> bool:
        while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
        return real_alive(pid)

    monkeypatch.setattr(pids, "alive", alive_once_it_has_ended)
    assert pids._exits(child.pid, within=5)
    assert not Path(f"/proc/{child.pid}").exists()
