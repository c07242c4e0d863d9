"""Checks for the exercises of notebook 02 (data structures)."""

import dataclasses
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from foundations.course.exercises import Wrong, exercise, expect


@runtime_checkable
class Named(Protocol):
    def get_name(self) -> str: ...


@exercise("02.parrot")
def parrot(answer):
    expect(isinstance(answer, type), f"expected the class Parrot itself, got {type(answer).__name__}")
    expect(dataclasses.is_dataclass(answer), "Parrot should be a @dataclass")
    expect(
        [f.name for f in dataclasses.fields(answer)][:1] == ["name"], "Parrot's first field should be `name`"
    )
    expect(
        answer.__mro__[1:] == (object,), "Parrot should not inherit from anything: a Protocol is structural"
    )
    expect(
        callable(getattr(answer, "get_name", None)),
        "get_name must be a method (def get_name(self) -> str): isinstance(x, Named) only checks that "
        "an attribute of that name exists, so it cannot tell you",
    )
    for name in ["Polly", "Kiwi"]:
        bird = answer(name=name)
        expect(isinstance(bird, Named), "Parrot needs a get_name() method to satisfy Named")
        expect(bird.get_name() == name, f"Parrot(name={name!r}).get_name() returned {bird.get_name()!r}")


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


@dataclass
class _ShowEntry:
    name: str
    breed: str
    rank: int


def _convert(answer, call: str, *args, **extra):
    try:
        return answer(*args, **extra)
    except TypeError as exc:
        raise Wrong(
            f"{call} raised TypeError: {exc}. Copy only the fields both classes have, "
            "by name, and let extra add the rest"
        ) from exc


@exercise("02.convert")
def convert(answer):
    expect(callable(answer), "expected a function convert(value, target, **extra)")
    cat = _convert(
        answer,
        "convert(Dog('Rex', 'Beagle'), Cat, hypoallergenic=False)",
        _Dog("Rex", "Beagle"),
        _Cat,
        hypoallergenic=False,
    )
    expect(isinstance(cat, _Cat), f"expected a Cat, got {type(cat).__name__}")
    expect(
        not isinstance(cat.name, _Dog),
        f"that is Python's Cat(dog): the whole dog went into the first "
        f"field ({cat!r}); copy the fields by name instead",
    )
    expect(cat == _Cat("Rex", False), f"expected Cat(name='Rex', hypoallergenic=False), got {cat!r}")
    entry = _convert(
        answer, "convert(Dog('Rex', 'Beagle'), ShowEntry, rank=1)", _Dog("Rex", "Beagle"), _ShowEntry, rank=1
    )
    expect(
        entry == _ShowEntry("Rex", "Beagle", 1),
        "every shared field is copied (breed too): expected "
        f"ShowEntry(name='Rex', breed='Beagle', rank=1), got {entry!r}",
    )
    expect(answer(_Cat("Tom", True), _Tag) == _Tag("Tom"), "a target field with a default may be left out")
    expect(
        answer(_Dog("Rex", "x"), _Dog, name="Max") == _Dog("Max", "x"), "extra should win over copied fields"
    )
    try:
        answer(_Dog("Rex", "Beagle"), _Cat)
    except TypeError as exc:
        expect("hypoallergenic" in str(exc), f"the TypeError should name the missing field, it says: {exc}")
        return
    expect(False, "converting a Dog to a Cat without hypoallergenic should raise TypeError")
