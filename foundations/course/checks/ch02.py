"""Checks for the exercises of notebook 02 (data structures)."""

from dataclasses import dataclass, field
from typing import ClassVar

from foundations.course.checks.ch02_protocols import CONFORMS_CASES, DECLARES
from foundations.course.exercises import Wrong, exercise, expect


@exercise("02.conforms")
def conforms(answer):
    expect(callable(answer), f"expected a function conforms(obj, protocol), got {type(answer).__name__}")
    for obj, protocol, wanted, what, why in CONFORMS_CASES:
        got = answer(obj, protocol)
        expect(isinstance(got, bool), f"expected True or False, got {got!r}")
        said, end = DECLARES[protocol], "" if why.endswith("?") else "."
        expect(got == wanted, f"{what}, checked against {said}: you returned {got}, but {why}{end}")


@dataclass
class _Dog:
    name: str
    breed: str


@dataclass(slots=True)
class _SlottedDog:  # no __dict__: vars() of it raises TypeError
    name: str
    breed: str


@dataclass
class _ShowDog(_Dog):  # name and breed are inherited: its class body annotates only rank
    rank: int


@dataclass
class _Cat:
    name: str
    hypoallergenic: bool
    color: ClassVar[str] = "a class attribute of Cat, not a field"  # what a copy of it would show


@dataclass
class _Tag:
    name: str
    color: str = "red"
    seen: list[str] = field(default_factory=list)


@dataclass
class _ShowEntry:
    name: str
    breed: str
    rank: int


@dataclass
class _Entrant:  # rank is no __init__ parameter: __init__ starts every new entrant at rank 0
    name: str
    rank: int = field(init=False, default=0)


@dataclass
class _Walker:
    name: str
    dogs: list[_Dog]


@dataclass
class _Sitter(_Walker):  # name and dogs are inherited
    rate: int


_COPY = "Copy only the fields both classes have, by name, and let extra add the rest"


def _convert(answer, call: str, *args, why: str = _COPY, **extra):
    try:
        return answer(*args, **extra)
    except TypeError as exc:
        raise Wrong(f"{call} raised TypeError: {exc}. {why}") from exc


def _same(got, want, why: str = "") -> None:
    expect(got == want, f"{why}expected {repr(want).lstrip('_')}, got {got!r}")


def _refuses(answer, call: str, name: str, *args, **extra):
    try:
        got = answer(*args, **extra)
    except TypeError as exc:
        expect(name in str(exc), f"{call}: the TypeError should name {name}, it says: {exc}")
    else:
        expect(False, f"{call} should raise TypeError, got {got!r}")


@exercise("02.convert")
def convert(answer):
    expect(callable(answer), "expected a function convert(value, target, **extra)")
    call = "convert(Dog('Rex', 'Beagle'), Cat, hypoallergenic=False)"
    cat = _convert(answer, call, _Dog("Rex", "Beagle"), _Cat, hypoallergenic=False)
    expect(isinstance(cat, _Cat), f"expected a Cat, got {type(cat).__name__}")
    dog_in_cat = f"that is Python's Cat(dog): the whole dog went into the first field ({cat!r})"
    expect(not isinstance(cat.name, _Dog), dog_in_cat + "; copy the fields by name instead")
    _same(cat, _Cat("Rex", False))
    call = "convert(Dog('Rex', 'Beagle'), ShowEntry, rank=1)"
    entry = _convert(answer, call, _Dog("Rex", "Beagle"), _ShowEntry, rank=1)
    _same(entry, _ShowEntry("Rex", "Beagle", 1), "every shared field is copied (breed too): ")
    call = "convert(SlottedDog('Rex', 'Beagle'), Cat, hypoallergenic=True), "
    call += "SlottedDog being a @dataclass(slots=True),"
    slotted = _convert(answer, call, _SlottedDog("Rex", "Beagle"), _Cat, hypoallergenic=True)
    _same(slotted, _Cat("Rex", True))
    call = "convert(ShowDog('Rex', 'Beagle', 2), ShowEntry), ShowDog being a subclass of Dog that adds rank,"
    shown = _convert(answer, call, _ShowDog("Rex", "Beagle", 2), _ShowEntry)
    _same(shown, _ShowEntry("Rex", "Beagle", 2), "a field a dataclass inherits is one of its fields too: ")
    walker = _Walker("Ana", [_Dog("Rex", "Beagle")])
    call = "convert(Walker('Ana', [Dog(...)]), Sitter, rate=20), "
    call += "Sitter being a subclass of Walker that adds rate,"
    sitter = _convert(answer, call, walker, _Sitter, rate=20)
    expect(
        isinstance(sitter, _Sitter) and sitter.dogs is walker.dogs,
        "a nested value should arrive as the very same object, neither converted nor copied: "
        f"got dogs={getattr(sitter, 'dogs', None)!r}, and `is` says it is not Walker's list",
    )
    call = "convert(Cat('Tom', True), Tag), Tag's color defaulting to 'red' and seen to a default_factory,"
    why = "Both fields Cat lacks have a default, so neither is missing"
    tag = _convert(answer, call, _Cat("Tom", True), _Tag, why=why)
    expect(tag == _Tag("Tom"), f"a target field with a default may be left out: {call} gave {tag!r}")
    call, copied = "convert(Tag('Tom', 'blue', ['park']), Tag)", _Tag("Tom", "blue", ["park"])
    tag = _convert(answer, call, copied, _Tag)
    expect(tag == copied, f"{call} gave {tag!r}: a default applies only when the value lacks the field")
    call, why = "convert(Dog('Rex', 'x'), Dog, name='Max')", "Both value and extra give name here"
    renamed = _convert(answer, call, _Dog("Rex", "x"), _Dog, why=why, name="Max")
    expect(renamed == _Dog("Max", "x"), f"extra should win over copied fields: {call} gave {renamed!r}")
    _refuses(answer, "convert(Dog('Rex', 'Beagle'), Cat)", "hypoallergenic", _Dog("Rex", "Beagle"), _Cat)
    call = "convert(ShowEntry('Rex', 'Beagle', 3), Entrant), Entrant's rank being a field(init=False),"
    why = "Entrant's __init__ takes no rank: a field(init=False) is the target's own business"
    entrant = _convert(answer, call, _ShowEntry("Rex", "Beagle", 3), _Entrant, why=why)
    expect(entrant == _Entrant("Rex"), f"{call} gave {entrant!r}: Entrant sets its own rank, 0 for a new one")
    call = "convert(Entrant('Rex'), ShowEntry, breed='Beagle'), Entrant's rank being a field(init=False),"
    why = "Entrant's __init__ takes no rank, but ShowEntry's does, and rank is still one of Entrant's fields"
    entry = _convert(answer, call, _Entrant("Rex"), _ShowEntry, why=why, breed="Beagle")
    _same(entry, _ShowEntry("Rex", "Beagle", 0), f"{call} ")
    call = "convert(Cat('Tom', True), Tag, colour='blue'), Tag having a color field but no colour,"
    _refuses(answer, call, "colour", _Cat("Tom", True), _Tag, colour="blue")
