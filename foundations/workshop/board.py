"""The instructor's progress board: participants × exercises, and whose server or services are down.

Results come from each participant's ``~/.foundations/progress.json`` (every ``check()`` writes it, see
``foundations.course.progress``); servers from the hub's REST API, with the ``workshop-admin`` token;
services from each participant's state file. Text for the terminal, HTML for a projector.
"""

from __future__ import annotations

import html
import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from foundations.course import exercises, progress
from foundations.workshop import participant
from foundations.workshop.room import Room, Settings

CHECKS = Path(exercises.__file__).with_name("checks")

PASSED, FAILED, UNTRIED = "✓", "✗", "·"


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
        own = participant.running(who)
        down = sorted(n for n, runs in own.items() if not runs) if server == "running" else []
        if server == "running" and not own:
            down = list(participant.OWN_SERVICES)
        rows.append(Row(name, server, down, progress.read(who.home)))
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


def render_html(rows: list[Row], ids: list[str]) -> str:
    """A self-contained page, one column per exercise."""
    colour = {PASSED: "#c8f7c5", FAILED: "#f7d4c5", UNTRIED: "#ffffff"}
    head = "".join(f"<th>{html.escape(i)}</th>" for i in ids)
    body = []
    for row in rows:
        cells = []
        for i in ids:
            mark = row.mark(i)
            tries = row.results.get(i, {}).get("attempts", 0)
            cells.append(f'<td style="background:{colour[mark]}" title="{tries} attempt(s)">{mark}</td>')
        down = html.escape(", ".join(row.services_down)) or "-"
        body.append(
            f"<tr><th>{html.escape(row.name)}</th><td>{html.escape(row.server)}</td><td>{down}</td>"
            f"{''.join(cells)}</tr>"
        )
    return (
        "<!doctype html><meta charset=utf-8><title>Workshop progress</title>"
        "<style>body{font-family:sans-serif}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:center}"
        "table{border-collapse:collapse}</style><h1>Workshop progress</h1>"
        f"<table><tr><th>participant</th><th>server</th><th>services down</th>{head}</tr>"
        f"{''.join(body)}</table>\n"
    )
