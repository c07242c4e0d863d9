"""course.hygiene: volatile notebook metadata goes, what nbval compares stays."""

from pathlib import Path

import nbformat

from foundations.course import hygiene


def notebook() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        "1 + 1", execution_count=1, outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    )
    cell.metadata.update(
        execution={"iopub.status.busy": "2026-11-28T04:38:32Z"}, scrolled=True, tags=["nbval-ignore-output"]
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata.update(language_info={"name": "python", "version": "3.11.7"}, widgets={"state": {}})
    return nb


def test_clean_drops_timings_view_state_and_patch_version_but_keeps_outputs_and_tags():
    nb = notebook()
    assert hygiene.clean(nb) is True
    cell = nb.cells[0]
    assert cell.metadata == {"tags": ["nbval-ignore-output"]}
    assert cell.outputs[0]["data"] == {"text/plain": "2"} and cell.execution_count == 1
    assert nb.metadata.language_info == {"name": "python"} and "widgets" not in nb.metadata
    assert hygiene.clean(nb) is False


def test_check_mode_reports_without_writing(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook(), path)
    before = path.read_text()
    assert hygiene.main(["--check", str(path)]) == 1
    assert path.read_text() == before
    assert "volatile metadata found" in capsys.readouterr().out
    assert hygiene.main([str(path)]) == 0
    assert hygiene.main(["--check", str(path)]) == 0


def test_committed_notebooks_carry_no_volatile_metadata():
    notebooks = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
    assert hygiene.main(["--check", *notebooks]) == 0, (
        "run: python -m foundations.course.hygiene notebooks/*.ipynb"
    )
