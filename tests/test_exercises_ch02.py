"""Chapter 2's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import dataclasses
from dataclasses import dataclass

import pytest

from foundations.course import exercises
from foundations.course.checks.ch02 import Named


@dataclass
class HardCoded:
    name: str

    def get_name(self) -> str:
        return "Polly"


@dataclass
class Inherits(Named):
    name: str

    def get_name(self) -> str:
        return self.name


class NotADataclass:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


@dataclass
class NameOnly:
    name: str
    get_name: str = "Polly"  # satisfies isinstance(x, Named): runtime_checkable checks names only


PARROT_WRONG = [
    pytest.param(HardCoded, "Parrot(name='Kiwi').get_name() returned 'Polly'", id="hard-coded-name"),
    pytest.param(Inherits, "should not inherit from anything", id="inherits-the-protocol"),
    pytest.param(NotADataclass, "should be a @dataclass", id="plain-class"),
    pytest.param(NameOnly, "get_name must be a method", id="attribute-not-method"),
    pytest.param(HardCoded("Polly"), "expected the class Parrot itself", id="an-instance"),
]


@pytest.mark.parametrize("answer, message", PARROT_WRONG)
def test_parrot_rejects(answer, message):
    assert message in exercises.verdict("02.parrot", answer)


def _shared(value, target):
    names = {f.name for f in dataclasses.fields(target)}
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name in names}


def _swallows(value, target, **extra):
    try:
        return target(**{**_shared(value, target), **extra})
    except TypeError:
        return None


CONVERT_WRONG = [
    pytest.param(
        lambda value, target, **extra: target(value, **extra),
        "that is Python's Cat(dog)",
        id="positional-cat-of-dog",
    ),
    pytest.param(
        lambda value, target, **extra: target(**dataclasses.asdict(value), **extra),
        "raised TypeError: ",
        id="copies-every-field",
    ),
    pytest.param(
        lambda value, target, **extra: target(name=value.name, **extra),
        "ShowEntry, rank=1) raised",
        id="copies-only-name",
    ),
    pytest.param(
        lambda value, target, **extra: target(**{**extra, **_shared(value, target)}),
        "extra should win",
        id="extra-loses",
    ),
    pytest.param(_swallows, "should raise TypeError", id="swallows-the-error"),
]


@pytest.mark.parametrize("answer, message", CONVERT_WRONG)
def test_convert_rejects(answer, message):
    assert message in exercises.verdict("02.convert", answer)
