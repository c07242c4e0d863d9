"""Checks for the exercises of notebook 04 (encoding and decoding JSON)."""

import contextlib
import dataclasses
import json
import numbers
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from foundations import encoding, pets
from foundations.config import REPO_ROOT
from foundations.course.exercises import Wrong, exercise, expect

DATA = REPO_ROOT / "notebooks" / "data"


@exercise("04.owner")
def owner(answer):
    expect(
        isinstance(answer, type) and dataclasses.is_dataclass(answer),
        f"expected a @dataclass class Owner, got {type(answer).__name__}",
    )
    names = [f.name for f in dataclasses.fields(answer)]
    expect(
        names == ["first_name", "last_name", "email", "password"],
        f"fields should be first_name, last_name, email, password (in that order), found {names}",
    )
    got = encoding.encode(answer("Tit", "Petric", "", "secret"))
    expect("first_name" not in got, f"the keys are camelCase (firstName): give each field a tag, got {got}")
    expect(
        "secret" not in got,
        f"the password appears in your JSON: which tag keeps a field out completely? Got {got}",
    )
    expect(
        got == '{"firstName":"Tit","lastName":"Petric"}',
        f'expected {{"firstName":"Tit","lastName":"Petric"}}, your Owner encodes as {got}',
    )
    got = encoding.encode(answer("Tit", "Petric", "tit@example.com", "secret"))
    expect('"email":"tit@example.com"' in got, f"a non-empty email should be encoded (key email), got {got}")
    got = encoding.encode(answer("", "", "", ""))
    expect(
        got == '{"firstName":"","lastName":""}', f"only email is omitempty; with empty names you gave {got}"
    )


@dataclass
class _Empty:
    pass


class _Own:
    """An object of a class of its own, not a dataclass: to Go a struct (or a pointer to one), never empty."""

    def __repr__(self) -> str:
        return f"{type(self).__name__.lstrip('_')}()"


class _Drained(_Own):
    """Its len() is 0, and it has nothing else."""

    def __len__(self) -> int:
        return 0


class _Closed(_Own):
    """Its ``__bool__`` is False: falsy to Python, and not a number."""

    def __bool__(self) -> bool:
        return False


class _Shelf(_Own, Sequence[str]):
    """A full collection (len, iter, in, indexing) with nothing in it: "a collection of length 0" is not the rule."""

    def __getitem__(self, index: Any) -> Any:
        raise IndexError(index)

    def __len__(self) -> int:
        return 0


@dataclass
class _Basket:
    items: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)


class _Quantity:
    """A number of a type no notebook names, registered as a number (below) the way numpy's are, without
    subclassing int or float: "any other number" means any, not only the ones the exercise lists."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, _Quantity) else other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__.lstrip('_')}({self.value!r})"


class _Ticks(_Quantity):  # an integer, as numpy's int64 is
    pass


class _Gauge(_Quantity):  # a real number, as numpy's float32 is
    pass


numbers.Integral.register(_Ticks)
numbers.Real.register(_Gauge)


class _Amount(_Quantity, _Own):
    """Not registered as a number: an object of a class of its own that equals what it holds (0, "" or [])."""


# is_empty's own types first, then the ones the notebook's is_empty does not know, so a copy of it is not enough.
OMITTED: list[object] = [None, False, 0, 0.0, -0.0, "", [], (), {}]
OMITTED += [b"", bytearray(), set(), frozenset(), Decimal(0), Fraction(0), _Ticks(0), _Gauge(0.0)]
OMITTED += [defaultdict(list)]  # a dict subclass is a dict (a Go map), as is the Counter kept below
KEPT: list[object] = [True, 1, -2, 0.1, " ", "0", [0], [None], {"a": 0}, _Empty()]
KEPT += [_Basket(), _Drained(), _Closed(), _Shelf()]  # classes of their own
KEPT += [b"x", {0}, Decimal("0.1"), Fraction(1, 3), _Ticks(3), _Gauge(-0.5), Counter({"a": 1})]
KEPT += [_Amount(0), _Amount(""), _Amount([])]  # own classes whose == matches an empty value


@exercise("04.omit")
def omit(answer):
    expect(callable(answer), "expected a function omit(value)")
    for value in OMITTED:
        also = " (a number of a type the exercise never names)" if isinstance(value, _Quantity) else ""
        also += " (a subclass of dict is still a dict, a Go map)" if isinstance(value, defaultdict) else ""
        expect(
            answer(value) is True,
            f"Go omits {value!r}{also}, your omit({value!r}) returned {answer(value)!r}",
        )
    for value in KEPT:
        got = answer(value)
        hint = (
            ": a dataclass is a Go struct, never empty, even when len() of it is 0, so `not value` is "
            "not Go's rule"
            if dataclasses.is_dataclass(value)
            else ": an object of a class of its own is a Go struct too, whatever len(), bool() or == says"
            if isinstance(value, _Own)
            else ""
        )
        expect(got is False, f"Go keeps {value!r}, your omit({value!r}) returned {got!r}{hint}")


# The classes of the to_json_data check: no notebook prints them. Their tags are Go's raw strings, as
# reflect.StructField.Tag.Get("json") returns them, not tag()'s parsed Tag: the learner's walk parses them, as
# encoding/json's own parseTag does. Each field is there for one rule of the tags.
def _go(spec: str, **kwargs: Any) -> Any:
    """A field with the raw Go tag ``spec`` in its metadata, as the exercise describes."""
    return field(metadata={"json": spec}, **kwargs)


@dataclass
class _Hours:
    """Tagged omitempty where _Clinic holds it: a struct is never empty, so it stays, as {} when its own fields are
    all left out. Its __len__ is 0 then, so ``not value`` is not the rule either."""

    opens: str = _go("opens,omitempty", default="")
    closes: str = _go("closes,omitempty", default="")

    def __len__(self) -> int:
        return bool(self.opens) + bool(self.closes)


@dataclass
class _Visit:
    reason: str = _go("reason")
    cost: float = _go("cost,omitempty,", default=0.0)  # an empty option after omitempty: Go ignores it
    notes: list[str] = _go("notes,omitempty", default_factory=list)
    room: str = _go("room,,omitempty", default="")  # omitempty after an empty option: Go reads every option


@dataclass
class _Clinic:
    clinic_name: str = _go("clinicName")  # a key that is not the attribute's name
    city: str = _go(",omitempty", default="")  # no name in the tag: the field's own
    staff: int = 0  # no tag at all: its own name, never omitted
    emergency: bool = _go("emergency,omitempty", default=False)
    hours: _Hours = _go("hours,omitempty", default_factory=_Hours)
    visits: list[_Visit] | None = _go("visits,omitempty", default=None)  # a list of structs
    vet: str | None = _go("vet", default=None)  # None without omitempty: written, as Go writes nil, null
    api_key: str = _go("-", default="")  # never written
    rating: int = _go("-,", default=0)  # written, under the key "-"
    legacy: int = _go("omitempty", default=0)  # a key named "omitempty", not the option: written even when 0
    ref: str = _go("-ref", default="")  # a key that starts with a dash: written, not skipped
    doc_id: str = _go("_id", default="c-1")  # a key that starts with "_" on a public field: written
    _audit: str = ""  # never written: Go's unexported field
    _internal: str = _go("internal", default="x")  # a private field with a tag: never written either


def _reference(value: Any) -> Any:
    """Go's walk over raw tag strings, with the package's parse_tag and is_empty (the check's answer key)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            parsed = encoding.parse_tag(f.metadata.get("json", ""))
            item = getattr(value, f.name)
            if not (parsed.skip or f.name.startswith("_") or (parsed.omitempty and encoding.is_empty(item))):
                out[parsed.name or f.name] = _reference(item)
        return out
    if isinstance(value, list):
        return [_reference(item) for item in value]
    return value


def _clinics() -> list[tuple[str, object]]:
    """(what, value) pairs with names and numbers drawn anew for each check."""
    rng = random.Random()
    name = rng.choice(["Paws", "Whiskers & Co", "Vet <24h>", "Dr. Petric"])
    quiet = _Clinic(name, staff=0, api_key=f"k-{rng.randint(100, 999)}", _audit="seen")
    busy = _Clinic(
        f"{name} II",
        city=rng.choice(["Ljubljana", "Maribor", "Koper"]),
        staff=rng.randint(2, 9),
        emergency=True,
        hours=_Hours(opens=f"0{rng.randint(6, 9)}:00"),
        visits=[_Visit("vaccine", rng.randint(20, 60) + 0.5, ["rabies"], "R2"), _Visit("checkup")],
        vet=rng.choice(["Dr. Novak", "Dr. Horvat"]),
        api_key="k-1",
        rating=rng.randint(1, 5),
        legacy=rng.randint(1, 9),
        ref=f"r-{rng.randint(10, 99)}",
    )
    return [
        ("a clinic with every optional field empty", quiet),
        ("a clinic with every field set", busy),
        ("a list of both clinics", [quiet, busy]),
        ("a plain string", name),
    ]


def _kind(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        return f"a {type(value).__name__} object (still a dataclass)"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"the {type(value).__name__} {value!r}"


def _difference(expected: Any, got: Any, path: str = "$") -> str | None:
    """Where ``got`` first differs from ``expected``, as a symptom: the path and what is there."""
    if type(expected) is not type(got):
        return f"at {path}, Go writes {_kind(expected)}; yours is {_kind(got)}"
    if isinstance(expected, list):
        if len(expected) != len(got):
            return f"at {path}, Go writes {len(expected)} items; yours has {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            if problem := _difference(e, g, f"{path}[{i}]"):
                return problem
    elif isinstance(expected, dict):
        for key in got:
            if key not in expected:
                return f"at {path}, yours has a key {key!r} that Go would not write"
        for key in expected:
            if key not in got:
                return f"at {path}, the key {key!r} is missing from yours"
        for key in expected:
            if problem := _difference(expected[key], got[key], f"{path}.{key}"):
                return problem
        if list(expected) != list(got):
            return f"at {path}, your keys come in another order than the fields: {list(got)}"
    elif expected != got:
        return f"at {path}, Go writes {expected!r}; yours is {got!r}"
    return None


_PACKAGE_ENCODER = ("to_data", "encode", "_plan", "parse_tag")


@contextlib.contextmanager
def _without_the_package_encoder(answer: object) -> Iterator[None]:
    """The package's own encoder raises while ``answer`` runs, whether reached as ``encoding.to_data`` or imported
    by name into the notebook."""

    def refuse(name: str) -> Callable[..., None]:
        def refused(*args: object, **kwargs: object) -> None:
            raise Wrong(
                f"your function calls foundations.encoding's own {name}: the exercise is to parse the tags and "
                "walk the fields yourself (encoding.is_empty, or your omit, is the one helper to use)"
            )

        return refused

    originals = {name: getattr(encoding, name) for name in _PACKAGE_ENCODER}
    names = getattr(answer, "__globals__", {})
    imported = {key: value for key, value in names.items() if any(value is o for o in originals.values())}
    try:
        for name in _PACKAGE_ENCODER:
            setattr(encoding, name, refuse(name))
        for key, value in imported.items():
            names[key] = refuse(value.__name__)
        yield
    finally:
        for name, value in originals.items():
            setattr(encoding, name, value)
        names.update(imported)


@exercise("04.to_json_data")
def to_json_data(answer):
    expect(callable(answer), f"expected a function to_json_data(value), got {type(answer).__name__}")
    for what, value in _clinics():
        expected = _reference(value)
        with _without_the_package_encoder(answer):
            got = answer(value)
        problem = _difference(expected, got)
        expect(problem is None, f"on {what}: {problem}")


def _no_breed_cases() -> list[tuple[str, str, list[str]]]:
    """(what, JSON text, the dogs without a breed): the book's two files, and stores no notebook prints."""
    generated = pets.many_stores(12)
    expected = [dog.name for store in generated for dog in store.dogs or [] if not dog.breed]
    return [
        ("data/example2.json", (DATA / "example2.json").read_text(), ["Trinity"]),
        ('data/example1.json (Trinity has "breed": "")', (DATA / "example1.json").read_text(), ["Trinity"]),
        ("twelve generated stores", encoding.encode(generated), expected),
    ]


def _wrong_type_case() -> tuple[str, str, str]:
    """(what, JSON text, path): generated stores, one dog named with the number 7, at a path no notebook prints."""
    stores = json.loads(encoding.encode(pets.many_stores(6)))
    at = next(i for i, store in enumerate(stores) if i > 0 and len(store["dogs"] or []) >= 2)
    stores[at]["dogs"][1]["name"] = 7
    return "six generated stores, one dog named with a number", json.dumps(stores), f"$[{at}].dogs[1].name"


def _unknown_field_case() -> tuple[str, str, str]:
    """(what, JSON text, what the error names): generated stores, one dog with a field TidyPet lacks, at an unprinted path."""
    stores = json.loads(encoding.encode(pets.many_stores(7)))
    at = next(i for i, store in enumerate(stores) if i > 1 and len(store["dogs"] or []) >= 3)
    stores[at]["dogs"][2]["owner"] = "Ana"
    return "seven generated stores, one dog with an owner field", json.dumps(stores), "owner"


@exercise("04.no_breed")
def no_breed(answer):
    expect(callable(answer), f"expected a function no_breed(text), got {type(answer).__name__}")
    for what, text, expected in _no_breed_cases():
        try:
            got = answer(text)
        except TypeError as exc:
            if "NoneType" not in str(exc):
                raise
            raise Wrong(
                f"on {what}: {exc}. A store without dogs has dogs=None, Go's nil slice: your loop assumed a list"
            ) from exc
        expect(isinstance(got, list), f"expected a list of names, got {type(got).__name__}")
        expect(all(isinstance(n, str) for n in got), "expected dog names as strings, not Pet objects")
        expect(
            got == expected,
            f"on {what}, the dogs without a breed are {expected}; you found {got}"
            + (" (cats do not count)" if set(got) - set(expected) else ""),
        )
    what, text, path = _wrong_type_case()
    _expect_decode_error(answer, what, text, path, f"the error should say where the wrong value is ({path})")
    what, text, name = _unknown_field_case()
    _expect_decode_error(
        answer, what, text, name, f"the error should name the field TidyPet does not know ({name})"
    )


def _expect_decode_error(answer, what: str, text: str, needle: str, missing: str) -> None:
    try:
        got = answer(text)
    except encoding.DecodeError as exc:
        expect(needle in str(exc), f"on {what}, {missing}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - anything but the decoder's own error is the wrong answer here
        raise Wrong(
            f"on {what}, expected the decoder's encoding.DecodeError, which names where the wrong value is; "
            f"got {type(exc).__name__}: {exc}"
        ) from exc
    expect(
        False,
        f"on {what}, you returned {got!r}: that document does not fit list[TidyPetstore], so there is no "
        "answer to give; decode into the types and let the error reach the caller",
    )
