"""Checks for the exercises of notebook 02 (data structures)."""

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from foundations.course.exercises import Wrong, exercise, expect


class _Named(Protocol):
    def get_name(self) -> str: ...


class _Greeter(Protocol):
    def get_name(self) -> str: ...

    def greet(self, who: str, loud: bool) -> str: ...


class _Welcomer(_Named, Protocol):  # Go's interface embedding: Named's get_name, plus greet
    def greet(self, who: str, loud: bool) -> str: ...


class _Host(_Welcomer, Protocol):  # two levels deep: Welcomer's greet, Named's get_name, plus seat
    def seat(self, n: int) -> str: ...


class _Keyed(Protocol):
    def get_name(self) -> str: ...

    def _cache_key(self) -> str: ...


class _Caller(_Named, Protocol):  # extends Named and declares get_name again, with an optional parameter
    def get_name(self, loud: bool = False) -> str: ...


@dataclass
class _Pup:  # a dataclass: its generated __init__ is nothing a protocol asks for
    name: str

    def get_name(self) -> str:
        return self.name


class _Puppy(_Pup): ...  # get_name comes from its base class, not its own class body


class _Robot:
    get_name = "R2"  # the right name, not a method: runtime_checkable's isinstance passes it


class _Loud:
    def get_name(self, loud: bool) -> str:
        return "REX" if loud else "Rex"


class _Announcer:
    def get_name(self, loud: bool = False) -> str:
        return "REX" if loud else "Rex"


class _Shouter:  # Caller's get_name, but loud defaults to True
    def get_name(self, loud: bool = True) -> str:
        return "REX" if loud else "Rex"


class _Ana:
    def get_name(self) -> str:
        return "Ana"

    def greet(self, who: str, loud: bool) -> str:
        return f"Hello {who}!"


class _Eve:  # greet without get_name
    def greet(self, who: str, loud: bool) -> str:
        return f"Hello {who}!"


class _Usher(_Eve):  # Host's seat and greet, without get_name
    def seat(self, n: int) -> str:
        return f"table for {n}"


class _Hostess(_Usher, _Ana): ...


class _Guest:  # get_name(self) -> str: each class below adds its own greet
    def get_name(self) -> str:
        return "Bo"


class _Shy(_Guest):
    def greet(self, who: str) -> str:
        return f"hi {who}"


class _Swapped(_Guest):
    def greet(self, loud: bool, who: str) -> str:
        return f"Hello {who}!"


class _Renamed(_Guest):  # Greeter's greet in all but one parameter's name: Go would accept it
    def greet(self, whom: str, loud: bool) -> str:
        return f"Hello {whom}!"


class _KeywordLoud(_Guest):  # greet("Ana", True) fails: loud can only be passed by name
    def greet(self, who: str, *, loud: bool) -> str:
        return f"Hello {who}!"


class _StringLoud(_Guest):
    def greet(self, who: str, loud: str) -> str:
        return f"Hello {who}!"


class _This:  # self by another name: a caller never passes it by name
    def get_name(this) -> str:  # noqa: N805
        return "Gus"


class _Numbered:
    def get_name(self) -> int:
        return 7


# What each protocol declares, as a learner would read it: the messages describe the inputs, never the code.
_DECLARES = {
    _Named: "Named, which declares get_name(self) -> str",
    _Greeter: "Greeter, which declares get_name(self) -> str and greet(self, who: str, loud: bool) -> str",
    _Welcomer: "Welcomer(Named, Protocol), whose own body declares only greet(self, who: str, loud: bool) -> str",
    _Caller: "Caller(Named, Protocol), whose own body declares get_name(self, loud: bool = False) -> str",
    _Host: "Host(Welcomer, Protocol), whose own body declares only seat(self, n: int) -> str",
    _Keyed: "Keyed, which declares get_name(self) -> str and _cache_key(self) -> str",
}
_GREET = "greet(self, who: str, loud: bool) -> str"
_SAYS_YES = "it has every method the protocol asks for, each with the same signature (self aside)"
_SAYS_NO = "Go's compiler would refuse it"
_INTERNAL = "a name that starts with _ is internal, not something the protocol asks for"
_REDECLARES = "Caller redeclares Named's method: which of the two declarations does Caller ask for?"

# (object, protocol, conforms?, the object, and why): True cases first, so that a function that says False
# too often hears about it before the cases it refuses for the wrong reason.
CONFORMS_CASES = [
    (
        _Pup("Rex"),
        _Named,
        True,
        "a dataclass with get_name(self) -> str",
        _SAYS_YES + " (a dataclass has methods such as __eq__ too, which no protocol here declares)",
    ),
    (_Ana(), _Named, True, "an object with get_name(self) -> str and one method more", _SAYS_YES),
    (_Ana(), _Greeter, True, f"an object with get_name(self) -> str and {_GREET}", _SAYS_YES),
    (
        _Puppy("Rex"),
        _Named,
        True,
        "an instance of a dataclass's subclass that adds nothing: its get_name(self) -> str is inherited",
        _SAYS_YES + ": where an object's class found the method does not matter",
    ),
    (_Ana(), _Welcomer, True, "the object with get_name and greet", _SAYS_YES),
    (_Hostess(), _Host, True, "an object with seat(self, n: int) -> str, get_name and greet", _SAYS_YES),
    (_Announcer(), _Caller, True, "an object with get_name(self, loud: bool = False) -> str", _REDECLARES),
    (
        _This(),
        _Named,
        True,
        "an object with get_name(this) -> str, its self named this",
        _SAYS_YES + ": nobody passes self, whatever its name; compare what a caller passes",
    ),
    (_Pup("Rex"), _Keyed, True, "an object with get_name(self) -> str and no _cache_key", _INTERNAL),
    (_Pup("Rex"), _Greeter, False, "an object with get_name(self) -> str but no greet", _SAYS_NO),
    (_Shy(), _Greeter, False, "an object whose greet(self, who: str) -> str lacks loud", _SAYS_NO),
    (
        _Swapped(),
        _Greeter,
        False,
        "an object whose greet(self, loud: bool, who: str) -> str has Greeter's parameters in another order",
        _SAYS_NO,
    ),
    (
        _Renamed(),
        _Greeter,
        False,
        "an object whose greet(self, whom: str, loud: bool) -> str differs from Greeter's only in a "
        "parameter's name",
        "Go would accept it, yet code written against Greeter may call greet(who='Ana', loud=True)",
    ),
    (
        _KeywordLoud(),
        _Greeter,
        False,
        "an object whose greet(self, who: str, *, loud: bool) -> str takes loud "
        "by name only, so greet('Ana', True) fails",
        _SAYS_NO + ": look at how each parameter can be passed",
    ),
    (
        _StringLoud(),
        _Greeter,
        False,
        "an object whose greet(self, who: str, loud: str) -> str takes loud as a str",
        _SAYS_NO + ": Go compares the types as well as the number of parameters",
    ),
    (
        _Numbered(),
        _Named,
        False,
        "an object whose get_name(self) -> int returns an int",
        _SAYS_NO + ": a signature ends with what the method returns",
    ),
    (
        _Robot(),
        _Named,
        False,
        "an object whose get_name is a str",
        _SAYS_NO + ": look past the name, at what the attribute is",
    ),
    (
        _Loud(),
        _Named,
        False,
        "an object whose get_name(self, loud: bool) -> str takes a parameter Named's does not",
        _SAYS_NO,
    ),
    (
        _Eve(),
        _Welcomer,
        False,
        "an object with greet(self, who: str, loud: bool) -> str and no get_name",
        "a protocol that extends another, like a Go interface that embeds one, asks for more than its own "
        "class body declares",
    ),
    (
        _Usher(),
        _Host,
        False,
        "an object with seat(self, n: int) -> str and Welcomer's greet, but no get_name",
        "Host extends Welcomer, which extends Named: Host asks for what both of them declare too",
    ),
    (_Pup("Rex"), _Caller, False, "an object with get_name(self) -> str, Named's signature", _REDECLARES),
    (
        _Loud(),
        _Caller,
        False,
        "an object whose get_name(self, loud: bool) -> str needs loud, so get_name() fails",
        "code written against Caller may call get_name() with no argument",
    ),
    (_Announcer(), _Named, False, "an object with get_name(self, loud: bool = False) -> str", _SAYS_NO),
    (
        _Shouter(),
        _Caller,
        False,
        "an object whose get_name(self, loud: bool = True) -> str gives loud another default",
        "code written against Caller that calls get_name() expects what loud=False gives",
    ),
]


@exercise("02.conforms")
def conforms(answer):
    expect(callable(answer), f"expected a function conforms(obj, protocol), got {type(answer).__name__}")
    for obj, protocol, wanted, what, why in CONFORMS_CASES:
        got = answer(obj, protocol)
        expect(isinstance(got, bool), f"expected True or False, got {got!r}")
        said, end = _DECLARES[protocol], "" if why.endswith("?") else "."
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
