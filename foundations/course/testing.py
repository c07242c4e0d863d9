"""Chapter 9: run tests the way the book runs ``go test`` - pytest in a subprocess, its output as a person
sees it - and read coverage the three ways the book shows: total, per function, HTML.

    >>> print(run_pytest(["registry_story.py", "--impl", "v1"], cwd=STORY).output)
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from foundations import config


@dataclass(frozen=True)
class TestRun:
    returncode: int  # 0: all passed, 1: some failed (go test's PASS / FAIL)
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0


# What makes pytest print differently: CI markers (summary lines are then never cut) and extra options.
CALLER_PYTEST_SETTINGS = ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")


def run_pytest(args: list[str], cwd: Path, timeout: float = 300) -> TestRun:
    """``python -m pytest -q --tb=short <args>`` in ``cwd``, with this interpreter and our endpoints, on
    an 80-column terminal and without the caller's CI markers or ``PYTEST_ADDOPTS``: pytest cuts its summary
    lines to the width unless it believes it runs in CI, and the notebook's stored output must not depend on
    who ran it."""
    env = config.child_environ(config.load([]), COLUMNS="80")
    for name in CALLER_PYTEST_SETTINGS:
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--tb=short", "--color=no", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)
    return TestRun(done.returncode, done.stdout.strip())


def coverage_args(module: str, report_dir: Path) -> list[str]:
    """pytest-cov flags for line+branch coverage of ``module``, JSON and HTML reports in ``report_dir``
    (the book's ``-coverprofile`` + ``go tool cover -html``)."""
    report_dir = report_dir.resolve()  # pytest runs in another folder
    return [f"--cov={module}", "--cov-branch", f"--cov-report=json:{report_dir / 'coverage.json'}",
            f"--cov-report=html:{report_dir / 'htmlcov'}"]


def total(report: Path) -> str:
    """The book's ``coverage: 71.4% of statements``, plus branches."""
    totals = json.loads(report.read_text())["totals"]
    return (f"coverage: {totals['percent_statements_covered']:.1f}% of statements, "
            f"{totals['percent_branches_covered']:.1f}% of branches")


def per_function(report: Path) -> list[dict]:
    """The book's ``go tool cover -func``: one row per function (line, name, statements %, branches %)."""
    rows = []
    for data in json.loads(report.read_text())["files"].values():
        for name, fn in data["functions"].items():
            if not name:  # module-level statements
                continue
            summary = fn["summary"]
            rows.append({"line": fn["start_line"], "function": name,
                         "statements": f"{summary['percent_statements_covered']:.1f}%",
                         "branches": f"{summary['percent_branches_covered']:.1f}%" if summary["num_branches"] else "-",
                         "missing lines": ", ".join(map(str, fn["missing_lines"])) or "-"})
    return rows
