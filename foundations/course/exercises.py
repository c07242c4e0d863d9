"""Exercises with checks: hidden assertions run against a learner's answer, wrong answers explained in words.

A chapter's checks live in ``foundations/course/checks/chNN.py``; its solutions in ``notebooks/solutions/chNN.py``,
which the test suite runs through the same checks, so a solution can never rot.

    >>> check("01.docker_run", ...)    # in a notebook: prints what is still wrong, never a traceback
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sysconfig
import textwrap
import traceback
from collections.abc import Callable
from typing import Any

from foundations.course import progress
from foundations.course.notebook import wrap
from foundations.errors import FoundationsError

Checker = Callable[[Any], None]
_CHECKS: dict[str, Checker] = {}


class Wrong(FoundationsError):
    """Raised by a checker: the message tells the learner what is wrong, in plain words."""


def exercise(exercise_id: str) -> Callable[[Checker], Checker]:
    """Register ``checker`` for ``exercise_id`` (``"NN.name"``, NN being the chapter)."""

    def register(checker: Checker) -> Checker:
        _CHECKS[exercise_id] = checker
        return checker

    return register


def expect(condition: bool, message: str) -> None:
    """Fail the exercise with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Wrong(message)


def checker(exercise_id: str) -> Checker:
    """The checker for ``exercise_id``, importing its chapter's module on first use."""
    if exercise_id not in _CHECKS:
        importlib.import_module(f"foundations.course.checks.ch{exercise_id.split('.')[0]}")
    return _CHECKS[exercise_id]


def registered(chapter: str) -> list[str]:
    """Every exercise id of ``chapter`` (``"01"``), in the order its modules register them: the notebooks'.
    The chapter's module comes before its appendix's (``ch11``, then ``ch11_appendix``), whichever was
    imported first."""
    importlib.import_module(f"foundations.course.checks.ch{chapter}")
    ids = [i for i in _CHECKS if i.startswith(chapter + ".")]
    return sorted(ids, key=lambda i: _CHECKS[i].__module__)  # stable: each module keeps its own order


_FINISHED = (ast.Return, ast.Yield, ast.YieldFrom, ast.Assert, ast.Raise)


def blank(answer: Any) -> bool:
    """The exercise cell as the notebook ships it: ``...``, a dict of ``...``, a function whose body still
    ends with the ``...`` placeholder and returns, yields, asserts or raises nothing (Run All runs those),
    or a class whose methods are all such functions."""
    if answer is ...:
        return True
    if isinstance(answer, dict):
        return bool(answer) and all(value is ... for value in answer.values())
    if inspect.isclass(answer):  # a class to write: blank while every method of its own is
        methods = [value for value in vars(answer).values() if inspect.isfunction(value)]
        return bool(methods) and all(blank(method) for method in methods)
    if not inspect.isfunction(answer):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(answer)))
    except (OSError, TypeError, SyntaxError):  # no source to read: treat it as an answer
        return False
    function = tree.body[0]
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):  # a lambda in a larger line
        return False
    last = function.body[-1]
    placeholder = isinstance(last, ast.Expr) and getattr(last.value, "value", None) is ...
    return placeholder and not any(isinstance(node, _FINISHED) for node in ast.walk(function))


def verdict(exercise_id: str, answer: Any) -> str | None:
    """``None`` when ``answer`` passes, else what is wrong."""
    if blank(answer):
        return "no answer yet: replace the `...` with your answer and run both cells again"
    try:
        checker(exercise_id)(answer)
    except Wrong as wrong:
        return str(wrong)
    except Exception as exc:  # noqa: BLE001 - the learner's code failed inside the check
        return f"your answer raised {type(exc).__name__}: {exc} ({_where(exc)})"
    return None


_LIBRARIES = tuple(sysconfig.get_paths()[kind] for kind in ("stdlib", "platstdlib", "purelib", "platlib"))


def _where(exc: BaseException) -> str:
    """The line of the learner's code the error came from: the deepest frame outside Python's own library and
    the installed packages (a ValueError raised inside concurrent.futures names the learner's call of it)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if not frame.filename.startswith(_LIBRARIES)]
    return f"line {(own or frames)[-1].lineno}" + ("" if own else f" of {frames[-1].filename}")


def check(exercise_id: str, answer: Any) -> None:
    """Print whether ``answer`` solves ``exercise_id`` (``verdict`` gives the same as a value)."""
    problem = verdict(exercise_id, answer)
    if blank(answer):  # Run All runs the blank cells too: reading ahead is not an attempt
        print(wrap(f"[{exercise_id}] {problem}"))
        return
    progress.record(exercise_id, problem is None)  # the workshop's progress board reads it
    chapter = exercise_id.split(".")[0]
    if problem is None:
        print(f"[{exercise_id}] correct.")
    else:
        print(
            wrap(
                f"[{exercise_id}] not yet: {problem}\n  (stuck? the solution is in solutions/ch{chapter}.py)"
            )
        )
