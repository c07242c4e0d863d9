"""foundations.course.testing: an in-process pytest run prints what a new process prints, and one coverage
run recorded per test reports any selection of its tests as a run of only those would."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from foundations.course import testing

MODULE = "def used():\n    return 1\n\n\ndef other(x):\n    if x:\n        return 2\n    return 3\n"
TESTS = (
    "import mod\n\n\ndef test_used():\n    assert mod.used() == 1\n\n\n"
    "def test_other():\n    assert mod.other(True) == 2\n\n\n"
    "def test_wrong():\n    assert mod.used() == 2\n"
)


@pytest.fixture
def story(tmp_path):
    (tmp_path / "mod_story.py").write_text(MODULE.replace("mod", "mod_story"))
    (tmp_path / "mod.py").write_text(MODULE)
    (tmp_path / "test_mod.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return tmp_path


def without_duration(output):
    """What may differ between two runs: the duration, and the addresses of objects."""
    return re.sub(r"0x[0-9a-f]+", "0x", output.rsplit(" in ", 1)[0])


def test_in_process_prints_what_a_new_process_prints(story, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # the caller's terminal must not matter, as for run_pytest
    sys.path.insert(0, str(story))
    try:
        importlib.import_module("test_mod")  # imported by the caller, so without pytest's assert rewriting
    finally:
        sys.path.remove(str(story))
    expected = testing.run_pytest(["test_mod.py"], cwd=story)
    for _ in range(2):  # and again: each run imports the test file afresh
        here = testing.run_pytest_here(["test_mod.py"], cwd=story)
        assert (here.returncode, without_duration(here.output)) == (1, without_duration(expected.output))
    assert "where 1 = <function used at" in here.output  # the rewritten assert explains itself
    assert "test_mod" not in sys.modules and str(story) not in sys.path
    assert testing.run_pytest_here(["test_mod.py", "-k", "not wrong"], cwd=story).passed


def test_a_per_test_run_reports_each_selection_like_a_run_of_it(story):
    whole = story / "whole"
    flags = testing.coverage_args("mod", whole, per_test=True)
    run = testing.run_pytest(
        ["test_mod.py", "-k", "not wrong", *flags], cwd=story, COVERAGE_FILE=str(testing.data_file(whole))
    )
    assert run.passed, run.output
    for selection in (["test_other"], ["test_used", "test_other"]):
        alone = story / "-".join(selection)
        flags = testing.coverage_args("mod", alone)
        testing.run_pytest(["test_mod.py", "-k", " or ".join(selection), *flags], cwd=story)
        expected = testing.total(alone / "coverage.json")
        assert testing.total(testing.report_for(whole, selection)) == expected, selection
    assert testing.total(testing.report_for(whole, ["test_used"])) == (
        "coverage: 50.0% of statements, 0.0% of branches"
    )


def test_total_says_when_there_are_no_branches(story):
    (story / "test_flat.py").write_text(
        "import mod_story\n\n\ndef test_used():\n    assert mod_story.used() == 1\n"
    )
    (story / "mod_story.py").write_text("def used():\n    return 1\n")
    testing.run_pytest(["test_flat.py", *testing.coverage_args("mod_story", story / "flat")], cwd=story)
    flat = testing.total(story / "flat" / "coverage.json")
    assert flat == "coverage: 100.0% of statements, no branches to take"


def test_runs_load_only_the_plugins_they_name(story, monkeypatch):
    """Autoloading every installed plugin (nbval, schemathesis...) costs seconds per run and prints nothing."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    (story / "test_plugins.py").write_text(
        "def test_named_only(pytestconfig):\n"
        "    names = ' '.join(name for name, _ in pytestconfig.pluginmanager.list_name_plugin())\n"
        "    assert 'pytest_cov' in names and 'nbval' not in names and 'schemathesis' not in names\n"
    )
    assert testing.run_pytest(["test_plugins.py"], cwd=story).passed
    assert testing.run_pytest_here(["test_plugins.py"], cwd=story).passed
    assert not testing.run_pytest(["test_plugins.py"], cwd=story, plugins=["nbval.plugin"]).passed


def test_subtotal_counts_only_the_functions_named(story):
    testing.run_pytest(["test_mod.py", "-k", "used", *testing.coverage_args("mod", story / "sub")], cwd=story)
    report = story / "sub" / "coverage.json"
    assert testing.subtotal(report, ["used"]) == "coverage: 100.0% of statements, no branches to take"
    assert testing.subtotal(report, ["other"]) == "coverage: 0.0% of statements, 0.0% of branches"
    assert testing.subtotal(report, ["used", "other"]) == "coverage: 25.0% of statements, 0.0% of branches"
    with pytest.raises(ValueError, match="none of"):
        testing.subtotal(report, ["missing"])
    assert testing.statements(report, ["used"]) == 1 and testing.statements(report, ["used", "other"]) == 4
    assert testing.missing_lines(report, ["used"]) == [] and testing.missing_lines(report, ["other"]) == [
        6,
        7,
        8,
    ]


def test_the_command_a_run_prints_runs_the_same_in_a_terminal(story):
    """The line a notebook prints with each run is one a learner can type: relative paths, and the same
    output when a shell runs it in the run's folder with the virtual environment's python first on PATH."""
    report = story / "report"
    args = ["test_mod.py", "-k", "not wrong", *testing.coverage_args("mod", report)]
    run = testing.run_pytest(args, cwd=story, COVERAGE_FILE=str(testing.data_file(report)))
    assert run.command == (
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 COVERAGE_FILE=report/.coverage python -m pytest -q --tb=short "
        "--color=no -p pytest_cov test_mod.py -k 'not wrong' --cov=mod --cov-branch "
        "--cov-report=json:report/coverage.json --cov-report=html:report/htmlcov"
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {name: value for name, value in os.environ.items() if name not in testing.CALLER_PYTEST_SETTINGS}
    typed = subprocess.run(
        run.command,
        shell=True,
        cwd=story,
        env={**env, "PATH": path, "COLUMNS": "80"},
        capture_output=True,
        text=True,
    )
    relative = run.output.replace(f"{story}{os.sep}", "")  # pytest-cov names the report paths it was given
    assert without_duration(typed.stdout.strip()) == without_duration(relative)
    here = testing.run_pytest_here(["test_mod.py", "-k", "not wrong"], cwd=story)
    assert here.command == (
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q --tb=short --color=no -p pytest_cov "
        "test_mod.py -k 'not wrong'"
    )
    report_run = testing.run_coverage(
        ["report", "-m"], cwd=story, COVERAGE_FILE=str(testing.data_file(report))
    )
    assert report_run.command == "COVERAGE_FILE=report/.coverage python -m coverage report -m"
    assert report_run.passed and re.search(r"mod\.py\s+6\s+1\s+2\s+1\s+75%\s+8$", report_run.output, re.M), (
        report_run.output
    )
