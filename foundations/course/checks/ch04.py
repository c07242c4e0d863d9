"""Checks for the exercises of notebook 04 (encoding and decoding JSON)."""

import dataclasses
from dataclasses import dataclass

from foundations import encoding
from foundations.course.exercises import exercise, expect


@exercise("04.owner")
def owner(answer):
    expect(isinstance(answer, type) and dataclasses.is_dataclass(answer),
           f"expected a @dataclass class Owner, got {type(answer).__name__}")
    names = [f.name for f in dataclasses.fields(answer)]
    expect(names == ["first_name", "last_name", "email", "password"],
           f"fields should be first_name, last_name, email, password (in that order), found {names}")
    got = encoding.encode(answer("Tit", "Petric", "", "secret"))
    expect(got == '{"firstName":"Tit","lastName":"Petric"}',
           f'expected {{"firstName":"Tit","lastName":"Petric"}}, your Owner encodes as {got}')
    got = encoding.encode(answer("Tit", "Petric", "tit@example.com", "secret"))
    expect('"email":"tit@example.com"' in got, f"a non-empty email should be encoded (key email), got {got}")
    expect("secret" not in encoding.encode(answer("", "", "", "secret")), "password must never be encoded")
    got = encoding.encode(answer("", "", "", ""))
    expect(got == '{"firstName":"","lastName":""}', f"only email is omitempty; with empty names you gave {got}")


@dataclass
class _Empty:
    pass


@exercise("04.omit")
def omit(answer):
    expect(callable(answer), "expected a function omit(value)")
    for value in [None, False, 0, 0.0, "", [], (), {}]:
        expect(answer(value) is True, f"Go omits {value!r}, your omit({value!r}) returned {answer(value)!r}")
    for value in [True, 1, -2, 0.1, " ", "0", [0], [None], {"a": 0}, _Empty()]:
        expect(answer(value) is False, f"Go keeps {value!r}, your omit({value!r}) returned {answer(value)!r}")


@exercise("04.no_breed")
def no_breed(answer):
    expect(isinstance(answer, list), f"expected a list of names, got {type(answer).__name__}")
    expect(all(isinstance(n, str) for n in answer), "expected dog names as strings, not Pet objects")
    expect(answer == ["Trinity"], f"one dog in example2.json has no breed; you found {answer}")
