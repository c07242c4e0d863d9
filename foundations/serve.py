"""``python -m foundations serve``: ``server.py``'s applications with chapter 11's access log, timeouts and
shared metrics. By default (``--interface loop``) one thread of this process serves the pipelined app
(``loopserver``); with several workers, granian's RSGI worker processes serve it. ``--interface rsgi``: granian
for one worker too; ``--interface wsgi``: granian's threads and the WSGI app.

This process imports granian only where granian serves, and the application only where it runs (a worker,
or this process for one): chapter 10 measures the server's memory.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from foundations import config
from foundations.errors import ConfigError, ServiceError

FAST_APP = "foundations.server:fast_app_from_environment"
WSGI_APP = "foundations.server:app_from_environment"
# granian's access log (chapter 11): who, what, status, and how long the request took.
ACCESS_LOG_FORMAT = '%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).2f ms'
# After SIGTERM a worker has this long to finish its in-flight requests, then it is killed. Without a limit
# granian waits forever for a worker that was still starting when the signal came (stop() then SIGKILLs it).
WORKER_GRACE_SECONDS = 5
# Slow clients: a client has this long to send a request head, and an idle keep-alive connection is closed
# after it (granian's http1 header_read_timeout; its default is 30 s). Request bodies have no timeout in
# granian 2.8: web.App bounds their size, and behind nginx client_body_timeout bounds a trickling client.
HEADER_READ_TIMEOUT_MS = 10_000


def serve(cfg: config.Config) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then return."""
    from foundations import metrics, net

    if cfg.interface == "loop" and cfg.threads:
        raise ConfigError("--threads is for --interface rsgi or wsgi: the loop server runs on one thread")
    if net.port_open(cfg.host, cfg.port, timeout=0.2):
        raise ServiceError(f"{cfg.host}:{cfg.port} is taken by another program: stop it or pass --port")
    # Chapter 11: the workers share their counters through files in one directory per server.
    own_dir = "" if cfg.metrics_dir else tempfile.mkdtemp(prefix="foundations-metrics-")
    cfg = dataclasses.replace(cfg, metrics_dir=cfg.metrics_dir or own_dir)
    metrics.prepare(cfg.metrics_dir, cmdline=[sys.executable, *sys.argv])
    os.environ.update(config.as_environ(cfg))  # granian's workers resolve the same settings from here
    print(f"serving on http://{cfg.host}:{cfg.port} with {cfg.workers} worker(s)", flush=True)
    try:
        if cfg.interface == "loop" and cfg.workers == 1:
            _serve_loop(cfg)
        else:
            _serve_granian(cfg)
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)


def _serve_loop(cfg: config.Config) -> None:
    """One process, one thread: ``loopserver`` runs the pipelined app on a uvloop event loop."""
    from foundations import loopserver
    from foundations.server import fast_app_from_environment

    loopserver.serve(
        fast_app_from_environment(),
        cfg.host,
        cfg.port,
        head_timeout=HEADER_READ_TIMEOUT_MS / 1000,
        grace_seconds=WORKER_GRACE_SECONDS,
        log_access=cfg.access_log,
    )


def _serve_granian(cfg: config.Config) -> None:
    """granian: the WSGI app in threads, or the pipelined app in RSGI workers (processes; one worker of
    ``--interface rsgi`` runs in this process)."""
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    # HTTP/1.1 (and 1.0) only, as the Go server without TLS: no sniffing for HTTP/2. uvloop, as loopserver's:
    # granian's `auto` would take rloop wherever it is installed, and the loop server is compared with this one.
    options: dict[str, Any] = dict(
        loop=Loops.uvloop,
        address=cfg.host,
        port=cfg.port,
        log_access=cfg.access_log,
        log_access_format=ACCESS_LOG_FORMAT,
        http="1",
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        factory=True,
        workers=cfg.workers,
        workers_kill_timeout=WORKER_GRACE_SECONDS,
    )
    if cfg.interface == "wsgi":
        from granian import Granian

        Granian(WSGI_APP, interface=Interfaces.WSGI, blocking_threads=cfg.threads or None, **options).serve()
    elif cfg.workers == 1:
        _serve_embedded({**options, "workers": cfg.threads or 1})
    else:
        from granian import Granian

        Granian(FAST_APP, interface=Interfaces.RSGI, **options).serve()


def _serve_embedded(options: dict[str, Any]) -> None:
    """One worker, one process: granian's thread-worker server runs the RSGI worker in a thread of this
    process, so no supervisor process holds a second Python heap (chapter 10: a third of the memory).
    ``--threads N``: N such worker threads, each with its event loop and its Rust I/O thread, on the one
    listening socket; they share the GIL, not the I/O (chapter 10: ab's connection per request)."""
    from granian.constants import Interfaces
    from granian.server.mt import MTServer

    # MTServer warns that free-threaded Python is experimental; this interpreter has the GIL, and a learner
    # reading that warning at every start would think something is wrong.
    logging.getLogger("_granian").addFilter(lambda record: "free-threaded" not in record.getMessage())

    class OneProcess(MTServer):
        """Made for free-threaded Python; with the GIL, worker threads still overlap granian's Rust I/O."""

        def _check_gil(self) -> None:
            pass

    OneProcess(FAST_APP, interface=Interfaces.RSGI, **options).serve()
