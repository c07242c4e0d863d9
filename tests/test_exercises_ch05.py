"""Chapter 5's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import re

import pytest
from test_exercises import NOTEBOOKS, solutions

from foundations.course import exercises
from foundations.course.checks.ch05 import SAY_CASES

RIGHT = solutions(NOTEBOOKS / "solutions" / "ch05.py")["05.pat_statuses"]()  # the wrong answers below vary it

PAT_WRONG = [
    pytest.param(
        {f"/made/up/{i}": 404 for i in range(7)}, "keep exactly the 7 paths given", id="invented-paths"
    ),
    pytest.param(dict.fromkeys(RIGHT, 200), "/pets: not 200.", id="all-200"),
    pytest.param(dict.fromkeys(RIGHT, 0), "/pets: 0 is none of the answers", id="zeros"),
    pytest.param({**RIGHT, "/pets": 301}, "Werkzeug never answers 301 here", id="pats-301"),
    pytest.param({**RIGHT, "/pets": 404}, "/pets: not 404.", id="like-the-books-hey"),
    pytest.param({**RIGHT, "/pets/Rex/": 308}, "/pets/Rex/: not 308.", id="redirect-both-ways"),
    pytest.param({**RIGHT, "/pets/Rex/": 200}, "/pets/Rex/: not 200.", id="trailing-slash-ignored"),
    pytest.param({**RIGHT, "/shops/seven/": 200}, "/shops/seven/: not 200.", id="int-converter-ignored"),
    pytest.param(
        {path: str(status) for path, status in RIGHT.items()}, "give the status as a number", id="strings"
    ),
    pytest.param(
        {k: v for k, v in RIGHT.items() if k != "/pets"}, "keep exactly the 7 paths", id="one-missing"
    ),
]


@pytest.mark.parametrize("answer, message", PAT_WRONG)
def test_pat_statuses_rejects(answer, message):
    assert message in exercises.verdict("05.pat_statuses", answer)


@pytest.mark.parametrize("guess", [0, 200, 301, 308, 404])
def test_pat_statuses_messages_never_name_the_right_status(guess):
    """Wrong guesses, whatever they are, must not be answered with the status the router sends."""
    for path, status in RIGHT.items():
        if guess != status:
            verdict = exercises.verdict("05.pat_statuses", {**RIGHT, path: guess})
            said = verdict.replace(path, "PATH").replace("(200, 308, 404)", "")
            said = said.replace(f"not {guess}.", "").replace(f"{guess} is none", "")
            assert str(status) not in said, verdict


LISTED = {"/say": "", "/say/": "", "/say/Tit": "Tit", "/say/Tit/": "Tit"}  # the cases the exercise text names


def _regex(path):
    match = re.fullmatch(r"/say/?([^/]*)/?", path)
    return match.group(1) if match else None


def _split(path):
    parts = path.strip("/").split("/")
    return (parts[1] if len(parts) > 1 else "") if parts[0] == "say" else None


def _strips_every_slash(path):
    if path in ("/say", "/say/"):
        return ""
    if not path.startswith("/say/"):
        return None
    name = path[len("/say/") :].rstrip("/")
    return None if "/" in name else name


def _copy_of_the_servers_say(path):
    """routing.say's parsing, shown in the notebook, without the router's prefix match in front of it."""
    rest = path[len("/say/") :] if path.startswith("/say/") else ""
    name = rest[:-1] if rest.endswith("/") else rest
    return None if "/" in name or (rest and not name) else name


def _farmed(path):
    """Every fixed case's expected name, collected from the check's messages: a lookup, no parsing."""
    return SAY_CASES.get(path)


SAY_WRONG = [
    pytest.param(_farmed, "returned None, expected '", id="lookup-of-every-fixed-case"),
    pytest.param(
        _copy_of_the_servers_say, "say_name('/sayx') returned '', expected None", id="copies-routing-say"
    ),
    pytest.param(
        _strips_every_slash, "say_name('/say//') returned '', expected None", id="empty-name-between-slashes"
    ),
    pytest.param(
        LISTED.get, "say_name('/say/Gopher') returned None, expected 'Gopher'", id="hard-coded-cases"
    ),
    pytest.param(
        lambda path: path.removeprefix("/say/").strip("/"),
        "say_name('/say') returned 'say'",
        id="removeprefix-strip",
    ),
    pytest.param(_regex, "say_name('/sayx') returned 'x', expected None", id="optional-slash-regex"),
    pytest.param(_split, "say_name('/say/a/b') returned 'a', expected None", id="split-ignores-the-rest"),
    pytest.param(
        lambda path: path[5:].rstrip("/") if path.startswith("/say") else None,
        "say_name('/say/a/b') returned 'a/b'",
        id="slices-without-checking",
    ),
]


@pytest.mark.parametrize("answer, message", SAY_WRONG)
def test_say_name_rejects(answer, message):
    assert message in exercises.verdict("05.say_name", answer)
