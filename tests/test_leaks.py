"""Nothing leaks, nothing runs as root: a test run killed with SIGKILL leaves no daemon behind (and the next
run removes what it left on disk), a daemon that never gets ready is stopped, and Redis and MariaDB started
by root run as users of their own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foundations import config, net, pids, state
from foundations.errors import ServiceError
from foundations.ops import daemons, harness, services

ROOT = config.REPO_ROOT
WAITING_TEST = """
import os, time

def test_wait():
    with open(os.environ["READY_MARKER"], "w") as marker:
        marker.write(os.environ["FOUNDATIONS_STATE_DIR"])
    time.sleep(120)
"""


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
def test_a_test_run_killed_with_sigkill_leaves_no_daemon(tmp_path):
    (tmp_path / "test_wait.py").write_text(WAITING_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    marker = tmp_path / "ready"
    env = config.child_environ(READY_MARKER=str(marker), PYTHONPATH=str(ROOT))  # no FOUNDATIONS_*: its own
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "-q",
            str(tmp_path / "test_wait.py"),
        ],
        cwd=ROOT,
        env=env,
        stdout=(output := (tmp_path / "child.log").open("w")),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the conftest of the child run starts all five services first
            if run.poll() is not None or time.monotonic() > deadline:
                output.close()
                pytest.fail(
                    f"the child test run never started (exit {run.poll()}); its output ends:\n"
                    + (tmp_path / "child.log").read_text()[-3000:]
                )
            time.sleep(0.1)
        state_dir = Path(marker.read_text())
        started = state.read(state_dir)["processes"]
        members = [pid for proc in started.values() for pid in group_members(proc["pid"])]
        assert set(started) == set(services.SERVICES) and all(members)
    finally:
        run.send_signal(signal.SIGKILL)  # no cleanup code of the run gets to run
        run.wait()
        output.close()
    deadline = time.monotonic() + 5
    while (left := [pid for pid in members if pids.alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"still running 5 s after the SIGKILL: {left}"
    # what it left on disk: the next run (harness.temporary) reaps it
    assert state_dir.exists() and state_dir in harness.reap_orphans()
    assert not state_dir.exists()


def test_a_server_log_directory_is_claimed_and_reaped_once_its_owner_is_gone(tmp_path):
    from foundations import processes

    with processes.start_module("foundations.routing", "hello") as server:
        owner = json.loads((server.log_path.parent / pids.OWNER_FILE).read_text())
    assert owner["pid"] == os.getpid()
    orphan = tmp_path / "foundations-server-x"
    orphan.mkdir()
    (orphan / pids.OWNER_FILE).write_text('{"pid": 999999999, "cmdline": "gone"}')  # SIGKILLed
    assert harness.reap_orphans(tmp_path) == [orphan] and not orphan.exists()


def test_reaping_leaves_the_directories_of_live_runs(tmp_path):
    live = tmp_path / "foundations-live"
    live.mkdir()
    (live / pids.OWNER_FILE).write_text(f'{{"pid": {os.getpid()}, "cmdline": "python"}}')
    assert harness.reap_orphans(tmp_path) == [] and live.exists()


def test_a_daemon_that_never_gets_ready_is_recorded_then_stopped(tmp_path, monkeypatch):
    cfg = config.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{net.free_port()}/0"],
        environ={},
    )
    seen = []

    def never_ready(cfg, name, state_dir, pid):
        seen.append((pid, state.read_raw(state_dir)["processes"][name]["pid"]))  # recorded at spawn
        raise ServiceError("not ready")

    monkeypatch.setattr(services, "_wait_ready", never_ready)
    with pytest.raises(ServiceError, match="not ready"):
        services.up(cfg, ["redis"], local=True, log=lambda line: None)
    ((pid, recorded),) = seen
    assert pid == recorded and not pids.runs(pid, "redis-server")
    assert state.read_raw(tmp_path)["processes"] == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="started by a normal user, daemons run as that user")
def test_daemons_started_by_root_do_not_run_as_root(cfg):
    processes = state.read(cfg.state_dir)["processes"]
    owners = {}
    for name in ("redis", "redis1", "redis2", "mysql"):
        status = Path(f"/proc/{processes[name]['pid']}/status").read_text()
        owners[name] = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert 0 not in owners.values(), owners
    assert oct(Path(cfg.state_dir, "mariadb").stat().st_mode & 0o777) == "0o700"


def test_no_user_to_run_as_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(daemons.os, "geteuid", lambda: 0)
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setattr(daemons.pwd, "getpwnam", lambda name: (_ for _ in ()).throw(KeyError(name)))
    with pytest.raises(ServiceError, match=r"refusing to run mysql as root.*useradd --system"):
        daemons.run_as("mysql")
    assert daemons.run_as("api") is None  # the API server runs as whoever starts it
