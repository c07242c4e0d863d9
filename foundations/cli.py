"""``python -m foundations``: services, serve, doctor and config, with one-line errors instead of tracebacks."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

from foundations import config
from foundations.errors import FoundationsError, ServiceError
from foundations.workshop import command as workshop_command

# Each command imports the modules it needs when it runs: `serve` runs the API server in this process, which
# then holds no module of the other commands (chapter 10: the server's memory).

# granian's access log (chapter 11): who, what, status, and how long the request took.
ACCESS_LOG_FORMAT = '%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).2f ms'
# After SIGTERM a worker has this long to finish its in-flight requests, then it is killed. Without a limit
# granian waits forever for a worker that was still starting when the signal came (stop() then SIGKILLs it).
WORKER_GRACE_SECONDS = 5
# Slow clients: a client has this long to send a request head, and an idle keep-alive connection is closed
# after it (granian's http1 header_read_timeout; its default is 30 s). Request bodies have no timeout in
# granian 2.8: web.App bounds their size, and behind nginx client_body_timeout bounds a trickling client.
HEADER_READ_TIMEOUT_MS = 10_000


def _parser() -> argparse.ArgumentParser:
    root = config._Parser(prog="python -m foundations", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, parser_class=config._Parser)
    svc = commands.add_parser("services", help="bring the tutorial's services up or down, or show them")
    svc.add_argument(
        "action", choices=["up", "down", "status", "clean"], help="clean: down, and remove their data"
    )
    svc.add_argument(
        "names",
        nargs="*",
        choices=[[], *config.SERVICES],
        metavar="SERVICE",
        help=f"some of {', '.join(config.SERVICES)} (default: all)",
    )
    svc.add_argument("--local", action="store_true", help="use local daemons even when Docker runs")
    lab = commands.add_parser("lab", help="start the services, then JupyterLab on 00_index.ipynb (make lab)")
    lab.add_argument("--lab-port", type=int, default=8888, help="JupyterLab's port (default: %(default)s)")
    lab.add_argument(
        "--lab-ip",
        default="127.0.0.1",
        help="address JupyterLab listens on (default: %(default)s; the Docker lab: 0.0.0.0)",
    )
    commands.add_parser("serve", help="run the API server (granian: RSGI, or WSGI with --interface wsgi)")
    commands.add_parser("doctor", help="check interpreter, kernel, packages and services")
    commands.add_parser("config", help="print every resolved setting and where it came from")
    bench = commands.add_parser("bench", help="load-test the API server's /get (chapter 10)")
    bench.add_argument(
        "--tool",
        choices=["builtin", "ab", "wrk", "all"],
        default="all",
        help="load generator (all: builtin plus ab and wrk when installed)",
    )
    bench.add_argument("--path", default="/get?key=name", help="what to GET (default: %(default)s)")
    bench.add_argument("--requests", type=int, default=2000, help="requests per run (the book: 50000)")
    bench.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="parallel clients (default 4, the book's; 64 for --soak)",
    )
    bench.add_argument(
        "--soak",
        type=float,
        default=None,
        metavar="SECONDS",
        help="soak run instead: builtin load for SECONDS, the server's RSS at start and end",
    )
    bench.add_argument("--seconds", type=float, default=3.0, help="wrk's duration")
    workshop = commands.add_parser(
        "workshop",
        help="JupyterHub for a room: each participant with services of their own, and a progress board",
    )
    workshop_command.add_arguments(workshop)
    for sub in commands.choices.values():
        if sub is not workshop:  # the room's services take their settings from the hub, not from flags
            config.add_arguments(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        cfg = config.resolve(vars(args), os.environ)
        return COMMANDS[args.command](cfg, args)
    except FoundationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _services(cfg: config.Config, args: argparse.Namespace) -> int:
    from foundations.ops import services

    names = args.names or list(services.SERVICES)
    if args.action == "up":
        cfg = services.up(cfg, names, local=args.local)
    elif args.action == "down":
        services.down(cfg, args.names or None)
        return 0
    elif args.action == "clean":
        services.clean(cfg)
        return 0
    rows = services.status(cfg, names)
    for row in rows:
        print(f"{row.name:<7} {row.address:<16} {'answers' if row.answers else 'DOWN'}  {row.detail}")
    return 0 if all(row.answers for row in rows) else 1


def _lab(cfg: config.Config, args: argparse.Namespace) -> int:
    from foundations.ops import lab, services

    if not services.named_by_environment(os.environ):
        services.up(cfg)
    return lab.run(args.lab_port, args.lab_ip)


def _serve(cfg: config.Config, args: argparse.Namespace) -> int:
    from granian.http import HTTP1Settings  # the server is only needed here

    from foundations import metrics
    from foundations.ops import probe

    if probe.port_open(cfg.host, cfg.port, timeout=0.2):
        raise ServiceError(f"{cfg.host}:{cfg.port} is taken by another program: stop it or pass --port")
    # Chapter 11: the workers share their counters through files in one directory per server.
    own_dir = None if cfg.metrics_dir else tempfile.mkdtemp(prefix="foundations-metrics-")
    cfg = dataclasses.replace(cfg, metrics_dir=cfg.metrics_dir or own_dir)
    metrics.prepare(cfg.metrics_dir, cmdline=[sys.executable, *sys.argv])
    os.environ.update(config.as_environ(cfg))  # granian's workers resolve the same settings from here
    print(f"serving on http://{cfg.host}:{cfg.port} with {cfg.workers} worker(s)", flush=True)
    # HTTP/1.1 (and 1.0) only, as the Go server without TLS: no sniffing for HTTP/2
    options = dict(
        address=cfg.host,
        port=cfg.port,
        log_access=cfg.access_log,
        log_access_format=ACCESS_LOG_FORMAT,
        http="1",
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
    )
    try:
        if cfg.interface == "wsgi":
            from granian import Granian  # the server is only needed here

            # On SIGTERM/SIGINT granian stops accepting, lets in-flight requests finish, then exits.
            Granian(
                "foundations.server:app_from_environment",
                factory=True,
                interface="wsgi",
                workers=cfg.workers,
                blocking_threads=cfg.threads or None,
                workers_kill_timeout=WORKER_GRACE_SECONDS,
                **options,
            ).serve()
        elif cfg.workers == 1:
            _serve_embedded(options)
        else:
            from granian import Granian

            Granian(
                FAST_APP,
                factory=True,
                interface="rsgi",
                workers=cfg.workers,
                workers_kill_timeout=WORKER_GRACE_SECONDS,
                **options,
            ).serve()
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


FAST_APP = "foundations.server:fast_app_from_environment"


def _serve_embedded(options: dict) -> None:
    """One worker, one process: granian's thread-worker server runs the RSGI worker in a thread of this
    process, so no supervisor process holds a second Python heap (chapter 10: a third of the memory)."""
    from granian.server.mt import MTServer

    # MTServer warns that free-threaded Python is experimental; this interpreter has the GIL, and a learner
    # reading that warning at every start would think something is wrong.
    logging.getLogger("_granian").addFilter(lambda record: "free-threaded" not in record.getMessage())

    class OneProcess(MTServer):
        """Made for free-threaded Python; with the GIL a single worker thread is what we want."""

        def _check_gil(self) -> None:
            pass

    OneProcess(
        FAST_APP,
        factory=True,
        interface="rsgi",
        workers=1,
        workers_kill_timeout=WORKER_GRACE_SECONDS,
        **options,
    ).serve()


def _doctor(cfg: config.Config, args: argparse.Namespace) -> int:
    from foundations.ops import doctor

    checks = doctor.run(cfg)
    print(doctor.render(checks))
    return 0 if doctor.healthy(checks) else 1


def _config(cfg: config.Config, args: argparse.Namespace) -> int:
    print(json.dumps({k: {"value": v, "source": cfg.sources[k]} for k, v in cfg.shown().items()}, indent=2))
    return 0


def _bench(cfg: config.Config, args: argparse.Namespace) -> int:
    from foundations import bench  # chapter 10

    url = cfg.api_url.rstrip("/") + args.path
    bench.seed(cfg.api_url.rstrip("/"))
    if args.soak is not None:
        run = bench.soak(cfg.api_url.rstrip("/"), args.path, args.soak, args.concurrency or 64)
        print(bench.render_soak(run))
        return 0 if run.result.errors == 0 else 1
    tools = ["builtin", "ab", "wrk"] if args.tool == "all" else [args.tool]
    results = [
        dataclasses.replace(
            bench.run(url, tool, args.requests, args.concurrency or 4, args.seconds),
            server_mb=bench.server_mb(cfg.api_url),
        )  # measured right after each load
        for tool in tools
        if args.tool != "all" or bench.available(tool)
    ]
    print(bench.render(results))
    return 0 if all(r.errors == 0 for r in results) else 1


COMMANDS = {"services": _services, "lab": _lab, "serve": _serve, "doctor": _doctor, "config": _config}
COMMANDS["bench"] = _bench
COMMANDS["workshop"] = lambda cfg, args: workshop_command.run(args)
