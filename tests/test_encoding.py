"""foundations.encoding: Go's tags and omitempty, the book's two JSON documents, typed decoding and its errors."""

import dataclasses
import json
import keyword
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundations import pets
from foundations.encoding import (
    DecodeError,
    EncodeError,
    Tag,
    TagError,
    decode,
    dump,
    encode,
    from_data,
    is_empty,
    parse_tag,
    tag,
    to_data,
)
from foundations.errors import FoundationsError

DATA = Path(__file__).resolve().parent.parent / "notebooks" / "data"


def book_text(name: str) -> str:
    """The book prints Go's tab indent as two spaces; everything else is compared exactly."""
    return (DATA / name).read_text().rstrip("\n")


def spaces(text: str) -> str:
    return "\n".join(
        "  " * (len(line) - len(line.lstrip("\t"))) + line.lstrip("\t") for line in text.splitlines()
    )


def tidy(stores):
    return [
        pets.TidyPetstore(
            s.name,
            s.location,
            None if s.dogs is None else [pets.TidyPet(p.name, p.breed) for p in s.dogs],
            None if s.cats is None else [pets.TidyPet(p.name, p.breed) for p in s.cats],
        )
        for s in stores
    ]


# --- the book's documents ---------------------------------------------------------------------------


def test_reproduces_the_books_first_document_with_null_cats():
    text = encode(pets.book_petstores(), indent="\t")
    assert "\t" in text and "  " not in text.replace("New York, 5th", "")
    assert spaces(text) == book_text("example1.json")


def test_reproduces_the_books_omitempty_document():
    assert spaces(encode(tidy(pets.book_petstores()), indent="\t")) == book_text("example2.json")


def test_decoding_the_books_file_yields_the_books_structure():
    stores = decode((DATA / "example2.json").read_text(), list[pets.TidyPetstore])
    assert stores == [
        pets.TidyPetstore(
            "Fuzzy's",
            "New York, 5th and Broadway",
            [pets.TidyPet("Whiskers", "Pomeranian"), pets.TidyPet("Trinity", "")],
            None,
        )
    ]


def test_dump_reads_like_spew():
    stores = decode((DATA / "example2.json").read_bytes(), list[pets.TidyPetstore])
    assert dump(stores, list[pets.TidyPetstore]).splitlines() == [
        "(list[TidyPetstore]) (len=1) {",
        "  (TidyPetstore) {",
        '    name: (str) (len=7) "Fuzzy\'s",',
        '    location: (str) (len=26) "New York, 5th and Broadway",',
        "    dogs: (list[TidyPet] | None) (len=2) {",
        "      (TidyPet) {",
        '        name: (str) (len=8) "Whiskers",',
        '        breed: (str) (len=10) "Pomeranian"',
        "      },",
        "      (TidyPet) {",
        '        name: (str) (len=7) "Trinity",',
        '        breed: (str) ""',
        "      }",
        "    },",
        "    cats: (list[TidyPet] | None) None",
        "  }",
        "}",
    ]


def test_dump_of_plain_containers_uses_runtime_types():
    assert dump({"a": [1, 2.5, None], "b": {}, "c": (True,)}) == (
        "(dict) (len=3) {\n"
        "  'a': (list) (len=3) {\n    (int) 1,\n    (float) 2.5,\n    (None) None\n  },\n"
        "  'b': (dict) (len=0) {},\n"
        "  'c': (tuple) (len=1) {\n    (bool) True\n  }\n"
        "}"
    )


# --- tags and omitempty ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("name", Tag("name")),
        ("name,omitempty", Tag("name", omitempty=True)),
        (",omitempty", Tag(None, omitempty=True)),
        ("-", Tag(skip=True)),
        ("-,", Tag("-")),
        ("", Tag()),
    ],
)
def test_parse_tag_like_go(spec, expected):
    assert parse_tag(spec) == expected


def test_unknown_tag_option_is_an_error_naming_it():
    with pytest.raises(TagError, match=r"json tag 'n,string': unknown option 'string'") as info:
        parse_tag("n,string")
    assert isinstance(info.value, FoundationsError)


def test_two_fields_with_one_key_are_refused_naming_both():
    """Go's encoding/json drops both tagged fields without an error (go vet's structtag check reports them);
    here the first encode or decode of the class refuses them."""

    @dataclass
    class Clash:
        first: str = tag("x")
        second: str = tag("x,omitempty", default="")

    @dataclass
    class Shadow:  # an untagged field's own name is its key too; Go would keep only the tagged field
        x: str
        other: str = tag("x")

    message = r"Clash: the fields 'first' and 'second' would both be written under the JSON key 'x'"
    with pytest.raises(TagError, match=message):
        encode(Clash("1", "2"))
    with pytest.raises(TagError, match=message):
        decode('{"x": "1"}', Clash)
    with pytest.raises(TagError, match=r"Shadow: the fields 'x' and 'other' .* key 'x'"):
        encode(Shadow("1", "2"))


def test_a_skipped_field_frees_its_key():
    @dataclass
    class Renamed:
        x: str = tag("-", default="")
        other: str = tag("x", default="")

    assert encode(Renamed("hidden", "shown")) == '{"x":"shown"}'


@pytest.mark.parametrize("value", [None, False, 0, 0.0, -0.0, "", [], (), {}])
def test_empty_in_gos_sense(value):
    assert is_empty(value)


@dataclass
class Nothing:
    pass


@pytest.mark.parametrize("value", [True, 1, -1, 0.5, " ", [None], [0], {"": 0}, Nothing(), object()])
def test_not_empty(value):
    assert not is_empty(value)


@dataclass
class Everything:
    n: int = tag("n,omitempty", default=0)
    f: float = tag("f,omitempty", default=0.0)
    b: bool = tag("b,omitempty", default=False)
    s: str = tag("s,omitempty", default="")
    items: list = tag("items,omitempty", default_factory=list)
    mapping: dict = tag("mapping,omitempty", default_factory=dict)
    maybe: int | None = tag("maybe,omitempty", default=None)
    nested: Nothing = tag("nested,omitempty", default_factory=Nothing)
    kept: int = tag("kept", default=0)


def test_omitempty_drops_every_empty_kind_but_keeps_a_nested_struct():
    assert encode(Everything()) == '{"nested":{},"kept":0}'


def test_omitempty_keeps_non_empty_values():
    full = Everything(1, 0.5, True, "x", [0], {"k": None}, 7, Nothing(), 3)
    assert to_data(full) == {
        "n": 1,
        "f": 0.5,
        "b": True,
        "s": "x",
        "items": [0],
        "mapping": {"k": None},
        "maybe": 7,
        "nested": {},
        "kept": 3,
    }
    # no pointers in Python: an Optional holding 0 is empty by value (Go would keep a *int pointing at 0)
    assert "maybe" not in to_data(Everything(maybe=0))


@dataclass
class Renamed:
    plain: int = 1
    renamed: int = tag("Other", default=2)
    keyed_by_name: int = tag(",omitempty", default=3)
    secret: str = tag("-", default="hunter2")
    dash: str = tag("-,", default="d")
    _private: int = 9
    computed: int = field(default=5, init=False)


def test_names_skip_and_private_fields():
    assert to_data(Renamed()) == {"plain": 1, "Other": 2, "keyed_by_name": 3, "-": "d", "computed": 5}


def test_decoding_ignores_skipped_private_and_non_init_fields():
    got = decode('{"plain": 4, "Other": 5, "secret": "x", "_private": 1, "computed": 7, "-": "e"}', Renamed)
    assert got == Renamed(plain=4, renamed=5, dash="e")
    assert got.secret == "hunter2" and got._private == 9 and got.computed == 5


# --- Go's output details --------------------------------------------------------------------------------


def test_compact_and_indented_forms():
    assert encode({"b": [1, {}], "a": []}) == '{"a":[],"b":[1,{}]}'  # Go sorts map keys
    assert encode([], indent="\t") == "[]"
    assert encode({"a": 1}, indent="\t") == '{\n\t"a": 1\n}'


def test_html_characters_and_line_separators_are_escaped_like_go():
    assert encode("<a href='x'>&\u2028\u2029é") == "\"\\u003ca href='x'\\u003e\\u0026\\u2028\\u2029é\""


def test_encode_errors_name_the_path():
    with pytest.raises(EncodeError, match=r"^\$\[0\]\.x\.y: cannot encode nan \(JSON has no NaN"):
        encode([{"x": {"y": math.nan}}])
    with pytest.raises(EncodeError, match=r"^\$\.s\[1\]: cannot encode set "):
        encode({"s": [1, {2}]})
    with pytest.raises(EncodeError, match=r"^\$: dict keys must be str or int, got float 1.5"):
        encode({1.5: "a"})
    with pytest.raises(EncodeError, match=r"^\$: the keys 1 and '1' would both be written as '1'"):
        encode({1: "a", "1": "b"})
    with pytest.raises(EncodeError, match=r"cannot encode type"):
        encode(Nothing)  # the class, not an instance


# --- decoding errors and policies --------------------------------------------------------------------------


def test_wrong_type_names_path_and_problem():
    with pytest.raises(DecodeError, match=r"^\$\[0\]\.dogs\[1\]\.name: expected str, got int$"):
        decode((DATA / "wrong_type.json").read_text(), list[pets.TidyPetstore])


def test_malformed_json_gives_line_and_column():
    with pytest.raises(DecodeError, match=r"^not JSON: line 5, column 5: Expecting ',' delimiter$"):
        decode((DATA / "broken.json").read_text(), list[pets.TidyPetstore])
    with pytest.raises(DecodeError, match=r"^not JSON: byte 1 is not UTF-8"):
        decode(b'"\xff"', str)


@pytest.mark.parametrize(
    "data, message",
    [
        pytest.param('"a"'.encode("utf-16"), r"^not JSON: byte 0 is not UTF-8", id="utf-16-with-bom"),
        pytest.param('"a"'.encode("utf-32"), r"^not JSON: byte 0 is not UTF-8", id="utf-32-with-bom"),
        pytest.param(
            '"a"'.encode("utf-16-le"), r"^not JSON: line 1, column 2: Invalid control", id="utf-16-le"
        ),
        pytest.param(
            '"a"'.encode("utf-8-sig"), r"^not JSON: line 1, column 1: Unexpected UTF-8 BOM", id="utf-8-bom"
        ),
        pytest.param(b'"\xed\xa0\x80"', r"^not JSON: byte 1 is not UTF-8", id="utf-8-encoded-surrogate"),
    ],
)
def test_bytes_are_read_as_utf8_only(data, message):
    """As Go's json.Unmarshal: json.loads alone would guess UTF-16 or UTF-32 and skip a UTF-8 byte order mark."""
    assert json.loads(data) in ("a", "\ud800")  # what decode must not inherit
    with pytest.raises(DecodeError, match=message):
        decode(data, str)
    assert decode(bytearray(b'"a"'), str) == "a"


def test_unknown_fields_are_ignored_by_default_and_rejected_on_request():
    text = (DATA / "wrong_type.json").read_text().replace('"name": 7', '"name": "Seven"')
    assert decode(text, list[pets.TidyPetstore])[0].dogs[1].name == "Seven"
    with pytest.raises(
        DecodeError, match=r"^\$\[0\]: unknown field 'owner' for TidyPetstore \(known: cats, dogs, "
    ):
        decode(text, list[pets.TidyPetstore], unknown="error")
    assert decode('{"name": "a", "location": "b"}', pets.TidyPetstore, unknown="error").dogs is None


def test_missing_required_field_and_null_where_not_allowed():
    with pytest.raises(DecodeError, match=r"^\$\.location: missing \(give the field a default"):
        decode('{"name": "a"}', pets.Petstore)
    with pytest.raises(DecodeError, match=r"^\$\.name: expected str, got null$"):
        decode('{"name": null, "location": "b"}', pets.Petstore)
    with pytest.raises(DecodeError, match=r"^\$: expected Petstore, got list$"):
        decode("[]", pets.Petstore)


@pytest.mark.parametrize(
    "text, into, message",
    [  # json.loads reads all of these; Go refuses each, and so does decode, at the value's path
        ('{"a": NaN}', dict[str, float], "$.a: NaN is not JSON (JSON has no NaN or infinity)"),
        ("[1, Infinity]", list[float], "$[1]: Infinity is not JSON"),
        ('{"a": [-Infinity]}', Any, "$.a[0]: -Infinity is not JSON"),  # Go: a syntax error, whatever the type
        ('{"a": 1, "b": NaN}', dict[str, str], "$.b: NaN is not JSON"),  # before the type errors, as in Go
        ('{"a": 1e400}', dict[str, float], "$.a: the number 1e400 does not fit a float64"),
        ("[-1e400]", list[Any], "$[0]: the number -1e400 does not fit a float64"),
        ("9223372036854775808", int, "$: the number 9223372036854775808 does not fit Go's 64-bit int"),
        ('{"n": -9223372036854775809}', dict[str, int], "$.n: the number -9223372036854775809 does not fit"),
        ("1" + "0" * 400, float, "$: the number 1000000000"),  # an int too large for a float64 too
    ],
)
def test_numbers_go_refuses(text, into, message):
    with pytest.raises(DecodeError) as info:
        decode(text, into)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("number", [2**1024 - 2**970, -(2**1024 - 2**970), 2**1024 - 1])
def test_an_int_that_rounds_past_float64_is_a_decode_error(number):
    """float() rounds these up to 2**1024 and raises OverflowError; decode names the path instead."""
    with pytest.raises(DecodeError, match=rf"^\$\.n: the number {number} does not fit a float64"):
        decode(f'{{"n": {number}}}', dict[str, float])


def test_the_largest_int_a_float64_holds_decodes():
    assert decode(str(2**1024 - 2**971), float) == 1.7976931348623157e308  # sys.float_info.max, exactly


def test_numbers_go_accepts():
    assert decode("[9223372036854775807, -9223372036854775808]", list[int]) == [2**63 - 1, -(2**63)]
    assert decode("123456789012345678901234567890", float) == 1.2345678901234568e29  # Go's float64 too
    assert decode("[1e-400, 1.5e308]", list[float]) == [0.0, 1.5e308]  # underflow is 0, as Go's ParseFloat
    assert decode('{"n": 123456789012345678901234567890}', dict[str, Any]) == {
        "n": 123456789012345678901234567890
    }


@pytest.mark.parametrize(
    "text, into, message",
    [
        ("1", str, "$: expected str, got int"),
        ("true", int, "$: expected int, got bool"),
        ("1.5", int, "$: expected int, got float"),
        ("true", float, "$: expected float, got bool"),
        ("1", bool, "$: expected bool, got int"),
        ("0", None, "$: expected None, got int"),
        ('{"a": 1}', list[int], "$: expected list[int], got dict"),
        ("[1]", dict[str, int], "$: expected dict[str, int], got list"),
        ('{"a": "x"}', dict[str, int], "$.a: expected int, got str"),
        ("[1.5]", list[int | str], "$[0]: expected int | str, got float"),
        ('"x"', bytes, "$: cannot decode into bytes (use str"),
        ("null", int | str, "$: expected int | str, got null"),
    ],
)
def test_type_mismatches(text, into, message):
    with pytest.raises(DecodeError) as info:
        decode(text, into)
    assert str(info.value).startswith(message)


def test_scalars_unions_and_bare_containers():
    assert decode("3", float) == 3.0 and isinstance(decode("3", float), float)
    assert decode("null", None) is None
    assert decode("null", Optional[int]) is None
    assert decode('[1, "a"]', list[int | str]) == [1, "a"]
    assert decode('[1, {"x": null}]', list) == [1, {"x": None}]
    assert decode('{"a": [1]}', dict) == {"a": [1]}
    assert decode('{"a": [1]}', Any) == {"a": [1]}
    assert from_data({"name": "Rex"}, pets.Pet) == pets.Pet("Rex")


@dataclass
class Locked:
    hidden: int = tag("-")
    keep: int = 1  # no default and never decoded: this dataclass cannot come from JSON


def test_a_skipped_field_without_default_cannot_be_built():
    with pytest.raises(DecodeError, match=r"^\$: cannot build Locked: .*hidden"):
        decode("{}", Locked)


# --- property: encode -> decode is the identity ------------------------------------------------------------
# Random dataclasses with random tags. Round trip is exact when omitempty fields default to their empty
# value (as Go's zero value) and an omitempty list is None rather than [] (Go's nil vs empty slice).

names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
scalars = st.sampled_from(
    [
        (int, st.integers(-(2**63), 2**63 - 1), 0),  # Go's int: decode refuses an int beyond it
        (str, st.text(), ""),
        (bool, st.booleans(), False),
        (float, st.floats(allow_nan=False, allow_infinity=False), 0.0),
    ]
)


@st.composite
def field_kind(draw, depth):
    """(type hint, strategy for its values, Go's empty value or None) for one field."""
    options = ["scalar", "optional", "list", "dict"] + (["dataclass"] if depth < 2 else [])
    kind = draw(st.sampled_from(options))
    if kind == "dataclass":
        cls, values = draw(dataclass_type(depth + 1))
        return cls, values, None
    hint, values, empty = draw(scalars)
    if kind == "optional":
        return Optional[hint], st.none() | values.filter(lambda v: not is_empty(v)), None
    if kind == "list":
        return list[hint] | None, st.none() | st.lists(values, min_size=1, max_size=3), None
    if kind == "dict":
        return dict[str, hint], st.dictionaries(st.text(max_size=5), values, max_size=3), None
    return hint, values, empty


@st.composite
def dataclass_type(draw, depth=0):
    attrs = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    keys = draw(st.lists(names, min_size=len(attrs), max_size=len(attrs), unique=True))
    specs, strategies = [], {}
    for attr, key in zip(attrs, keys):
        hint, values, empty = draw(field_kind(depth))
        mode = draw(st.sampled_from(["plain", "renamed", "omitempty", "skip"]))
        if mode == "omitempty" and not str(hint).startswith(("typing.Optional", "list")) and empty is None:
            mode = "renamed"  # dicts and nested dataclasses: their omitempty cases are tested above
        default = {"default": empty} if mode == "omitempty" else {}
        if mode == "skip":
            specs.append((attr, hint, tag("-", default=None)))
            continue
        spec = {"plain": key, "renamed": key, "omitempty": f"{key},omitempty"}[mode]
        specs.append((attr, hint, tag(spec, **default)))
        strategies[attr] = values
    # dataclasses need fields without defaults first
    specs.sort(key=lambda s: s[2].default is not dataclasses.MISSING)
    cls = dataclasses.make_dataclass(f"D{depth}_" + "_".join(attrs), specs)
    return cls, st.builds(cls, **strategies)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_round_trip_of_arbitrary_nested_dataclasses(data):
    cls, values = data.draw(dataclass_type())
    value = data.draw(values)
    for indent in (None, "\t"):
        text = encode(value, indent=indent)
        assert decode(text, cls, unknown="error") == value
        assert json.loads(text) == to_data(value)


# --- the library way gives the same bytes ------------------------------------------------------------------


def test_msgspec_twins_encode_and_decode_the_same_json():
    import msgspec

    stores = pets.many_stores(40)
    ours = encode(stores)
    assert msgspec.json.encode(pets.to_fast(stores)).decode() == ours
    assert pets.to_fast(decode(ours, list[pets.TidyPetstore])) == msgspec.json.decode(
        ours, type=list[pets.FastPetstore]
    )
    assert {len(s.dogs or []) for s in stores} == {0, 1, 2, 3} and any(s.cats for s in stores)


def test_int_map_keys_as_go_writes_and_reads_them():
    """Go writes an int map key as its text and sorts the keys as text; it parses them back for an int-keyed map."""
    assert encode({10: 1, 9: 2, "a": 3}) == '{"10":1,"9":2,"a":3}'
    assert decode('{"1": 2, "-3": 4}', dict[int, int]) == {1: 2, -3: 4}
    assert decode('{"1": 2}', dict[str, int]) == {"1": 2}
    with pytest.raises(DecodeError, match=r"^\$: the key 'x' does not fit int keys"):
        decode('{"x": 2}', dict[int, int])
    assert decode('{"+5": 1}', dict[int, int]) == {5: 1}  # strconv.ParseInt takes a sign, + too
    with pytest.raises(
        DecodeError, match=r"^\$: the key '99999999999999999999' does not fit Go's 64-bit int"
    ):
        decode('{"99999999999999999999": 1}', dict[int, int])


def test_a_number_past_the_digit_limit_is_a_decode_error():
    with pytest.raises(DecodeError, match="too long"):
        decode('{"n": ' + "9" * 5000 + "}", dict[str, int])
