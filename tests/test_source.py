"""course.source.show: the lesson's code as a notebook shows it."""

import pytest

from foundations import routing
from foundations.course import source


def test_show_gives_the_whole_function_with_its_file_and_line():
    text = source.show(routing.greeting).data
    assert text.startswith("`foundations/routing.py`, line ")
    assert "```python\ndef greeting(name: str | None) -> str:\n" in text
    assert text.rstrip().endswith('return f"Hello {name}!" if name else "Hello ... you."\n```')


def test_show_cuts_to_the_core_and_dedents_it():
    text = source.show(routing.say, first="rest =", last="return error_response").data
    code = text.split("```python\n")[1]
    assert code.startswith("rest = request.path")
    assert code.rstrip().endswith("```") and "return text_response" not in code
    line = int(text.split("line ")[1].split(":")[0])
    assert line > routing.say.__code__.co_firstlineno


def test_show_says_when_the_cut_is_not_there():
    with pytest.raises(ValueError, match="'no such text' is not in the source shown"):
        source.show(routing.say, first="no such text")


def test_show_reads_through_a_decorator_to_the_function_it_wraps():
    from foundations import encoding

    text = source.show(encoding._plan, first="for f in", last="plan.append").data
    assert text.startswith("`foundations/encoding.py`, line ")
    assert "```python\nfor f in dataclasses.fields(cls):\n" in text


def test_show_numbers_a_modules_lines_from_one():
    from foundations import metrics

    text = source.show(metrics, first="REGISTRY_COUNTERS =", last="COUNTERS = (*").data
    line = int(text.split("line ")[1].split(":")[0])
    source_lines = open(metrics.__file__).read().splitlines()
    assert source_lines[line - 1].startswith("REGISTRY_COUNTERS =")
    assert "COUNTERS = (*REGISTRY_COUNTERS" in text
