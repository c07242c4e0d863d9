"""Chapter 10 and its appendix on a machine without wrk (macOS ships ab, not wrk): their text promises that the
built-in load generator takes wrk's place. What needs wrk's load (rates of short loads, batches of 64 waiting
requests) the notebooks must print and say so, not fail."""

import os
from pathlib import Path

import nbformat

from foundations.course import refresh

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
APPENDIX, CHAPTER = NOTEBOOKS / "10_first_api_appendix.ipynb", NOTEBOOKS / "10_first_api.ipynb"


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
    # each load's rate compared only where it ran 0.5 s or more: which ones did depends on the machine's speed
    assert "left out, under 0.5 s on a server:" in printed, "short loads were not left out of the rates"
    assert (
        "no load ran 0.5 s or more here, so no rate is compared" in printed
        or "over the loads that ran 0.5 s or more" in printed
    ), "the rates were neither compared nor said to be left out"


def test_chapter_10_runs_its_part_4_on_the_built_in_load_generator_without_wrk(cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without("wrk", tmp_path / "bin"))
    notebook = nbformat.read(CHAPTER, as_version=4)
    refresh.execute(notebook, CHAPTER.parent)
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "builtin -c64" in printed and "wrk -c" not in printed, "part 4 did not switch to the built-in tool"
    assert "not asserted: without wrk, the built-in generator" in printed, (
        "part 4 asserted what needs wrk's load"
    )
