"""Checks for the exercises of notebook 04 (encoding and decoding JSON)."""

import dataclasses
import json
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

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
    expect("secret" not in got, f'password must never be encoded: tag it "-", got {got}')
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


@dataclass
class _Basket:
    items: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)


# is_empty's own types first, then the ones the notebook's is_empty does not know, so a copy of it is not enough.
OMITTED: list[object] = [
    None,
    False,
    0,
    0.0,
    -0.0,
    "",
    [],
    (),
    {},
    b"",
    bytearray(),
    set(),
    frozenset(),
    Decimal(0),
    Fraction(0),
]
KEPT = [
    True,
    1,
    -2,
    0.1,
    " ",
    "0",
    [0],
    [None],
    {"a": 0},
    _Empty(),
    _Basket(),
    b"x",
    {0},
    Decimal("0.1"),
    Fraction(1, 3),
]


@exercise("04.omit")
def omit(answer):
    expect(callable(answer), "expected a function omit(value)")
    for value in OMITTED:
        expect(answer(value) is True, f"Go omits {value!r}, your omit({value!r}) returned {answer(value)!r}")
    for value in KEPT:
        got = answer(value)
        hint = (
            ": a dataclass is a Go struct, never empty, even when len() of it is 0, so `not value` is "
            "not Go's rule"
            if dataclasses.is_dataclass(value)
            else ""
        )
        expect(got is False, f"Go keeps {value!r}, your omit({value!r}) returned {got!r}{hint}")


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
    """(what, JSON text, path): generated stores where one dog's name is the number 7, at a path no notebook
    prints."""
    stores = json.loads(encoding.encode(pets.many_stores(6)))
    at = next(i for i, store in enumerate(stores) if i > 0 and len(store["dogs"] or []) >= 2)
    stores[at]["dogs"][1]["name"] = 7
    return "six generated stores, one dog named with a number", json.dumps(stores), f"$[{at}].dogs[1].name"


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
                f"on {what}: {exc}. A store without dogs has dogs=None (Go's nil slice): "
                "loop over `store.dogs or []`"
            ) from exc
        expect(isinstance(got, list), f"expected a list of names, got {type(got).__name__}")
        expect(all(isinstance(n, str) for n in got), "expected dog names as strings, not Pet objects")
        expect(
            got == expected,
            f"on {what}, the dogs without a breed are {expected}; you found {got}"
            + (" (cats do not count)" if set(got) - set(expected) else ""),
        )
    what, text, path = _wrong_type_case()
    try:
        got = answer(text)
    except encoding.DecodeError as exc:
        expect(path in str(exc), f"on {what}, the error should say where the wrong value is ({path}): {exc}")
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
