"""Chapter 9: run tests the way the book runs ``go test`` - pytest, its output as a person sees it - and read
coverage the three ways the book shows: total, per function, HTML.

    >>> print(run_pytest(["registry_story.py", "--impl", "v1"], cwd=STORY).output)       # a fresh process
    >>> print(run_pytest_here(["registry_story.py", "--impl", "v1"], cwd=STORY).output)  # the same, faster
    >>> print("$", run_pytest(["registry_story.py"], cwd=STORY).command)  # what to type in a terminal there

One coverage run with ``per_test=True`` records which test ran which line, so ``report_for`` can then give the
coverage of any selection of those tests without running them again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from foundations import config


@dataclass(frozen=True)
class TestRun:
    returncode: int  # 0: all passed, 1: some failed (go test's PASS / FAIL)
    output: str
    command: str = ""  # the command line, as one types it in a terminal in the run's folder

    @property
    def passed(self) -> bool:
        return self.returncode == 0


# What makes pytest print differently: CI markers (summary lines are then never cut) and extra options.
CALLER_PYTEST_SETTINGS = ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")
PYTEST_FLAGS = ("-q", "--tb=short", "--color=no")
# Only the plugins a run names are loaded. This environment also holds nbval, schemathesis and hypothesis,
# whose automatic loading costs about 4 s per run and changes nothing the runs print; pytest-cov is named.
NO_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
PLUGINS = ("pytest_cov",)


def run_pytest(
    args: list[str], cwd: Path, timeout: float = 300, plugins: Sequence[str] = (), **environ: str
) -> TestRun:
    """``python -m pytest -q --tb=short <args>`` in ``cwd``, with this interpreter and our endpoints, on
    an 80-column terminal and without the caller's CI markers or ``PYTEST_ADDOPTS``: pytest cuts its summary
    lines to the width unless it believes it runs in CI, and the notebook's stored output must not depend on
    who ran it. Plugins: pytest-cov and ``plugins`` (``"nbval.plugin"``...). ``environ`` adds variables
    (``COVERAGE_FILE=...``)."""
    words = ["pytest", *PYTEST_FLAGS, *_plugin_flags(plugins), *args]
    return _run(words, cwd, timeout, {**NO_AUTOLOAD, **environ})


def run_coverage(args: list[str], cwd: Path, timeout: float = 60, **environ: str) -> TestRun:
    """``python -m coverage <args>`` in ``cwd``, on the data a run there left in ``.coverage`` (or in
    ``COVERAGE_FILE``): ``report -m`` is the book's ``go tool cover -func`` per file, ``html`` its ``-html``."""
    return _run(["coverage", *args], cwd, timeout, environ)


def _run(words: list[str], cwd: Path, timeout: float, environ: dict[str, str]) -> TestRun:
    env = config.child_environ(config.load([]), COLUMNS="80", **environ)
    for name in CALLER_PYTEST_SETTINGS:
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", *words],
        cwd=cwd,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return TestRun(done.returncode, done.stdout.strip(), command_line(words, cwd, environ))


def command_line(words: Sequence[str], cwd: Path, environ: dict[str, str] | None = None) -> str:
    """``python -m <words>`` as one types it in a terminal in ``cwd``, with the project's virtual environment
    active: the variables ``environ`` sets first, and paths under ``cwd`` written relative to it (so the line
    is the same on every machine)."""
    folder = str(Path(cwd).resolve()) + os.sep
    line = [*(f"{name}={value}" for name, value in (environ or {}).items()), "python", "-m", *words]
    return shlex.join(word.replace(folder, "") for word in line)


def _plugin_flags(plugins: Sequence[str]) -> list[str]:
    return [flag for name in (*PLUGINS, *plugins) for flag in ("-p", name)]


def run_pytest_here(args: list[str], cwd: Path) -> TestRun:
    """What ``run_pytest`` prints, from a run in this process: no interpreter start-up and no re-import of
    pytest and its plugins, about a second saved per run. The test files under ``cwd`` are imported afresh
    for each run (so pytest rewrites their asserts, as in a new process) and forgotten after it.
    Not for coverage: code imported before coverage starts shows its definitions as never run."""
    import pytest

    words = ["pytest", *PYTEST_FLAGS, *_plugin_flags(()), *args]
    out = io.StringIO()
    with _fresh_imports_from(Path(cwd)), _pytest_environment(), contextlib.redirect_stdout(out):
        code = pytest.main(words[1:])
    return TestRun(int(code), out.getvalue().strip(), command_line(words, cwd, NO_AUTOLOAD))


@contextlib.contextmanager
def _fresh_imports_from(folder: Path) -> Iterator[None]:
    folder = folder.resolve()
    cwd, path = os.getcwd(), list(sys.path)

    def forget() -> None:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().is_relative_to(folder):
                del sys.modules[name]

    forget()  # a test module the caller imported (to show its source) was not rewritten by pytest
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        forget()


@contextlib.contextmanager
def _pytest_environment() -> Iterator[None]:
    """What ``run_pytest`` gives its process: 80 columns, no autoloaded plugins, none of the caller's settings."""
    saved = {name: os.environ.pop(name, None) for name in (*CALLER_PYTEST_SETTINGS, "COLUMNS", *NO_AUTOLOAD)}
    os.environ.update(COLUMNS="80", **NO_AUTOLOAD)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def coverage_args(module: str, report_dir: Path, per_test: bool = False) -> list[str]:
    """pytest-cov flags for line+branch coverage of ``module``, JSON and HTML reports in ``report_dir``
    (the book's ``-coverprofile`` + ``go tool cover -html``); ``per_test`` also records which test ran each
    line (``--cov-context=test``), in ``report_dir/.coverage``, for ``report_for``."""
    report_dir = report_dir.resolve()  # pytest runs in another folder
    flags = [
        f"--cov={module}",
        "--cov-branch",
        f"--cov-report=json:{report_dir / 'coverage.json'}",
        f"--cov-report=html:{report_dir / 'htmlcov'}",
    ]
    return [*flags, "--cov-context=test"] if per_test else flags


def data_file(report_dir: Path) -> Path:
    """Where a ``per_test`` run keeps its coverage data (set ``COVERAGE_FILE`` to it for the run)."""
    return report_dir.resolve() / ".coverage"


def report_for(report_dir: Path, tests: Sequence[str], html: bool = False) -> Path:
    """The JSON report (and with ``html`` the HTML one) of a ``per_test`` run, counting only the lines that
    ``tests`` (test function names) ran, as if only they had been selected: what ran while modules were
    imported and fixtures set up (no test's own code) counts too. Returns the JSON report's path."""
    import coverage

    contexts = ["^$", r"\|setup$", *(rf"::{name}\|" for name in tests)]
    cov = coverage.Coverage(data_file=str(data_file(report_dir)))
    cov.load()
    out = report_dir.resolve() / "selected.json"
    cov.json_report(outfile=str(out), contexts=contexts)
    if html:
        cov.html_report(directory=str(report_dir.resolve() / "htmlcov"), contexts=contexts)
    return out


def total(report: Path) -> str:
    """The book's ``coverage: 71.4% of statements``, plus branches (when the code has any)."""
    totals = json.loads(report.read_text())["totals"]
    branches = (
        f"{totals['percent_branches_covered']:.1f}% of branches"
        if totals["num_branches"]
        else "no branches to take"
    )
    return f"coverage: {totals['percent_statements_covered']:.1f}% of statements, {branches}"


def _summed(report: Path, functions: Sequence[str]) -> tuple[dict[str, int], list[int]]:
    """The coverage summaries of ``functions`` added up, and the lines of theirs no test ran."""
    sums = dict.fromkeys(("covered_lines", "num_statements", "covered_branches", "num_branches"), 0)
    missing: list[int] = []
    for data in json.loads(report.read_text())["files"].values():
        for name in functions:
            if name in data["functions"]:
                summary = data["functions"][name]["summary"]
                for field in sums:
                    sums[field] += summary[field]
                missing += data["functions"][name]["missing_lines"]
    if not sums["num_statements"]:
        raise ValueError(f"none of {list(functions)} is in {report}")
    return sums, sorted(missing)


def subtotal(report: Path, functions: Sequence[str]) -> str:
    """``total``, counting only ``functions`` (``"Registry.get"``...): the coverage of the code a story tests,
    without the rest of its module."""
    sums, _ = _summed(report, functions)
    statements = 100 * sums["covered_lines"] / sums["num_statements"]
    branches = (
        f"{100 * sums['covered_branches'] / sums['num_branches']:.1f}% of branches"
        if sums["num_branches"]
        else "no branches to take"
    )
    return f"coverage: {statements:.1f}% of statements, {branches}"


def statements(report: Path, functions: Sequence[str]) -> int:
    """How many statements ``functions`` hold, as coverage.py counts them (what Go's cover counts too)."""
    return _summed(report, functions)[0]["num_statements"]


def missing_lines(report: Path, functions: Sequence[str]) -> list[int]:
    """The line numbers in ``functions`` that no test ran: what the book's HTML report shows red."""
    return _summed(report, functions)[1]


def per_function(report: Path) -> list[dict]:
    """The book's ``go tool cover -func``: one row per function (line, name, statements %, branches %)."""
    rows = []
    for data in json.loads(report.read_text())["files"].values():
        for name, fn in data["functions"].items():
            if not name:  # module-level statements
                continue
            summary = fn["summary"]
            rows.append(
                {
                    "line": fn["start_line"],
                    "function": name,
                    "statements": f"{summary['percent_statements_covered']:.1f}%",
                    "branches": f"{summary['percent_branches_covered']:.1f}%"
                    if summary["num_branches"]
                    else "-",
                    "missing lines": ", ".join(map(str, fn["missing_lines"])) or "-",
                }
            )
    return rows
