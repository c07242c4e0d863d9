"""Every exercise's solution passes its check, an empty answer does not, and every check a notebook calls exists."""

import ast
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from foundations.course import exercises, progress

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTION_FILES = sorted((NOTEBOOKS / "solutions").glob("ch[0-9][0-9].py"))


def solutions(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SOLUTIONS


def all_cases():
    for path in SOLUTION_FILES:
        for exercise_id, solve in solutions(path).items():
            yield pytest.param(exercise_id, solve, id=exercise_id)


@pytest.mark.parametrize("exercise_id, solve", list(all_cases()))
def test_solution_passes_and_wrong_answers_fail(exercise_id, solve, capsys):
    assert exercises.verdict(exercise_id, solve()) is None
    assert exercises.verdict(exercise_id, None) is not None
    assert "no answer yet" in exercises.verdict(exercise_id, ...)


def test_every_exercise_has_a_solution_and_every_notebook_check_exists():
    for path in SOLUTION_FILES:
        chapter = path.stem[2:]
        assert sorted(solutions(path)) == sorted(exercises.registered(chapter)), (
            f"{path.name} vs checks/ch{chapter}.py"
        )
    by_chapter: dict[str, list[str]] = {}
    for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):  # a chapter's appendix sorts after its notebook
        called = re.findall(r'check\(\\"(\d\d\.\w+)\\"', nb.read_text())
        by_chapter.setdefault(nb.name[:2], []).extend(called)
    for chapter, called in by_chapter.items():
        if called:  # the board's columns follow the notebooks
            assert called == exercises.registered(chapter), (
                f"chapter {chapter}'s notebooks vs its checks' order"
            )


def test_an_appendixs_checks_come_after_the_chapters_even_when_imported_first():
    """A test module that imports ``ch11_appendix`` before anything imported ``ch11`` once turned the board's
    columns (and the test above, in the same worker) around."""
    code = (
        "from foundations.course.checks import ch11_appendix\n"
        "from foundations.course import exercises\n"
        "print(exercises.registered('11'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ids = ast.literal_eval(done.stdout)
    assert ids.index("11.resolve") < ids.index("11.worker_counters") < ids.index("11.allowed")


def stub(compose, name): ...


def blank_test(make_registry):  # 09.test_delete as shipped
    reg = make_registry("test")  # noqa: F841 - the learner goes on from here
    ...


def started(compose, name):
    service = compose["services"][name]  # noqa: F841 - the learner has not finished
    ...


class Shipped:  # 11.worker_counters as shipped
    def __init__(self, folder): ...

    def count(self, name): ...


class Begun(Shipped):
    def count(self, name):
        self.seen = name


def wrong(compose, name):
    return ["docker", "run", compose["services"][name]["image"]]


def test_the_cells_as_shipped_are_blank_and_no_attempt(capsys, tmp_path, monkeypatch):
    """Run All runs the blank exercise cells: they answer "no answer yet" and leave no attempt on the board."""
    monkeypatch.setenv(progress.HOME_VARIABLE, str(tmp_path))
    for answer in (..., stub, blank_test, started, {"/": ..., "/hey": ...}, Shipped):
        assert exercises.blank(answer), answer
    for answer in (None, wrong, lambda compose, name: ..., {"/": 200, "/hey": ...}, print, Begun, int):
        assert not exercises.blank(answer), answer
    exercises.check("01.docker_run", stub)
    assert capsys.readouterr().out.startswith("[01.docker_run] no answer yet: replace the `...`")
    assert progress.read(tmp_path) == {}
    exercises.check("01.docker_run", wrong)
    exercises.check("01.docker_run", solutions(NOTEBOOKS / "solutions" / "ch01.py")["01.docker_run"]())
    entry = progress.read(tmp_path)["01.docker_run"]
    assert entry["attempts"] == 2 and entry["passed"] is True


def test_check_prints_plain_words(capsys):
    exercises.check("01.docker_run", ...)
    assert "[01.docker_run] no answer yet" in capsys.readouterr().out
    exercises.check("01.docker_run", 42)
    assert "expected a function docker_run(compose, name), got int" in capsys.readouterr().out
    exercises.check("01.ping_all", lambda urls: 1 / 0)
    assert "your answer raised ZeroDivisionError" in capsys.readouterr().out
    exercises.check("01.docker_run", solutions(NOTEBOOKS / "solutions" / "ch01.py")["01.docker_run"]())
    assert "correct." in capsys.readouterr().out


def _tags_an_int():
    from foundations import encoding

    return encoding.tag(123)  # parse_tag's spec.split fails inside foundations/encoding.py


def test_an_error_inside_the_course_code_names_the_learners_call_and_file(monkeypatch):
    """A helper of the package misused: the line is the learner's call of it (in the file it is in), never
    the package's own line, which the learner would look up in their cell."""
    monkeypatch.setitem(exercises._CHECKS, "99.throwaway", lambda answer: answer())
    line = inspect.getsourcelines(_tags_an_int)[1] + 3  # the `return encoding.tag(123)` line
    said = exercises.verdict("99.throwaway", _tags_an_int)
    assert said.startswith("your answer raised AttributeError: 'int' object has no attribute 'split'"), said
    assert said.endswith(f"(line {line}) in tests/test_exercises.py"), said
    assert "encoding.py" not in said


def test_an_error_in_a_notebook_cell_names_the_cells_line_only(monkeypatch):
    """A cell's code is compiled from ipykernel's cell file (/tmp/ipykernel_<pid>/<hash>.py): its line alone,
    that name means nothing to the learner."""
    monkeypatch.setitem(exercises._CHECKS, "99.throwaway", lambda answer: answer())
    cell = "from foundations import encoding\n\ndef answer():\n    return encoding.tag(123)\n"
    namespace: dict = {}
    exec(compile(cell, "/tmp/ipykernel_4242/123456789.py", "exec"), namespace)
    said = exercises.verdict("99.throwaway", namespace["answer"])
    assert said.endswith("'split' (line 4)"), said


def test_an_error_the_check_itself_raises_names_the_courses_file(monkeypatch):
    """No frame of the learner's (a check tripping over an odd answer): the line is the course's, and the
    message names its file, so that nobody looks for it in their cell."""
    from foundations import encoding

    monkeypatch.setitem(exercises._CHECKS, "99.throwaway", encoding.parse_tag)  # spec.split, on an int
    said = exercises.verdict("99.throwaway", 123)
    line = next(n for n, text in enumerate(inspect.getsourcelines(encoding)[0], 1) if "spec.split(" in text)
    assert said.endswith(f"(line {line} of foundations/encoding.py)"), said
