"""Checks for the exercises of notebook 02 (data structures)."""

import dataclasses
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from foundations.course.exercises import exercise, expect


@runtime_checkable
class Named(Protocol):
    def get_name(self) -> str: ...


@exercise("02.parrot")
def parrot(answer):
    expect(isinstance(answer, type), f"expected the class Parrot itself, got {type(answer).__name__}")
    expect(dataclasses.is_dataclass(answer), "Parrot should be a @dataclass")
    expect([f.name for f in dataclasses.fields(answer)][:1] == ["name"], "Parrot's first field should be `name`")
    expect(answer.__mro__[1:] == (object,), "Parrot should not inherit from anything: a Protocol is structural")
    polly = answer(name="Polly")
    expect(isinstance(polly, Named), "Parrot needs a get_name() method to satisfy Named")
    expect(polly.get_name() == "Polly", f"Parrot(name='Polly').get_name() returned {polly.get_name()!r}")


@dataclass
class _Dog:
    name: str
    breed: str


@dataclass
class _Cat:
    name: str
    hypoallergenic: bool


@dataclass
class _Tag:
    name: str
    color: str = "red"


@exercise("02.convert")
def convert(answer):
    expect(callable(answer), "expected a function convert(value, target, **extra)")
    cat = answer(_Dog("Rex", "Beagle"), _Cat, hypoallergenic=False)
    expect(isinstance(cat, _Cat), f"expected a Cat, got {type(cat).__name__}")
    expect(cat == _Cat("Rex", False), f"expected Cat(name='Rex', hypoallergenic=False), got {cat!r}")
    expect(answer(_Cat("Tom", True), _Tag) == _Tag("Tom"), "a target field with a default may be left out")
    expect(answer(_Dog("Rex", "x"), _Dog, name="Max") == _Dog("Max", "x"), "extra should win over copied fields")
    try:
        answer(_Dog("Rex", "Beagle"), _Cat)
    except TypeError as exc:
        expect("hypoallergenic" in str(exc), f"the TypeError should name the missing field, it says: {exc}")
        return
    expect(False, "converting a Dog to a Cat without hypoallergenic should raise TypeError")
