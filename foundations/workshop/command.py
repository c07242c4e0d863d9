"""``python -m foundations workshop up|down|status|release-solutions``: the instructor's commands (their
options: ``cli.py``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from foundations.errors import ConfigError, ServiceError
from foundations.workshop import containers
from foundations.workshop.room import INSTRUCTOR, Room, parse_participants


def _room(args: argparse.Namespace) -> Room:
    return Room(Path(args.dir)) if args.dir else Room()


def _participants(args: argparse.Namespace, room: Room) -> tuple[str, ...]:
    if args.participants_file:
        return parse_participants(Path(args.participants_file).read_text())
    if args.participants:
        return parse_participants(args.participants)
    if room.settings_path.exists():
        return room.settings().participants
    raise ConfigError("no participants: pass --participants alice,bob or --participants-file FILE")


def left_behind(room: Room) -> str:
    """What ``down --keep`` keeps, so the next ``up`` finds the room as it was, and how to remove it."""
    settings = room.settings() if room.settings_path.exists() else None
    names = " ".join(settings.participants) if settings else "NAME"
    homes = (
        f"the Docker volumes of participants' homes and of the room's MariaDB (label {containers.LABEL}"
        f"={room.root}), with their course copy, progress and databases"
        if settings and settings.containers
        else f"the system users {names}, whose homes keep their course copy and progress, and every "
        f"participant's database in the shared MariaDB's data ({room.services_dir})"
        if settings and settings.system_users
        else f"participants' homes with their course copy and progress ({room.homes_dir}), and every "
        f"participant's database in the shared MariaDB's data ({room.services_dir})"
    )
    return (
        f"kept for the next `workshop up`: the workshop code, passwords and the hub's database "
        f"({room.hub_dir}), {homes}.\nTo remove them: `workshop down` without --keep"
    )


def up(args: argparse.Namespace) -> int:
    from foundations.workshop import hub  # the hub's modules: only when it runs

    room = _room(args)
    if args.public and not args.ssl_cert:
        print(
            f"warning: listening on {args.public} without TLS: passwords cross the network in clear. "
            "Pass --ssl-cert/--ssl-key, or put a TLS proxy in front (docs/workshop.md).",
            file=sys.stderr,
        )
    settings = hub.up(
        room,
        _participants(args, room),
        code=args.code,
        ip=args.public or "127.0.0.1",
        port=args.port,
        system_users=False if args.dry_run else None,
        containers=False if args.dry_run else {"docker": True, "users": False}.get(args.backend),
        idle_timeout=args.idle_timeout,
        ssl_cert=args.ssl_cert,
        ssl_key=args.ssl_key,
        offline_kit=Path(args.offline_kit) if args.offline_kit else None,
    )
    print(f"participants: {', '.join(settings.participants)}")
    print(
        f"first sign-in: name, a password of their own (8+ characters) and the workshop code "
        f"{room.code_path.read_text().strip()}"
    )
    print(
        f"the board: {settings.url}/services/board/ (sign in as {INSTRUCTOR}, password "
        f"{room.instructor_path.read_text().strip()})"
    )
    return 0


def down(args: argparse.Namespace) -> int:
    from foundations.workshop import hub

    room = _room(args)
    hub.down(room, keep=args.keep)
    if args.keep:
        print(left_behind(room))
    return 0


def status(args: argparse.Namespace) -> int:
    from foundations.workshop import board, hub

    room = _room(args)
    pid = hub.hub_pid(room)
    settings = room.settings()
    print(f"hub: {'running at ' + settings.url + f'/ (pid {pid})' if pid else 'DOWN'}")
    rows = board.collect(room, hub_running=pid is not None)
    ids = board.exercise_ids()
    print(board.render_text(rows, ids))
    if args.html:
        Path(args.html).write_text(board.render_html(rows, ids, time.strftime("%Y-%m-%d %H:%M:%S")))
        print(f"wrote {args.html}")
    return 0


def release_solutions(args: argparse.Namespace) -> int:
    from foundations.workshop import learner, participant

    room = _room(args)
    room.released_path.touch()
    settings = room.settings()
    for name in settings.participants:
        try:
            copied = learner.release_solutions(participant.Participant.of(room, name, settings))
        except KeyError:
            copied = False
        except ServiceError as exc:  # a link they planted: the others still get theirs
            print(f"{name}: not copied, {exc}")
            continue
        outcome = "solutions copied" if copied else "no copy yet, gets the solutions at first start"
        print(f"{name}: {outcome}")
    return 0
