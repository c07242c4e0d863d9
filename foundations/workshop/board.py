"""The instructor's progress board: participants × exercises, and whose server or services are down.

Results come from each participant's ``~/.foundations/progress.json`` (every ``check()`` writes it, see
``foundations.course.progress``); servers from the hub's REST API, with the ``workshop-admin`` token;
services from each participant's state file. Text for the terminal, HTML for a projector.
"""

from __future__ import annotations

import html
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from foundations.course import exercises, progress
from foundations.workshop import containers, participant
from foundations.workshop.room import Room, Settings

CHECKS = Path(exercises.__file__).with_name("checks")

PASSED, FAILED, UNTRIED = "✓", "✗", "·"
STUCK_ATTEMPTS = 3
STYLE = (
    "body{font-family:sans-serif;font-size:15px;margin:8px;max-width:1264px}h1{font-size:20px;margin:4px 0}"
    "h1 small{font-weight:normal;color:#555;font-size:14px}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:2px 3px;text-align:center;white-space:nowrap}"
    "td.wrap{white-space:normal;max-width:150px;font-size:13px}"
    "th.name{text-align:left;max-width:140px;overflow:hidden;text-overflow:ellipsis}th.ch{background:#eee}"
    ".pass{background:#c8f7c5}.fail{background:#fde9c8}.stuck{background:#f4a3a3;font-weight:bold}"
    ".totals td{background:#f4f4f4;font-size:13px}p{color:#444;font-size:13px}"
)


@dataclass
class Row:
    name: str
    server: str  # "running", "starting", "stopping", "stopped"
    services_down: list[str]  # own services whose process is gone while the server runs
    results: dict[str, dict] = field(default_factory=dict)

    def mark(self, exercise_id: str) -> str:
        entry = self.results.get(exercise_id)
        return UNTRIED if entry is None else PASSED if entry.get("passed") else FAILED


def exercise_ids() -> list[str]:
    """Every exercise of the course, in chapter order."""
    chapters = [module.stem[2:] for module in sorted(CHECKS.glob("ch[0-9][0-9].py"))]
    return [exercise_id for chapter in chapters for exercise_id in exercises.registered(chapter)]


def hub_servers(settings: Settings, token: str) -> dict[str, str]:
    """``{participant: server state}`` from the hub's REST API (``GET /hub/api/users``)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.hub_port}/hub/api/users", headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        users = json.load(resp)
    states = {}
    for user in users:
        server = user.get("servers", {}).get("")
        states[user["name"]] = (
            "stopped"
            if not server
            else "starting"
            if server.get("pending") == "spawn"
            else "stopping"
            if server.get("pending") == "stop"
            else "running"
            if server.get("ready")
            else "starting"
        )
    return states


def collect(room: Room, hub_running: bool = True) -> list[Row]:
    settings = room.settings()
    servers = hub_servers(settings, room.token()) if hub_running else {}
    rows = []
    for name in settings.participants:
        try:
            who = participant.Participant.of(room, name, settings)
        except KeyError:  # system user not created yet
            rows.append(Row(name, "no user yet", []))
            continue
        server = servers.get(name, "hub down" if not hub_running else "stopped")
        own = participant.running(who, containers.host_pids(room, name) if settings.containers else None)
        down = sorted(n for n, runs in own.items() if not runs) if server == "running" else []
        if server == "running" and not own:
            down = list(participant.OWN_SERVICES)
        rows.append(Row(name, server, down, participant.read_json(who.home, *progress.PROGRESS_FILE.parts)))
    return rows


def render_text(rows: list[Row], ids: list[str]) -> str:
    """One line per participant; per chapter one mark per exercise (✓ passed, ✗ tried, · not yet)."""
    by_chapter: dict[str, list[str]] = {}
    for exercise_id in ids:
        by_chapter.setdefault(exercise_id.split(".")[0], []).append(exercise_id)
    width = max([len("participant"), *(len(r.name) for r in rows)])
    head = [
        f"{'participant':<{width}}",
        f"{'server':<10}",
        "passed",
        *(f"{ch:<{len(v)}}" for ch, v in by_chapter.items()),
        "down",
    ]
    lines = ["  ".join(head)]
    for row in rows:
        passed = sum(row.mark(i) == PASSED for i in ids)
        marks = ["".join(row.mark(i) for i in v).ljust(max(2, len(v))) for v in by_chapter.values()]
        lines.append(
            "  ".join(
                [
                    f"{row.name:<{width}}",
                    f"{row.server:<10}",
                    f"{passed:>3}/{len(ids):<2}",
                    *marks,
                    ", ".join(row.services_down) or "-",
                ]
            )
        )
    lines.append(
        f"{PASSED} passed  {FAILED} tried, not passed yet  {UNTRIED} not tried; "
        "columns are chapters, one mark per exercise"
    )
    return "\n".join(lines)


def stuck(row: Row, exercise_id: str) -> bool:
    """Several failed attempts and no pass: someone to walk over to."""
    entry = row.results.get(exercise_id, {})
    return not entry.get("passed") and int(entry.get("attempts", 0)) >= STUCK_ATTEMPTS


def render_html(rows: list[Row], ids: list[str], updated: str, refresh: int = 0) -> str:
    """A page that fits a projector's 1280 px: one narrow column per exercise (numbered within its chapter),
    totals per participant and per exercise (passed, tried), stuck cells in red, the time it was made;
    ``refresh``: seconds after which the browser reloads it (0: a file, no reload)."""
    by_chapter: dict[str, list[str]] = {}
    for exercise_id in ids:
        by_chapter.setdefault(exercise_id.split(".")[0], []).append(exercise_id)
    chapters = "".join(f'<th colspan="{len(v)}" class="ch">{ch}</th>' for ch, v in by_chapter.items())
    numbers = "".join(
        f'<th title="{html.escape(i)}">{n}</th>' for v in by_chapter.values() for n, i in enumerate(v, 1)
    )
    short = {i: f"{ch}.{n}" for ch, v in by_chapter.items() for n, i in enumerate(v, 1)}  # 07.2
    body = []
    for row in rows:
        cells = []
        for i in ids:
            mark, tries = row.mark(i), row.results.get(i, {}).get("attempts", 0)
            css = "stuck" if stuck(row, i) else {PASSED: "pass", FAILED: "fail", UNTRIED: ""}[mark]
            shown = f"{mark}{tries}" if mark == FAILED else mark
            cells.append(f'<td class="{css}" title="{html.escape(i)}: {tries} attempt(s)">{shown}</td>')
        passed = sum(row.mark(i) == PASSED for i in ids)
        stuck_on = " ".join(short[i] for i in ids if stuck(row, i))
        down = ", ".join(row.services_down)
        body.append(
            f'<tr><th class="name">{html.escape(row.name)}</th><td>{html.escape(row.server)}</td>'
            f"<td>{passed}/{len(ids)}</td>{''.join(cells)}"
            f'<td class="wrap{" stuck" if stuck_on else ""}">{html.escape(stuck_on)}</td>'
            f'<td class="wrap{" fail" if down else ""}">{html.escape(down)}</td></tr>'
        )
    tallies: tuple[tuple[str, Callable[[str], bool]], ...] = (
        ("passed", lambda m: m == PASSED),
        ("tried", lambda m: m != UNTRIED),
    )
    totals = "".join(
        f'<tr class="totals"><th>{what}</th><td></td><td></td>'
        + "".join(f"<td>{sum(counts(r.mark(i)) for r in rows)}</td>" for i in ids)
        + "<td></td><td></td></tr>"
        for what, counts in tallies
    )
    reload = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    again = f", reloads every {refresh} s" if refresh else ""
    return (
        f"<!doctype html><meta charset=utf-8>{reload}<title>Workshop progress</title><style>{STYLE}</style>"
        f"<h1>Workshop progress <small>updated {html.escape(updated)}{again}</small></h1>"
        f'<table><tr><th rowspan="2">participant</th><th rowspan="2">server</th><th rowspan="2">passed</th>'
        f'{chapters}<th rowspan="2">stuck on</th><th rowspan="2">services down</th></tr><tr>{numbers}</tr>'
        f"{''.join(body)}{totals}</table>"
        f"<p>{PASSED} passed; {FAILED}n tried n times, not passed yet; red: stuck ({STUCK_ATTEMPTS}+ "
        f"failed attempts, no pass); {UNTRIED} not tried. Columns: chapters, then exercises in the "
        "notebook's order (hover for the name); 07.2 is chapter 07's second exercise.</p>\n"
    )
