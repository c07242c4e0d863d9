"""Installing the services' system packages: once, waiting for a held dpkg lock, never abandoned, and with
the repair command when apt-get fails.

apt-get here is a fake first on the PATH (a shell script): it records its calls and "installs" a package by
creating an executable of the package's name, after a pause that gives other processes time to collide."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foundations.errors import CommandError, ServiceError
from foundations.ops import packages

FAKE_APT = """#!/bin/sh
echo "$*" >> {calls}
case "$*" in *" install "*)
  if [ -e {interrupt} ]; then kill -INT $PPID; fi
  sleep {seconds}
  if [ -e {fail} ]; then echo "E: dpkg was interrupted, you must manually run 'dpkg --configure -a'" >&2; exit 100; fi
  for arg in "$@"; do case "$arg" in -*|install|DPkg*) ;; *) printf '#!/bin/sh\\n' > {bin}/"$arg"; chmod +x {bin}/"$arg";; esac; done
  touch {done};;
esac
"""
SERVER = {"fake-server": "fake-server"}  # binary -> package: the fake apt-get creates the binary


@pytest.fixture
def apt(tmp_path, monkeypatch):
    """A root on Debian whose apt-get is the fake; returns its folder (calls, done, fail)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = FAKE_APT.format(
        calls=tmp_path / "calls",
        seconds=1,
        fail=tmp_path / "fail",
        interrupt=tmp_path / "interrupt",
        bin=bin_dir,
        done=tmp_path / "done",
    )
    (bin_dir / "apt-get").write_text(script)
    (bin_dir / "apt-get").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(packages, "can_install", lambda: True)
    monkeypatch.setattr(packages, "INSTALL_LOCK", tmp_path / "install.lock")
    monkeypatch.setattr(packages, "DPKG_LOCKS", (tmp_path / "lock-frontend",))
    (tmp_path / "lock-frontend").touch()
    return tmp_path


def calls(apt: Path) -> list[str]:
    return (apt / "calls").read_text().splitlines() if (apt / "calls").exists() else []


def installs(apt: Path) -> list[str]:
    return [call for call in calls(apt) if " install " in call]


def _ensure_logging_to(path: Path) -> None:
    with open(path, "a") as log:
        packages.ensure(log=lambda line: print(line, file=log, flush=True), required=SERVER, optional={})


def test_two_processes_at_once_install_once(apt):
    """Two test workers (or a test run beside `make lab`) that both miss a package: one apt-get install;
    the other waits for it, says so, and finds the package there."""
    fork = multiprocessing.get_context("fork")
    workers = [fork.Process(target=_ensure_logging_to, args=(apt / f"log{n}",)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0, 0]
    assert installs(apt) == ["-o DPkg::Lock::Timeout=600 install -y -qq fake-server"]
    logs = (apt / "log1").read_text() + (apt / "log2").read_text()
    assert "installing fake-server" in logs and "waiting for it" in logs
    assert packages.which("fake-server")


def _hold_with_flock(lock: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(["flock", str(lock), "sleep", str(seconds)])


def _hold_with_fcntl(lock: Path, seconds: float) -> subprocess.Popen:
    """As dpkg and apt-get hold their locks (fcntl)."""
    code = f"import fcntl, time; f = open({str(lock)!r}, 'w'); fcntl.lockf(f, fcntl.LOCK_EX); time.sleep({seconds})"
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.parametrize("hold", [_hold_with_flock, _hold_with_fcntl], ids=["flock", "fcntl"])
def test_a_held_dpkg_lock_is_waited_for_and_named(apt, hold):
    lock = apt / "lock-frontend"
    holder = hold(lock, 2)
    try:
        deadline = time.monotonic() + 10
        while packages.lock_holder(lock) is None:
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)
        lines: list[str] = []
        packages.ensure(log=lines.append, required=SERVER, optional={})
        assert holder.poll() is not None, "apt-get ran while the lock was held"
    finally:
        holder.kill()
        holder.wait()
    assert any(f"{lock} is held by process {holder.pid}" in line for line in lines), lines
    assert len(installs(apt)) == 1


def test_a_free_lock_has_no_holder(tmp_path):
    (tmp_path / "free").touch()
    assert packages.lock_holder(tmp_path / "free") is None
    assert packages.lock_holder(tmp_path / "absent") is None


def test_a_failed_install_gives_the_command_that_repairs(apt):
    (apt / "fail").touch()
    with pytest.raises(CommandError) as failed:
        packages.ensure(log=lambda line: None, required=SERVER, optional={})
    assert "dpkg was interrupted" in str(failed.value)
    assert "sudo dpkg --configure -a && sudo apt-get install -y fake-server" in str(failed.value)


def _ensure_then_exit(log: Path) -> None:
    os.setpgid(0, 0)  # a foreground process group of its own, as a terminal gives `make test`
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt
    try:
        _ensure_logging_to(log)
    except KeyboardInterrupt:
        os._exit(130)
    os._exit(0)


@pytest.mark.parametrize("when", ["while it runs", "as it starts"])
def test_ctrl_c_during_the_install_waits_for_apt_get_to_finish(apt, when):
    """Ctrl-C reaches the whole foreground process group: apt-get, in a session of its own, is not hit, and
    our process waits for it before it stops, so dpkg is never left half-configured. "as it starts": the
    fake apt-get interrupts us the moment it runs, while we may still be inside Popen."""
    if when == "as it starts":
        (apt / "interrupt").touch()
    child = multiprocessing.get_context("fork").Process(target=_ensure_then_exit, args=(apt / "log",))
    child.start()
    if when == "while it runs":
        deadline = time.monotonic() + 10
        while not installs(apt):
            assert time.monotonic() < deadline, "apt-get install never started"
            time.sleep(0.02)
        os.killpg(child.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    child.join(30)
    assert child.exitcode == 130, "the interrupt was swallowed"
    assert (apt / "done").exists(), "apt-get was abandoned halfway"
    assert "waiting for it to finish" in (apt / "log").read_text()


def test_the_install_lock_is_never_a_link_someone_planted(apt):
    (apt / "elsewhere").write_text("root must not open this")
    packages.INSTALL_LOCK.symlink_to(apt / "elsewhere")
    with pytest.raises(OSError):
        packages.ensure(log=lambda line: None, required=SERVER, optional={})
    assert not installs(apt)


def test_without_root_a_missing_server_says_how_to_install(monkeypatch):
    monkeypatch.setattr(packages, "which", lambda binary: None)
    monkeypatch.setattr(packages, "can_install", lambda: False)
    with pytest.raises(
        ServiceError, match="apt-get install -y redis-server mariadb-server.*brew install.*dnf"
    ):
        packages.ensure(log=lambda line: None)


def test_without_root_missing_load_generators_are_not_an_error(monkeypatch):
    monkeypatch.setattr(
        packages, "which", lambda binary: None if binary in packages.LOAD_GENERATORS else binary
    )
    monkeypatch.setattr(packages, "can_install", lambda: False)
    packages.ensure(log=lambda line: None)


def test_a_load_generator_apt_cannot_install_is_not_fatal(apt):
    (apt / "fail").touch()
    lines: list[str] = []
    packages.ensure(log=lines.append, required={}, optional={"fake-wrk": "fake-wrk"})
    assert installs(apt) and "built-in load generator" in lines[-1]


def test_what_is_there_is_not_installed_again(apt):
    packages.ensure(log=lambda line: None, required=SERVER, optional={})
    packages.ensure(log=lambda line: None, required=SERVER, optional={})
    assert len(installs(apt)) == 1
