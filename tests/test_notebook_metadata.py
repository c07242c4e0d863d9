"""The notebooks' pre-commit hook, nb-clean with .pre-commit-config.yaml's arguments: the metadata that changes
on every run or click goes, what nbval compares stays; and each hook runs the version the test lock pins."""

import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from foundations import pins
from foundations.config import REPO_ROOT
from foundations.course import refresh

HOOKS = {
    repo["repo"].rsplit("/", 1)[-1]: repo
    for repo in yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())["repos"]
}
NB_CLEAN_ARGS = HOOKS["nb-clean"]["hooks"][0]["args"]


def nb_clean(action: str, *paths: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("nb-clean")  # the test lock's, in this environment
    return subprocess.run([exe, action, *NB_CLEAN_ARGS, *paths], capture_output=True, text=True)


def dirty_notebook() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        "1 + 1", execution_count=1, outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    )
    cell.outputs[0].execution_count = 1
    cell.metadata.update(
        execution={"iopub.status.busy": "2026-11-28T04:38:32Z"},
        ExecuteTime={"end_time": "2026-11-28T04:38:33Z"},
        collapsed=False,
        scrolled=True,
        jupyter={"outputs_hidden": False},
        tags=["nbval-ignore-output"],
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata.update(language_info={"name": "python", "version": "3.11.7"})
    return nb


def test_the_hook_drops_timings_view_state_and_patch_version_but_keeps_outputs_and_tags(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(dirty_notebook(), path)
    before = path.read_text()
    assert nb_clean("check", path).returncode == 1
    assert path.read_text() == before  # check only reports
    assert nb_clean("clean", path).returncode == 0
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[0]
    assert cell.metadata == {"tags": ["nbval-ignore-output"]}
    assert cell.outputs[0]["data"] == {"text/plain": "2"} and cell.execution_count == 1
    assert nb.metadata.language_info == {"name": "python"}
    assert nb_clean("check", path).returncode == 0


def test_committed_notebooks_carry_no_volatile_metadata():
    done = nb_clean("check", *sorted((REPO_ROOT / "notebooks").glob("*.ipynb")))
    assert done.returncode == 0, f"{done.stdout}{done.stderr}fix: pre-commit run nb-clean --all-files"


def test_refresh_writes_nothing_the_hook_would_drop(tmp_path):
    """make refresh-outputs runs the course's kernel, which reports no patch version, without cell timings."""
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    refresh.refresh(path)
    nb = nbformat.read(path, as_version=4)
    assert (
        nb.cells[0].outputs[0]["data"] == {"text/plain": "2"}
        and nb.metadata.language_info["name"] == "python"
    )
    assert nb_clean("check", path).returncode == 0


def test_each_hook_runs_the_version_the_test_lock_pins():
    pinned = pins.applying_here(REPO_ROOT / "requirements-test.lock")
    assert HOOKS["ruff-pre-commit"]["rev"] == f"v{pinned['ruff']}"
    assert HOOKS["nb-clean"]["rev"] == f"v{pinned['nb-clean']}"
