"""Chapter 10's appendix on a machine without wrk: its text promises that the built-in load generator takes
wrk's place. The built-in loads are too short to compare rates, and the notebook must say so, not fail."""

import os
from pathlib import Path

import nbformat

from foundations.course import refresh

APPENDIX = Path(__file__).parent.parent / "notebooks" / "10_first_api_appendix.ipynb"


def path_without(tool: str, into: Path) -> str:
    """A PATH whose programs are PATH's, by link, save ``tool``."""
    into.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if program.name != tool and not (into / program.name).exists():
                (into / program.name).symlink_to(program)
    return str(into)


def test_the_appendix_runs_on_the_built_in_load_generator_without_wrk(cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without("wrk", tmp_path / "bin"))  # the kernel inherits it
    notebook = nbformat.read(APPENDIX, as_version=4)
    refresh.execute(notebook, APPENDIX.parent)  # raises CellExecutionError, with the cell and its error
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "builtin -c64" in printed and "wrk -c" not in printed, (
        "the loads did not switch to the built-in tool"
    )
    assert "no load ran 0.5 s or more here, so no rate is compared" in printed, (
        "short loads were compared by rate"
    )
