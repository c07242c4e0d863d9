"""Chapter 4's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import collections.abc
import dataclasses
import json
import numbers
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest

from foundations import encoding, pets
from foundations.course import exercises
from foundations.encoding import tag


@dataclass
class EmailAlwaysKept:
    first_name: str = tag("firstName")
    last_name: str = tag("lastName")
    email: str = tag("email")
    password: str = tag("-")


@dataclass
class PasswordEncoded:
    first_name: str = tag("firstName")
    last_name: str = tag("lastName")
    email: str = tag("email,omitempty")
    password: str = tag("password,omitempty")


@dataclass
class EverythingOmitempty:
    first_name: str = tag("firstName,omitempty")
    last_name: str = tag("lastName,omitempty")
    email: str = tag("email,omitempty")
    password: str = tag("-")


@dataclass
class Untagged:
    first_name: str
    last_name: str
    email: str = ""
    password: str = tag("-", default="")


@dataclass
class Reordered:
    email: str = tag("email,omitempty")
    first_name: str = tag("firstName")
    last_name: str = tag("lastName")
    password: str = tag("-")


@dataclass
class EmailKeyCapitalised:
    first_name: str = tag("firstName")
    last_name: str = tag("lastName")
    email: str = tag("Email,omitempty")
    password: str = tag("-")


OWNER_WRONG = [
    pytest.param(EmailKeyCapitalised, "a non-empty email should be encoded (key email)", id="email-key-case"),
    pytest.param(
        EmailAlwaysKept,
        'your Owner encodes as {"firstName":"Tit","lastName":"Petric","email":""}',
        id="email-without-omitempty",
    ),
    pytest.param(PasswordEncoded, "the password appears in your JSON", id="password-encoded"),
    pytest.param(EverythingOmitempty, "only email is omitempty", id="names-omitempty"),
    pytest.param(Untagged, "the keys are camelCase", id="python-names-as-keys"),
    pytest.param(Reordered, "in that order", id="fields-reordered"),
]


@pytest.mark.parametrize("answer, message", OWNER_WRONG)
def test_owner_rejects(answer, message):
    assert message in exercises.verdict("04.owner", answer)


PRINTED = {"None", "False", "0", "''", "[]"}  # the empty values the notebook's table shows


def _copy_of_is_empty(value):
    if value is None:
        return True
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    return False


def _numbers_by_type(value):
    if value is None or isinstance(value, (int, float)):
        return not value
    if dataclasses.is_dataclass(value):
        return False
    return isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)) and len(value) == 0


def _numbers_by_name(value):
    """Every number type the exercise names, listed by name: right only for those."""
    if value is None or isinstance(value, (bool, int, float, Decimal, Fraction)):
        return value is None or value == 0
    if dataclasses.is_dataclass(value):
        return False
    return isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)) and len(value) == 0


def _len_means_empty(value):
    if value is None or isinstance(value, numbers.Number):
        return value is None or value == 0
    return hasattr(value, "__len__") and len(value) == 0


def _truthiness_when_bool_is_defined(value):
    """Truthiness for any class that defines __bool__: right for the numbers, wrong for a user's own object."""
    if value is None:
        return True
    if dataclasses.is_dataclass(value):
        return False
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
        return len(value) == 0
    return not value if hasattr(type(value), "__bool__") or isinstance(value, (int, float)) else False


def _containers_by_exact_type(value):
    """Containers matched by exact type: a dict subclass (defaultdict, Counter) is still a dict, a Go map."""
    if value is None:
        return True
    if isinstance(value, numbers.Number):
        return value == 0
    if type(value) in (str, bytes, bytearray, list, tuple, dict, set, frozenset):
        return len(value) == 0
    return False


def _empty_collection(value):
    """Any Collection of length 0 taken for empty: the next try after Sized is refused, wrong for a user's own class."""
    if value is None:
        return True
    if isinstance(value, numbers.Number):
        return value == 0
    if dataclasses.is_dataclass(value):
        return False
    return isinstance(value, collections.abc.Collection) and len(value) == 0


OMIT_WRONG = [
    pytest.param(_copy_of_is_empty, "Go omits b''", id="a-copy-of-is_empty"),
    pytest.param(_numbers_by_type, "Go omits Decimal('0')", id="int-and-float-only"),
    pytest.param(
        _numbers_by_name,
        "Go omits Ticks(0) (a number of a type the exercise never names)",
        id="numbers-by-name",
    ),
    pytest.param(_len_means_empty, "a dataclass is a Go struct, never empty", id="len-means-empty"),
    pytest.param(lambda value: not value, "even when len() of it is 0", id="python-truthiness"),
    pytest.param(
        lambda value: not dataclasses.is_dataclass(value) and not value,
        "an object of a class of its own is a Go struct too",
        id="truthiness-but-dataclasses",
    ),
    pytest.param(
        _truthiness_when_bool_is_defined,
        "an object of a class of its own is a Go struct too",
        id="truthiness-when-bool-is-defined",
    ),
    pytest.param(
        _empty_collection,
        "an object of a class of its own is a Go struct too",
        id="any-empty-collection",
    ),
    pytest.param(
        _containers_by_exact_type,
        "Go omits defaultdict(<class 'list'>, {}) (a subclass of dict is still a dict, a Go map)",
        id="containers-by-exact-type",
    ),
    pytest.param(lambda value: repr(value) in PRINTED, "Go omits 0.0", id="read-off-the-table"),
    pytest.param(lambda value: value in (None, False, 0, "", [], {}), "Go omits ()", id="a-list-of-empties"),
    pytest.param(
        lambda value: value in (None, 0, "", [], (), {}, b"", bytearray(), set(), frozenset()),
        "an object of a class of its own is a Go struct too",
        id="every-empty-value-listed",
    ),
    pytest.param(
        lambda value: (
            isinstance(value, numbers.Number)
            and value == 0
            or value in (None, "", [], (), {}, b"", bytearray(), set(), frozenset())
        ),
        "Go keeps Amount('')",
        id="numbers-by-type-the-rest-listed",
    ),
    pytest.param(
        lambda value: value is None or value == 0 or value == "" or value == [] or value == (),
        "Go omits {}",
        id="forgets-dicts",
    ),
    pytest.param(
        lambda value: (
            value is None or value is False or value == "" or value == [] or value == () or value == {}
        ),
        "Go omits 0",
        id="forgets-numbers",
    ),
]


@pytest.mark.parametrize("answer, message", OMIT_WRONG)
def test_omit_rejects(answer, message):
    assert message in exercises.verdict("04.omit", answer)


def _parse(spec):
    if spec == "-":
        return encoding.Tag(skip=True)
    name, *options = spec.split(",")
    return encoding.Tag(name or None, "omitempty" in options)


def _walk(
    *,
    key=lambda f, tag: tag.name or f.name,
    skip=True,
    private=True,
    empty=lambda f, tag, item, data: tag.omitempty and encoding.is_empty(item),
    lists=True,
    tag_of=lambda f: _parse(f.metadata.get("json", "")),
):
    """The reference walk with one rule changed: each wrong answer below is one half-solution."""

    def to_json_data(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out = {}
            for f in dataclasses.fields(value):
                tag = tag_of(f)
                if (skip and tag.skip) or (private and f.name.startswith("_")):
                    continue
                item = getattr(value, f.name)
                data = to_json_data(item)
                if not empty(f, tag, item, data):
                    out[key(f, tag)] = data
            return out
        if lists and isinstance(value, list):
            return [to_json_data(item) for item in value]
        return value

    return to_json_data


def _dash_prefix_skips(f):
    """Any tag starting with "-" taken for "-": Go's "-," (the key "-") is lost."""
    spec = f.metadata.get("json", "")
    return encoding.Tag(skip=True) if spec.startswith("-") else _parse(spec)


def _dash_prefix_but_dash_comma_skips(f):
    """Every tag starting with "-" skipped but "-," itself: Go reads "-ref" as an ordinary key."""
    spec = f.metadata.get("json", "")
    return encoding.Tag(skip=True) if spec.startswith("-") and spec != "-," else _parse(spec)


def _options_as_one_string(f):
    """Everything after the first comma taken as one option: Go finds omitempty among several ("cost,omitempty,")."""
    spec = f.metadata.get("json", "")
    if spec == "-":
        return encoding.Tag(skip=True)
    key, _, options = spec.partition(",")
    return encoding.Tag(key or None, options == "omitempty")


def _omitempty_first_option_only(f):
    """Only the first option compared with omitempty: Go looks through every option ("room,,omitempty")."""
    spec = f.metadata.get("json", "")
    if spec == "-":
        return encoding.Tag(skip=True)
    key, _, options = spec.partition(",")
    return encoding.Tag(key or None, options.split(",")[0] == "omitempty")


def _whole_string_as_key(f):
    """The tag string as the key, options and all."""
    spec = f.metadata.get("json", "")
    return encoding.Tag(skip=True) if spec == "-" else encoding.Tag(spec or None, "omitempty" in spec)


def _omitempty_anywhere(f):
    """ "omitempty" looked for anywhere in the tag: Go reads the tag "omitempty" as a key of that name."""
    spec = f.metadata.get("json", "")
    return (
        encoding.Tag(skip=True)
        if spec == "-"
        else encoding.Tag(spec.split(",")[0] or None, "omitempty" in spec)
    )


def _by_asdict(value):
    """asdict, then the keys renamed from the tags of the top class only."""
    if isinstance(value, list):
        return [_by_asdict(v) for v in value]
    if not dataclasses.is_dataclass(value):
        return value
    plain = dataclasses.asdict(value)
    out = {}
    for f in dataclasses.fields(value):
        tag = _parse(f.metadata.get("json", ""))
        if tag.skip or f.name.startswith("_") or (tag.omitempty and encoding.is_empty(plain[f.name])):
            continue
        out[tag.name or f.name] = plain[f.name]
    return out


def _private_by_key(value):
    """A field left out when its JSON *key* starts with "_": Go's rule is about the field's name, not its key."""
    if isinstance(value, list):
        return [_private_by_key(item) for item in value]
    if not dataclasses.is_dataclass(value):
        return value
    out = {}
    for f in dataclasses.fields(value):
        tag = _parse(f.metadata.get("json", ""))
        key = tag.name or f.name
        item = getattr(value, f.name)
        if tag.skip or key.startswith("_") or (tag.omitempty and encoding.is_empty(item)):
            continue
        out[key] = _private_by_key(item)
    return out


def _calls_to_data(value):
    return encoding.to_data(value)


def _round_trips_encode(value):
    return json.loads(encoding.encode(value))


TO_JSON_DATA_WRONG = [
    pytest.param(_walk(key=lambda f, tag: f.name), "yours has a key 'clinic_name'", id="attribute-names"),
    pytest.param(_walk(skip=False), "yours has a key 'api_key'", id="ignores-dash"),
    pytest.param(_walk(private=False), "yours has a key '_audit'", id="keeps-private-fields"),
    pytest.param(_private_by_key, "yours has a key 'internal'", id="private-by-json-key"),
    pytest.param(
        _walk(
            empty=lambda f, tag, item, data: (
                (tag.name or "").startswith("_") or (tag.omitempty and encoding.is_empty(item))
            )
        ),
        "the key '_id' is missing",
        id="private-by-name-and-by-key",
    ),
    pytest.param(
        _walk(empty=lambda f, tag, item, data: tag.omitempty and not data),
        "the key 'hours' is missing",
        id="nested-struct-empty-after-converting",
    ),
    pytest.param(
        _walk(empty=lambda f, tag, item, data: tag.omitempty and not item),
        "the key 'hours' is missing",
        id="python-truthiness",
    ),
    pytest.param(_walk(lists=False), "yours is a _Visit object", id="no-recursion-into-lists"),
    pytest.param(_walk(key=lambda f, tag: tag.name), "yours has a key None", id="empty-name-as-key"),
    pytest.param(
        _walk(key=lambda f, tag: tag.name if tag.name is not None else ""),
        "yours has a key ''",
        id="empty-name-as-empty-key",
    ),
    pytest.param(
        _walk(empty=lambda f, tag, item, data: False), "yours has a key 'city'", id="ignores-omitempty"
    ),
    pytest.param(
        _walk(empty=lambda f, tag, item, data: encoding.is_empty(item)),
        "the key 'staff' is missing",
        id="omits-every-empty-value",
    ),
    pytest.param(
        _walk(tag_of=lambda f: _parse(f.metadata["json"])), "raised KeyError: 'json'", id="every-field-tagged"
    ),
    pytest.param(
        _walk(empty=lambda f, tag, item, data: item is None or (tag.omitempty and encoding.is_empty(item))),
        "the key 'vet' is missing",
        id="drops-every-none",
    ),
    pytest.param(_walk(tag_of=_dash_prefix_skips), "the key '-' is missing", id="dash-comma-skipped"),
    pytest.param(
        _walk(tag_of=_dash_prefix_but_dash_comma_skips),
        "the key '-ref' is missing",
        id="dash-prefixed-key-skipped",
    ),
    pytest.param(
        _walk(tag_of=_options_as_one_string),
        "at $.visits[1], yours has a key 'cost' that Go would not write",
        id="options-as-one-string",
    ),
    pytest.param(
        _walk(tag_of=_omitempty_first_option_only),
        "at $.visits[1], yours has a key 'room' that Go would not write",
        id="omitempty-first-option-only",
    ),
    pytest.param(
        _walk(tag_of=_whole_string_as_key), "yours has a key 'hours,omitempty'", id="tag-string-as-key"
    ),
    pytest.param(
        _walk(tag_of=lambda f: encoding.parse_tag(f.metadata.get("json", ""))),
        "calls foundations.encoding's own parse_tag",
        id="calls-parse_tag",
    ),
    pytest.param(
        _walk(tag_of=_omitempty_anywhere), "the key 'omitempty' is missing", id="omitempty-as-substring"
    ),
    pytest.param(_by_asdict, "at $.hours, yours has a key 'opens'", id="asdict-then-rename"),
    pytest.param(_calls_to_data, "calls foundations.encoding's own to_data", id="calls-the-package"),
    pytest.param(_round_trips_encode, "calls foundations.encoding's own encode", id="round-trips-encode"),
    pytest.param(lambda value: value, "yours is a _Clinic object", id="returns-its-argument"),
]


@pytest.mark.parametrize("answer, message", TO_JSON_DATA_WRONG)
def test_to_json_data_rejects(answer, message):
    assert message in exercises.verdict("04.to_json_data", answer)


def test_to_json_data_refuses_the_package_imported_by_name():
    """``from foundations.encoding import to_data`` in the notebook: the name is refused too, then restored."""
    namespace = {"to_data": encoding.to_data}
    exec("def to_json_data(value):\n    return to_data(value)", namespace)
    assert "calls foundations.encoding's own to_data" in exercises.verdict(
        "04.to_json_data", namespace["to_json_data"]
    )
    assert namespace["to_data"] is encoding.to_data and encoding.to_data.__module__ == "foundations.encoding"


def _counts_cats(text):
    stores = encoding.decode(text, list[pets.TidyPetstore])
    return [p.name for s in stores for p in (s.dogs or []) + (s.cats or []) if not p.breed]


def _breed_key_missing(text):
    return [d["name"] for s in json.loads(text) for d in s.get("dogs") or [] if "breed" not in d]


def _forgets_nil(text):
    return [d.name for s in encoding.decode(text, list[pets.TidyPetstore]) for d in s.dogs if not d.breed]


def _breed_is_none(text):
    return [
        d.name
        for s in encoding.decode(text, list[pets.TidyPetstore])
        for d in s.dogs or []
        if d.breed is None
    ]


def _plain_json(text):
    """Passes every valid document: no types, so nothing is checked."""
    return [d["name"] for s in json.loads(text) for d in s.get("dogs") or [] if not d.get("breed")]


def _typed_no_breed(text):
    """Typed, so a wrong value raises DecodeError with its path; but a field TidyPet lacks is still ignored."""
    return [
        d.name for s in encoding.decode(text, list[pets.TidyPetstore]) for d in s.dogs or [] if not d.breed
    ]


def _swallows_errors(text):
    try:
        return _typed_no_breed(text)
    except encoding.DecodeError:
        return []


def _own_error(text):
    try:
        return _typed_no_breed(text)
    except encoding.DecodeError:
        raise ValueError("bad document") from None


NO_BREED_WRONG = [
    pytest.param(_plain_json, "that document does not fit list[TidyPetstore]", id="json-loads-no-types"),
    pytest.param(
        _typed_no_breed,
        "on seven generated stores, one dog with an owner field, you returned",
        id="unknown-ignored",
    ),
    pytest.param(_swallows_errors, "you returned []", id="swallows-the-decode-error"),
    pytest.param(_own_error, "got ValueError: bad document", id="hides-where-behind-its-own-error"),
    pytest.param(
        lambda text: ["Trinity"],
        "on twelve generated stores, the dogs without a breed are",
        id="read-off-the-dump",
    ),
    pytest.param(_counts_cats, "(cats do not count)", id="counts-cats"),
    pytest.param(
        _breed_key_missing, 'on data/example1.json (Trinity has "breed": "")', id="missing-key-only"
    ),
    pytest.param(_forgets_nil, "Go's nil slice: your loop assumed a list", id="forgets-nil-slices"),
    pytest.param(_breed_is_none, "you found []", id="breed-is-none"),
    pytest.param(["Trinity"], "expected a function no_breed(text)", id="a-value-not-a-function"),
]


@pytest.mark.parametrize("answer, message", NO_BREED_WRONG)
def test_no_breed_rejects(answer, message):
    assert message in exercises.verdict("04.no_breed", answer)
