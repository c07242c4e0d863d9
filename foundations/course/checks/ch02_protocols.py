"""The protocols and objects chapter 2's ``conforms`` check tries, and what each case expects: Go's interface
rules (embedding, whole signatures) and Python's (names, kinds, defaults), one case at a time."""

from dataclasses import dataclass
from typing import Protocol


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


class _Sized(Protocol):  # a dunder, declared like any method
    def __len__(self) -> int: ...


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


class _Litter:
    def __len__(self) -> int:
        return 3


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
DECLARES = {
    _Named: "Named, which declares get_name(self) -> str",
    _Greeter: "Greeter, which declares get_name(self) -> str and greet(self, who: str, loud: bool) -> str",
    _Welcomer: "Welcomer(Named, Protocol), whose own body declares only greet(self, who: str, loud: bool) -> str",
    _Caller: "Caller(Named, Protocol), whose own body declares get_name(self, loud: bool = False) -> str",
    _Host: "Host(Welcomer, Protocol), whose own body declares only seat(self, n: int) -> str",
    _Keyed: "Keyed, which declares get_name(self) -> str and _cache_key(self) -> str",
    _Sized: "Sized, which declares __len__(self) -> int",
}
_GREET = "greet(self, who: str, loud: bool) -> str"
_SAYS_YES = "it has every method the protocol asks for, each with the same signature (self aside)"
_SAYS_NO = "Go's compiler would refuse it"
_EVERY_NAME = (
    "a protocol asks for every method its body declares, whatever the name: isinstance and mypy ask for "
    "_cache_key too, as the book's Pet interface asks for its unexported getName"
)
_DUNDERS_TOO = (
    "Sized's body declares __len__, so Sized asks for it: only what typing.Protocol puts in every "
    "protocol's body (__init__, __subclasshook__) is nothing a protocol asks for"
)
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
    (_Litter(), _Sized, True, "an object with __len__(self) -> int", _SAYS_YES),  # last: no public method
    (_Pup("Rex"), _Keyed, False, "an object with get_name(self) -> str and no _cache_key", _EVERY_NAME),
    (_Pup("Rex"), _Sized, False, "a dataclass with get_name(self) -> str and no __len__", _DUNDERS_TOO),
]
