"""Exercises with checks: hidden assertions run against a learner's answer, wrong answers explained in words.

A chapter's checks live in ``foundations/course/checks/chNN.py``; its solutions in ``notebooks/solutions/chNN.py``,
which the test suite runs through the same checks, so a solution can never rot.

    >>> check("01.docker_run", ...)    # in a notebook: prints what is still wrong, never a traceback
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import re
import sys
import sysconfig
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from foundations import config, net
from foundations.course import progress
from foundations.course.notebook import wrap
from foundations.errors import ConfigError, FoundationsError, ServiceError

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
    """``None`` when ``answer`` passes, else what is wrong, or why the check could not judge it."""
    return _judge(exercise_id, answer)[1]


def _judge(exercise_id: str, answer: Any) -> tuple[bool, str | None]:
    """Whether the check judged ``answer`` (not a blank cell's, nor when a service the check needs did not
    answer), and ``verdict``'s words."""
    if blank(answer):
        return False, "no answer yet: replace the `...` with your answer and run both cells again"
    try:
        checker(exercise_id)(answer)
    except Wrong as wrong:
        return True, str(wrong)
    except Exception as exc:  # noqa: BLE001 - the learner's code failed inside the check
        down = unreachable(exc)
        if down is not None:
            return False, (
                f"a service the check needs did not answer, so your answer was not judged: "
                f"{_one_line(down).rstrip('.')}. Run this notebook's first cell, which checks the services "
                "and says what to start, then run this check again"
            )
        return True, f"your answer raised {type(exc).__name__}: {exc} {_where(exc)}"
    return True, None


@contextlib.contextmanager
def cleaning(clean: Callable[[], Any]) -> Iterator[None]:
    """Run ``clean()`` after the block, as ``finally`` would; but when the block raised, a clean-up that fails
    too (its service gone meanwhile) is dropped: the block's error is the one to report."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            clean()
        raise
    clean()


MYSQL_UNREACHABLE = {2002, 2003, 2006, 2013}  # no socket, refused, gone away, lost during a query
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
# host:port as redis-py and our own errors write it, ('host', port) as asyncio's, host='h', port=p as urllib3's
_ADDRESS = re.compile(
    r"(\[[0-9a-f:.]+\]|[\w.-]+):(\d{1,5})\b|\('([^']+)', (\d{1,5})\)|host='([^']+)', port=(\d{1,5})",
    re.IGNORECASE,
)


def unreachable(exc: BaseException) -> BaseException | None:
    """The error to quote when ``exc`` is, or wraps (``__cause__``, ``__context__``, an exception group), a
    failure to reach a service: the ``ServiceError`` that says so for a person when one wraps the failure, else
    the failure itself. ``None`` when nothing failed to connect, or when the failure names host:ports (or an
    error wrapping it does) and no setting names any of them: a made-up address is the answer's own bug."""
    services: set[tuple[str, int]] | None = None
    pending: list[tuple[BaseException, set[tuple[str, int]], ServiceError | None]] = [(exc, set(), None)]
    seen: set[int] = set()
    while pending:
        each, named, told = pending.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        named = _addresses(_one_line(each)) or named
        told = each if isinstance(each, ServiceError) else told
        if _connection_failure(each):
            services = _services() if services is None else services
            if not named or named & services:
                return told or each
        inner = [each.__cause__, each.__context__, *getattr(each, "exceptions", ())]
        pending.extend((wrapped, named, told) for wrapped in inner if wrapped is not None)
    return None


def _connection_failure(exc: BaseException) -> bool:
    """A connection to a service that failed: refused, reset, timed out, lost. redis-py's and PyMySQL's
    errors are looked up, not imported: only a loaded library raises its own."""
    if isinstance(exc, ConnectionError):  # refused, reset, aborted, a broken pipe; pipelining's own
        return True
    redis_errors = sys.modules.get("redis.exceptions")
    if redis_errors is not None and isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError):
        from foundations import redisdb  # redis-py is loaded already

        return not str(exc).startswith(redisdb.POOL_EXHAUSTED)  # the answer held every pooled connection
    mysql_errors = sys.modules.get("pymysql.err")
    return (
        mysql_errors is not None
        and isinstance(exc, mysql_errors.OperationalError)
        and bool(exc.args)
        and exc.args[0] in MYSQL_UNREACHABLE
    )


def _one_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its type's name when it has none), every URL's password masked."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return _URL.sub(lambda url: config.redacted(url.group()), text)


def _addresses(text: str) -> set[tuple[str, int]]:
    """Every host:port ``text`` names."""
    return {_endpoint(*(part for part in found.groups() if part)) for found in _ADDRESS.finditer(text)}


def _endpoint(host: str, port: str | int) -> tuple[str, int]:
    """``(host, port)`` compared as one: the loopback names alike, a host's name in lower case."""
    host = host.strip("[]").lower()
    return ("127.0.0.1" if host in net.LOOPBACK_NAMES else host), int(port)


def _services() -> set[tuple[str, int]]:
    """The host:port of every tutorial service the settings name (none when the settings cannot be read)."""
    try:
        cfg = config.load(argv=[])
    except ConfigError:
        return set()
    return {_endpoint(*cfg.endpoint(setting)) for setting in config.SERVICES.values()}


_LIBRARIES = tuple(sysconfig.get_paths()[kind] for kind in ("stdlib", "platstdlib", "purelib", "platlib"))
_PACKAGE = Path(__file__).resolve().parent.parent  # foundations/, installed editable or not


def _where(exc: BaseException) -> str:
    """Where the learner looks, ``(line 4)``: the line of their own code the error came from, the deepest
    frame outside Python's library, the installed packages and this package (an error raised inside
    concurrent.futures or ``encoding.tag`` names the learner's call of it); then its file, ``(line 4) in
    solutions/ch07.py``, unless that is a notebook cell. With no frame of theirs (a check tripping over an odd
    answer), the deepest line and its file, ``(line 70 of foundations/encoding.py)``."""
    frames = traceback.extract_tb(exc.__traceback__)
    try:
        own = [frame for frame in frames if _theirs(frame.filename)]
    except OSError:  # no working directory to resolve a relative name against (removed under the kernel)
        return f"(line {frames[-1].lineno})"
    if not own:
        return f"(line {frames[-1].lineno} of {_shown(frames[-1].filename)})"
    frame = own[-1]
    return f"(line {frame.lineno})" + ("" if _cell(frame.filename) else f" in {_shown(frame.filename)}")


def _theirs(filename: str) -> bool:
    if filename.startswith((*_LIBRARIES, "<frozen ")):  # <frozen importlib._bootstrap>: Python's too
        return False
    return not Path(filename).resolve().is_relative_to(_PACKAGE)


def _cell(filename: str) -> bool:
    """A notebook cell's code: ipykernel compiles it from ``<tmp>/ipykernel_<pid>/<hash>.py``, IPython's
    terminal from ``<ipython-input-N-hash>``."""
    return Path(filename).parent.name.startswith("ipykernel_") or filename.startswith("<ipython-input-")


def _shown(filename: str) -> str:
    """``filename`` as the learner finds it: from the working directory (a notebook's), the package's files
    as ``foundations/...``, any other file in full."""
    path = Path(filename).resolve()  # _theirs resolved it already: the working directory is there
    for base in (Path.cwd(), _PACKAGE.parent):  # the working directory first: the learner's own files
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return filename


def check(exercise_id: str, answer: Any) -> None:
    """Print whether ``answer`` solves ``exercise_id`` (``verdict`` gives the same as a value)."""
    judged, problem = _judge(exercise_id, answer)
    if not judged:  # a blank cell (Run All reads ahead) or a service down: no attempt of the learner's
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
