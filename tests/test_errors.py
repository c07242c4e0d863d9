"""One error root: every error the package raises on purpose derives from ``FoundationsError``; Python's
own only where ``foundations.errors`` says so. Read from the source with ``ast``, so a new ``raise`` of
another kind fails here before anyone meets it."""

from __future__ import annotations

import ast
from pathlib import Path

import foundations

PACKAGE = Path(foundations.__file__).parent
ANYWHERE = {"ValueError", "TypeError", "KeyboardInterrupt", "SystemExit"}  # a wrong argument; control flow
OWN_KINDS = {  # file -> the other errors it raises, and why
    # a span that fails, raised and caught inside the check itself
    "course/checks/ch03.py": {"RuntimeError"},
    # an empty Sequence of the check's own answers indexing as list does
    "course/checks/ch04.py": {"IndexError"},
    # a bug of the server, played by a registry whose get fails: the learner's handler must let it through
    "course/checks/ch10.py": {"RuntimeError"},
    # a connection refused or closed: raised and caught in the relay's loop
    "course/checks/relay.py": {"OSError"},
    # RSGI's protocol object: a second answer, the end of a body or a body cut short
    "loopexchange.py": {"RuntimeError", "StopAsyncIteration", "ConnectionError"},
    "loopserver.py": {"HttpParserError"},  # a head too large ends parsing
    "pipelining.py": {"ConnectionError", "TimeoutError"},  # asyncio-style; registry makes them Unavailable
    "variants.py": {"ConnectionError"},  # redis-py's asyncio client behind pipelining's signature
    "web.py": {"Refused"},  # the kernel imports nothing of the package; App.respond catches it
    "workshop/containers.py": {"KeyError"},  # no such home: callers treat it as pwd.getpwnam's for a user
}


def _classes() -> dict[str, list[str]]:
    """Every class the package defines: its name -> the names of its bases."""
    bases = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [ast.unparse(base).rpartition(".")[2] for base in node.bases]
    return bases


def _rooted(name: str, bases: dict[str, list[str]]) -> bool:
    return name == "FoundationsError" or any(_rooted(base, bases) for base in bases.get(name, []))


def raised() -> list[tuple[str, str]]:
    """(file, class name) of every ``raise SomeError(...)`` in the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call | ast.Name):
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(call, ast.Name | ast.Attribute) and ast.unparse(call)[:1].isupper():
                    found.append((str(path.relative_to(PACKAGE)), ast.unparse(call).rpartition(".")[2]))
    return found


def test_every_error_raised_on_purpose_has_the_one_root():
    bases = _classes()
    stray = [
        (where, name)
        for where, name in raised()
        if not _rooted(name, bases) and name not in ANYWHERE | OWN_KINDS.get(where, set())
    ]
    assert stray == []


def test_the_check_sees_a_stray_error(monkeypatch, tmp_path):
    (tmp_path / "stray.py").write_text("def f():\n    raise RuntimeError('no root')\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    assert raised() == [("stray.py", "RuntimeError")]
