"""Chapters 5, 6, 10 and 11: run a server as a separate process, wait until it answers, stop it by PID; and
run a command to its end, its failure an error that quotes what it printed (``run``).

Servers never run as threads inside a Jupyter kernel: their output would land in whichever cell runs next
and break nbval. Here each server is a child process in a session of its own, its output goes to a log file
the notebook can read (the book's console), and it is stopped by the PID we recorded.

    >>> with processes.start_module("foundations.routing", "hello") as hello:
    ...     net.http_get(hello.url + "/")
    (200, b'Hello world!')
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundations import net, pids
from foundations.errors import CommandError, ServiceError


def run(cmd: list[str], what: str = "", tail: int = 600, **kwargs: Any) -> str:
    """Run ``cmd`` to its end and return its stdout; a non-zero exit raises ``CommandError`` with the last
    ``tail`` characters of what it printed (stderr, else stdout). ``what`` names it (default: the command)."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        output = (done.stderr.strip() or done.stdout.strip())[-tail:]
        raise CommandError(f"{what or '`' + ' '.join(cmd) + '`'} failed (exit {done.returncode}): {output}")
    return done.stdout


_started: list[Server] = []  # what this interpreter started and still runs, so stop_all() and exit clean up


@dataclass
class Server:
    """A server process we started: where it listens, its PID, and what it printed."""

    name: str
    cmd: list[str]
    port: int
    pid: int = 0
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix=pids.TEMP_PREFIX + "server-")) / "out.log"
    )
    keep_log: bool = False  # True: output() still answers after stop() (to read how a server shut down)
    _read: int = 0
    _final: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.pid > 0 and pids.alive(self.pid)

    def output(self) -> str:
        """Everything the server printed so far (after a stop: what it printed, if ``keep_log``)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else self._final

    def new_output(self, settle: float = 0.05) -> str:
        """What the server printed since the last call (after ``settle`` seconds for it to flush)."""
        time.sleep(settle)
        text = self.output()
        fresh, self._read = text[self._read :], len(text)
        return fresh

    def stop(self, timeout: float = 10.0) -> None:
        """Stop it by PID: SIGTERM (a graceful server finishes its requests), SIGKILL after ``timeout``, and
        no process of its group left. The log file is removed; with ``keep_log`` its text stays in memory."""
        if self.pid:
            # pids.stop checks the PID still runs our command line before it signals anything
            pids.stop(self.pid, f"--port {self.port}", timeout=timeout)
        if self in _started:
            _started.remove(self)
        if self.keep_log and self.log_path.exists():
            self._final = self.output()
        shutil.rmtree(self.log_path.parent, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listens(port: int) -> None:
    """Raise until something accepts connections on ``port``. A bare connect, not a GET: the server's
    log then shows only the requests the notebook makes (requests queue in the backlog until it serves)."""
    if not net.port_open("127.0.0.1", port, timeout=1.0):
        raise ServiceError(f"nothing listens on 127.0.0.1:{port} yet")


def start(
    cmd: list[str],
    name: str,
    port: int | None = None,
    timeout: float = 20.0,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    ready: Callable[[str], object] | None = None,
    keep_log: bool = False,
) -> Server:
    """Run ``cmd + ["--port", port]`` (a free port unless given) and wait until it listens, or until
    ``ready(url)`` stops raising (e.g. an API's /healthz)."""
    port = port or net.free_port()
    server = Server(name, [*cmd, "--port", str(port)], port, keep_log=keep_log)
    pids.claim(server.log_path.parent)  # if we are SIGKILLed, the next test run removes it
    server.pid = pids.spawn(server.cmd, server.log_path, env, cwd, die_with_parent=True)  # dies with us
    _started.append(server)
    check = (lambda: ready(server.url)) if ready else (lambda: _listens(port))
    try:
        pids.wait_until(check, server.pid, f"{name} on 127.0.0.1:{port}", server.log_path, timeout=timeout)
    except ServiceError:
        server.stop()
        raise
    return server


def start_module(module: str, *args: str, name: str | None = None, port: int | None = None) -> Server:
    """``python -u -m module *args --port N`` (unbuffered, so its log shows requests as they arrive)."""
    return start([sys.executable, "-u", "-m", module, *args], name or " ".join((module, *args)), port)


def stop_all() -> list[str]:
    """Stop every server this interpreter started and still runs; the names of those stopped."""
    names = [server.name for server in _started]
    for server in list(_started):
        server.stop()
    return names


atexit.register(stop_all)  # a kernel restart must not leave servers behind
