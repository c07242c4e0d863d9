"""Processes by PID, for the servers and daemons every chapter starts: one in a session of its own, alive or
not, still running our program or not, stopped, waited for.

Each is stopped by the PID we recorded, after checking that the PID still runs the program we started.
Processes that belong to a test run or a notebook die with the process that started them
(``die_with_parent``: Linux's ``PR_SET_PDEATHSIG``), so even a SIGKILLed run leaves none behind; the
throwaway directories they leave are ``claim``-ed, so the next run removes them.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from foundations.errors import ServiceError

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
TEMP_PREFIX = "foundations-"
OWNER_FILE = "owner.json"  # in a throwaway directory: the PID and command line of the run it serves


def alive(pid: int) -> bool:
    """True when a process with this PID exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # exists, owned by someone else
        return True


def runs(pid: int, program: str) -> bool:
    """True when ``pid`` is alive and still runs ``program`` (a PID can be reused after a reboot)."""
    if not alive(pid):
        return False
    try:
        return program in " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process (macOS hides their command lines): trust the PID
        return True


def listens(pid: int, port: int) -> bool:
    """True when ``pid``, or a process it started, holds a listening TCP socket on ``port``: the server that
    answers there is the one we started, not another user's that took the port first. True when we may not
    look (not our process, and we are not root): then an answer is all there is to go on."""
    try:
        tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        sockets = [s for proc in tree for s in proc.net_connections(kind="tcp")]
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return any(s.status == psutil.CONN_LISTEN and s.laddr.port == port for s in sockets)


def _die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to send ``sig`` to the child when the thread that started it ends
    (``PR_SET_PDEATHSIG``; it runs after Popen's setuid, which would otherwise clear it). Elsewhere: None."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    cmd: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    die_with_parent: bool = False,
    user: pwd.struct_passwd | None = None,
) -> int:
    """Start ``cmd`` in its own session with output to ``log_path``; returns its PID. ``die_with_parent``:
    it gets SIGTERM when this process (the calling thread) dies, even of SIGKILL. ``user``: run it as them
    (we must be root); ``cwd`` is entered before the switch, so it may lie below directories they cannot
    open."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    ids: dict[str, Any] = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
            preexec_fn=_die_with_parent() if die_with_parent else None,
            **ids,
        )
    return proc.pid


def stop(pid: int, program: str, timeout: float = 10.0) -> None:
    """SIGTERM ``pid`` if it still runs ``program`` and wait; SIGKILL it after ``timeout``. Then SIGKILL
    whatever is left of its process group, so no worker outlives it.

    Only the leader gets SIGTERM: a server's master stops its own workers in order. Signalling the whole
    group races with a worker that is still starting, and the master can then hang until the SIGKILL and
    never run its own cleanup."""
    if not runs(pid, program):
        return
    steps: tuple[tuple[Callable[[], None], float], ...] = (
        (lambda: os.kill(pid, signal.SIGTERM), timeout),
        (lambda: os.killpg(pid, signal.SIGKILL), 2.0),
    )
    for send, wait in steps:
        try:
            send()
        except ProcessLookupError:
            break
        if _exits(pid, wait):
            break
    try:
        os.killpg(pid, signal.SIGKILL)  # stragglers; the group id stays reserved while any member lives
    except ProcessLookupError:
        pass


def _exits(pid: int, within: float) -> bool:
    """Wait up to ``within`` seconds for ``pid`` to end (reaping it if it is our child)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            # reaped after it was seen gone: a waitpid before the check would miss an end between the two
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return True
        time.sleep(0.02)
    return False


def log_tail(log_path: Path, lines: int = 3) -> str:
    """The last ``lines`` lines of a log, joined with `` | `` for a one-line error message."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return " | ".join(text.strip().splitlines()[-lines:])


def wait_until(
    ready: Callable[[], object], pid: int, what: str, log_path: Path, timeout: float = 30.0
) -> None:
    """Poll ``ready()`` until it stops raising; fail early, with the log's tail, if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
        if not alive(pid) or time.monotonic() > deadline:
            state = "exited" if not alive(pid) else f"not ready after {timeout:.0f} s"
            raise ServiceError(f"{what} {state}: {last}. Log {log_path}: {log_tail(log_path)}")
        time.sleep(0.05)


def claim(directory: Path) -> None:
    """Mark a throwaway ``foundations-*`` directory as this process's (``ops.harness.reap_orphans`` removes
    it once we are gone)."""
    owner = {"pid": os.getpid(), "cmdline": " ".join(psutil.Process().cmdline())}
    (directory / OWNER_FILE).write_text(json.dumps(owner))
