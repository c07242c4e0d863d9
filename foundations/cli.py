"""``python -m foundations COMMAND [SUBCOMMAND]``: the project's one command line. It parses and dispatches;
the work happens in the modules each command names, with one-line errors instead of tracebacks.

A command takes the settings flags (``--redis-url``...) only of the settings it uses, and imports its modules
only when it runs: ``serve`` runs the API server in this process, which then holds no module of the other
commands (chapter 10: the server's memory).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from foundations import config
from foundations.errors import FoundationsError

DESCRIPTION = (
    "API Foundations in Python's commands; `python -m foundations COMMAND --help` shows one's options."
)
ALL_SETTINGS = tuple(config.BY_NAME)
# What `serve` reads: neither where clients find it (api_url) nor chapter 8's MySQL.
SERVER_SETTINGS = tuple(name for name in ALL_SETTINGS if name not in ("api_url", "mysql_dsn"))
Run = Callable[[argparse.Namespace], int]


def _command(
    group: argparse._SubParsersAction, name: str, run: Run, help: str, settings: Sequence[str] = ()
) -> argparse.ArgumentParser:
    """A command that calls ``run(args)``, with the flags of ``settings`` (resolved into ``args.cfg``)."""
    parser = group.add_parser(name, help=help, description=help)
    parser.set_defaults(run=run, settings=bool(settings))
    if settings:
        config.add_arguments(parser, settings)
    return parser


def _group(group: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """A command of subcommands; alone it prints their list."""
    parser = group.add_parser(name, help=help, description=help)
    parser.set_defaults(run=None, usage=parser)
    return parser.add_subparsers(
        title="subcommands", dest="subcommand", metavar="SUBCOMMAND", parser_class=config._Parser
    )


def _parser() -> argparse.ArgumentParser:
    root = config._Parser(prog="python -m foundations", description=DESCRIPTION)
    root.set_defaults(run=None, usage=root)
    commands = root.add_subparsers(title="commands", metavar="COMMAND", parser_class=config._Parser)

    svc = _command(
        commands,
        "services",
        _services,
        "bring the tutorial's services up or down, or show them",
        ALL_SETTINGS,
    )
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

    lab = _command(
        commands,
        "lab",
        _lab,
        "start the services, then JupyterLab on 00_index.ipynb (make lab)",
        ALL_SETTINGS,
    )
    lab.add_argument("--lab-port", type=int, default=8888, help="JupyterLab's port (default: %(default)s)")
    lab.add_argument(
        "--lab-ip",
        default="127.0.0.1",
        help="address JupyterLab listens on (default: %(default)s; the Docker lab: 0.0.0.0)",
    )
    _command(
        commands,
        "serve",
        _serve,
        "run the API server (one thread by default; granian with --interface rsgi or wsgi)",
        SERVER_SETTINGS,
    )
    _command(commands, "doctor", _doctor, "check interpreter, kernel, packages and services", ALL_SETTINGS)
    _command(commands, "config", _config, "print every resolved setting and where it came from", ALL_SETTINGS)
    bench = _command(
        commands, "bench", _bench, "load-test the API server's /get (chapter 10)", ("api_url", "state_dir")
    )
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

    compose = _group(commands, "compose", "Docker Compose v1 or v2 on compose.yaml (or COMPOSE_FILE's files)")
    up = _command(compose, "up", _compose_up, "up -d, then wait until every container is healthy")
    up.add_argument("names", nargs="*", metavar="SERVICE", help="compose services (default: all)")
    _command(compose, "down", _compose_down, "down -v: stop the containers and remove their volumes")
    _command(commands, "images", _images, "build the offline image set for compose.offline.yaml (as root)")

    course = _group(commands, "course", "the maintainers' notebook chores")
    nav = _command(
        course, "navigation", _navigation, "rewrite the < prev | Contents | next > lines of every notebook"
    )
    nav.add_argument("--check", action="store_true", help="only check: exit 1 when a line is stale")
    refresh = _command(
        course,
        "refresh",
        _refresh,
        "re-execute notebooks in place on fresh services on the default ports (make refresh-outputs)",
    )
    refresh.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    _command(course, "install-kernel", _install_kernel, "register the course's Jupyter kernel (make install)")

    _workshop_commands(
        _group(
            commands,
            "workshop",
            "JupyterHub for a room: each participant with services of their own, and a progress board",
        )
    )
    return root


def _workshop_commands(workshop: argparse._SubParsersAction) -> None:
    up = _command(workshop, "up", _workshop, "start the hub for the room's participants")
    up.add_argument("--participants", metavar="NAMES", help="participant names, e.g. alice,bob,carol")
    up.add_argument("--participants-file", metavar="FILE", help="participant names, one a line")
    up.add_argument(
        "--code",
        help="the workshop code for first sign-ins: 10+ characters, letters and digits (default: kept, or new)",
    )
    up.add_argument(
        "--port", type=int, default=8000, help="where participants connect (default: %(default)s)"
    )
    up.add_argument(
        "--public",
        metavar="IP",
        help="listen on IP (e.g. 0.0.0.0) instead of 127.0.0.1; "
        "use with --ssl-cert/--ssl-key or behind a TLS proxy (see docs/workshop.md)",
    )
    up.add_argument("--ssl-cert", default="", metavar="FILE")
    up.add_argument("--ssl-key", default="", metavar="FILE")
    up.add_argument(
        "--backend",
        choices=["docker", "users"],
        help="docker: a container per participant (the default as root when a Docker engine answers); "
        "users: a system user each, a trusted rehearsal (participants can reach each other's API servers)",
    )
    up.add_argument(
        "--dry-run",
        action="store_true",
        help="no containers, no system users: everything runs as you (for rehearsing without root)",
    )
    up.add_argument(
        "--idle-timeout",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="stop a participant's server (and services) after this long idle (default: %(default)s)",
    )
    up.add_argument(
        "--offline-kit",
        metavar="DIR",
        help="install the proxy from this `make wheelhouse` folder, with no network",
    )
    down = _command(workshop, "down", _workshop, "stop the hub and every participant's services")
    down.add_argument(
        "--keep",
        action="store_true",
        help="keep the room's files, databases and participants' system users (default: remove them)",
    )
    status = _command(workshop, "status", _workshop, "the hub, and the board: participants × exercises")
    status.add_argument("--html", metavar="FILE", help="also write the board as an HTML page")
    release = _command(workshop, "release-solutions", _workshop, "copy the solutions to every participant")
    for room in (up, down, status, release):
        room.add_argument(
            "--dir", metavar="DIR", help="the workshop's directory (default: the checkout's .workshop/)"
        )
    board = _command(workshop, "board", _board, "serve the board page as a hub service (the hub starts it)")
    board.add_argument("dir", metavar="DIR", help="the workshop's directory")
    sizing = _command(
        workshop, "sizing", _sizing, "measure what one active participant costs on a real hub (as root)"
    )
    sizing.add_argument("--participants", type=int, default=3, help="how many (default: %(default)s)")
    sizing.add_argument(
        "--notebook",
        default="api-foundations/notebooks/07_redis.ipynb",
        help="what they all run, in their homes (default: %(default)s)",
    )
    sizing.add_argument(
        "--backend", choices=["docker", "users"], default="docker", help="(default: %(default)s)"
    )
    kit = _command(
        workshop, "wheelhouse", _wheelhouse, "fill DIR with every pinned wheel and the proxy's npm packages"
    )
    kit.add_argument("dir", type=Path, metavar="DIR")
    verify = _command(
        workshop,
        "verify-wheelhouse",
        _verify_wheelhouse,
        "install the project and the proxy from DIR alone, into a fresh venv and folder",
    )
    verify.add_argument("dir", type=Path, metavar="DIR")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.run is None:  # no command, or a group without its subcommand
            args.usage.print_help()
            return 2
        if args.settings:
            args.cfg = config.resolve(vars(args), os.environ)
        return args.run(args)
    except FoundationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _services(args: argparse.Namespace) -> int:
    from foundations.ops import services

    cfg, names = args.cfg, args.names or list(config.SERVICES)
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


def _lab(args: argparse.Namespace) -> int:
    from foundations.ops import lab, services

    if not services.named_by_environment(os.environ):
        services.up(args.cfg)
    return lab.run(args.lab_port, args.lab_ip)


def _serve(args: argparse.Namespace) -> int:
    from foundations import serve

    serve.serve(args.cfg)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from foundations.ops import doctor

    checks = doctor.run(args.cfg)
    print(doctor.render(checks))
    return 0 if doctor.healthy(checks) else 1


def _config(args: argparse.Namespace) -> int:
    cfg = args.cfg
    print(json.dumps({k: {"value": v, "source": cfg.sources[k]} for k, v in cfg.shown().items()}, indent=2))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from foundations import bench, footprint  # chapter 10

    api = args.cfg.api_url.rstrip("/")
    bench.seed(api)
    if args.soak is not None:
        run = bench.soak(api, args.path, args.soak, args.concurrency or 64)
        print(bench.render_soak(run))
        return 0 if run.result.errors == 0 else 1
    tools = ["builtin", "ab", "wrk"] if args.tool == "all" else [args.tool]
    results = [
        dataclasses.replace(
            bench.run(api + args.path, tool, args.requests, args.concurrency or 4, args.seconds),
            server_mb=footprint.server_mb(api),
        )  # measured right after each load
        for tool in tools
        if args.tool != "all" or bench.available(tool)
    ]
    print(bench.render(results))
    return 0 if all(r.errors == 0 for r in results) else 1


def _workshop(args: argparse.Namespace) -> int:
    from foundations.workshop import command  # the hub's modules load only when their command runs

    return getattr(command, args.subcommand.replace("-", "_"))(args)


def _compose_up(args: argparse.Namespace) -> int:
    from foundations.ops import compose

    compose.up(args.names)
    return 0


def _compose_down(args: argparse.Namespace) -> int:
    from foundations.ops import compose

    compose.run("down", "-v")
    return 0


def _images(args: argparse.Namespace) -> int:
    from foundations.ops import images

    images.build()
    return 0


def _navigation(args: argparse.Namespace) -> int:
    from foundations.course import navigation

    return navigation.command(args.check)


def _refresh(args: argparse.Namespace) -> int:
    from foundations.course import refresh

    refresh.refresh_all(args.notebooks)
    return 0


def _install_kernel(args: argparse.Namespace) -> int:
    from foundations.course import kernel
    from foundations.ops.doctor import KERNEL_NAME

    print(f"installed the kernel {KERNEL_NAME} in {kernel.install()}")
    return 0


def _board(args: argparse.Namespace) -> int:
    from foundations.workshop import boardpage

    boardpage.main(args.dir)
    return 0


def _sizing(args: argparse.Namespace) -> int:
    from foundations.workshop import sizing

    sizing.measure(args.participants, args.notebook, in_containers=args.backend == "docker")
    return 0


def _wheelhouse(args: argparse.Namespace) -> int:
    from foundations.workshop import wheelhouse

    print(wheelhouse.build(args.dir))
    return 0


def _verify_wheelhouse(args: argparse.Namespace) -> int:
    from foundations.workshop import wheelhouse

    for step, took in wheelhouse.verify(args.dir).items():
        print(f"{step}: {took:.0f} s, no index")
    return 0
