"""Checks for the exercises of notebook 02 (data structures)."""

from dataclasses import dataclass
from typing import Protocol

from foundations.course.exercises import Wrong, exercise, expect


class _Named(Protocol):
    def get_name(self) -> str: ...


class _Greeter(Protocol):
    def get_name(self) -> str: ...

    def greet(self, who: str, loud: bool) -> str: ...


@dataclass
class _Pup:  # a dataclass: its generated __init__ is nothing a protocol asks for
    name: str

    def get_name(self) -> str:
        return self.name


class _Robot:
    get_name = "R2"  # the right name, not a method: runtime_checkable's isinstance passes it


class _Loud:
    def get_name(self, loud: bool) -> str:
        return "REX" if loud else "Rex"


class _Host:
    def get_name(self) -> str:
        return "Ana"

    def greet(self, who: str, loud: bool) -> str:
        return f"Hello {who}!"


class _Shy:
    def get_name(self) -> str:
        return "Bo"

    def greet(self, who: str) -> str:
        return f"hi {who}"


class _Swapped:
    def get_name(self) -> str:
        return "Cy"

    def greet(self, loud: bool, who: str) -> str:
        return f"Hello {who}!"


# (object, protocol, conforms?, what the object is): Named has one method, Greeter two.
CONFORMS_CASES = [
    (_Pup("Rex"), _Named, True, "an object with get_name(self)"),
    (_Host(), _Named, True, "an object with get_name(self) and more methods"),
    (_Host(), _Greeter, True, "an object with get_name(self) and greet(self, who, loud)"),
    (_Pup("Rex"), _Greeter, False, "an object with get_name(self) but no greet"),
    (_Shy(), _Greeter, False, "an object whose greet(self, who) lacks loud"),
    (
        _Swapped(),
        _Greeter,
        False,
        "an object whose greet(self, loud, who) has Greeter's parameters in another order",
    ),
    (_Robot(), _Named, False, "an object whose get_name is a str"),
    (_Loud(), _Named, False, "an object whose get_name(self, loud) takes a parameter Named's does not"),
]


@exercise("02.conforms")
def conforms(answer):
    expect(callable(answer), f"expected a function conforms(obj, protocol), got {type(answer).__name__}")
    for obj, protocol, wanted, what in CONFORMS_CASES:
        got = answer(obj, protocol)
        expect(isinstance(got, bool), f"expected True or False, got {got!r}")
        methods = "one method" if protocol is _Named else "two methods"
        expect(
            got == wanted,
            f"{what}, checked against a protocol of {methods} ({protocol.__name__[1:]}): you returned "
            f"{got}. "
            + (
                "Does your function look at the protocol's own public methods only, and compare "
                "parameters without self?"
                if wanted
                else "Go's compiler would refuse it: look past the name, at what the attribute is and "
                "which parameters it takes"
            ),
        )


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


@dataclass
class _Walker:
    name: str
    dogs: list[_Dog]


@dataclass
class _Sitter:
    name: str
    dogs: list[_Dog]
    rate: int


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
    walker = _Walker("Ana", [_Dog("Rex", "Beagle")])
    sitter = _convert(answer, "convert(Walker('Ana', [Dog(...)]), Sitter, rate=20)", walker, _Sitter, rate=20)
    expect(
        isinstance(sitter, _Sitter) and sitter.dogs is walker.dogs,
        "a nested field should be the same object after the conversion, not a converted copy: "
        f"got dogs={getattr(sitter, 'dogs', None)!r} (asdict turns nested dataclasses into dicts and "
        "deep-copies the rest; copy one level)",
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
