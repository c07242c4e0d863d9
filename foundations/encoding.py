"""Chapter 4, "Encoding and decoding JSON": Go's struct tags on dataclass fields, typed decoding, a readable dump.

    @dataclass
    class Pet:
        name: str = tag("name")
        breed: str = tag("breed,omitempty", default="")

    encode([Pet("Trinity")], indent="\\t")     # Go's json.MarshalIndent(v, "", "\\t"): same keys, order, escapes
    decode('[{"name": "Rex"}]', list[Pet])    # Go's json.Unmarshal, with errors like "$[0].name: expected str, got int"
    print(dump(pets))                         # the book's spew.Dump: every field with its type and length

Policies, where Go and Python differ:
- unknown JSON fields are ignored, as Go does; ``unknown="error"`` rejects them (Go's ``DisallowUnknownFields``);
- a missing field takes the dataclass default; a field without a default is required (Go silently uses its
  zero value, which hides typos);
- ``null`` is accepted only where the type allows ``None``; keys match exactly (Go also matches ignoring case);
- fields named ``_like_this`` are never encoded, like Go's unexported (lower-case) fields;
- two fields with one JSON key are a ``TagError`` when the class is first encoded or decoded (Go silently
  drops both, or the untagged one);
- ``omitempty`` looks at the value, one rule for every field, so an ``int | None`` holding 0 is omitted
  (Go keeps a non-nil ``*int`` pointing at 0); a choice, not a Python limit: the plan knows each field's type;
- floats are written the Python way (``1.0`` where Go writes ``1``); NaN and infinity are errors, as in Go;
- ``decode`` reads bytes as UTF-8 only, as Go does (``json.loads`` alone guesses UTF-16 or UTF-32 and skips a
  UTF-8 byte order mark);
- ``decode`` refuses the numbers Go refuses, which ``json.loads`` alone reads: ``NaN``, ``Infinity``, a float
  beyond float64 (``1e400``) and, for an ``int``, one beyond Go's 64-bit ``int`` (``encode`` writes any int).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import types
import typing
from typing import Any, Literal, TypeVar, Union

from foundations.errors import FoundationsError

T = TypeVar("T")


class EncodeError(FoundationsError):
    """A value cannot be written as JSON; the message starts with its path, e.g. ``$[0].born``."""


class DecodeError(FoundationsError):
    """The text is not JSON (line and column), or does not fit the type (path and problem)."""


class TagError(FoundationsError):
    """A ``tag("...")`` spec Go would not understand."""


@dataclasses.dataclass(frozen=True)
class Tag:
    """A parsed Go JSON tag: the key (``None``: the field's own name), ``omitempty``, and ``-`` (skip)."""

    name: str | None = None
    omitempty: bool = False
    skip: bool = False


def parse_tag(spec: str) -> Tag:
    """Read a Go tag value: ``"name"``, ``"name,omitempty"``, ``",omitempty"``, ``"-"`` (skip), ``"-,"`` (key "-")."""
    if spec == "-":
        return Tag(skip=True)
    name, *options = spec.split(",")
    unknown = sorted(set(options) - {"omitempty", ""})
    if unknown:
        raise TagError(
            f"json tag {spec!r}: unknown option {unknown[0]!r}; supported: omitempty, or '-' to skip"
        )
    return Tag(name or None, "omitempty" in options)


def tag(spec: str, *, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field carrying a Go-style JSON tag: ``breed: str = tag("breed,omitempty", default="")``."""
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={"json": parse_tag(spec)}
    )


@dataclasses.dataclass(frozen=True)
class _Field:
    attr: str
    key: str
    omitempty: bool
    hint: Any
    required: bool
    init: bool


@functools.cache  # one plan per class: type hints are slow to resolve and encode/decode run per object
def _plan(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        parsed: Tag = f.metadata.get("json", Tag())
        if parsed.skip or f.name.startswith("_"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        plan.append(_Field(f.name, parsed.name or f.name, parsed.omitempty, hints[f.name], required, f.init))
    owners: dict[str, str] = {}  # Go keeps neither of two tagged fields, without an error (go vet reports it)
    for field in plan:
        if field.key in owners:
            raise TagError(
                f"{cls.__name__}: the fields {owners[field.key]!r} and {field.attr!r} would both be written "
                f"under the JSON key {field.key!r}; give each field its own key"
            )
        owners[field.key] = field.attr
    return tuple(plan)


def is_empty(value: Any) -> bool:
    """Go's ``omitempty``: None, False, 0, 0.0, "" and empty lists/tuples/dicts; a dataclass never is."""
    if value is None:
        return True
    if isinstance(value, (int, float)):  # bool is an int: False == 0
        return value == 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    return False


def to_data(value: Any, path: str = "$") -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None), its dataclasses' tags applied."""
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EncodeError(f"{path}: cannot encode {value} (JSON has no NaN or infinity; use None)")
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in _plan(type(value)):
            item = getattr(value, f.attr)
            if not (f.omitempty and is_empty(item)):
                out[f.key] = to_data(item, f"{path}.{f.key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_data(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        keys: dict[str, str | int] = {}  # Go writes an integer map key as its decimal text, sorted as text
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise EncodeError(f"{path}: dict keys must be str or int, got {type(key).__name__} {key!r}")
            if str(key) in keys:
                raise EncodeError(
                    f"{path}: the keys {keys[str(key)]!r} and {key!r} would both be written as {str(key)!r}"
                )
            keys[str(key)] = key
        return {text: to_data(value[keys[text]], f"{path}.{text}") for text in sorted(keys)}
    raise EncodeError(
        f"{path}: cannot encode {type(value).__name__} "
        "(use str, int, float, bool, None, list, dict or a dataclass)"
    )


# Go escapes these so JSON can sit inside HTML, and the two line separators JavaScript chokes on.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE = re.compile("[<>&\u2028\u2029]")


def encode(value: Any, indent: str | None = None) -> str:
    """JSON text as Go writes it: ``json.Marshal`` (compact), or ``json.MarshalIndent(v, "", indent)``."""
    data = to_data(value)
    if indent is None:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _GO_ESCAPE.sub(lambda m: _GO_ESCAPES[m.group()], text)


def decode(text: str | bytes, into: type[T], *, unknown: Literal["ignore", "error"] = "ignore") -> T:
    """Parse ``text`` into ``into`` (e.g. ``list[Petstore]``), checking every value against its type."""
    refused: list[_Refused] = []

    def constant(word: str) -> _Refused:  # NaN, Infinity, -Infinity: json.loads reads them, JSON has none
        refused.append(_Refused(f"{word} is not JSON (JSON has no NaN or infinity)"))
        return refused[-1]

    def number(digits: str) -> float | _Refused:  # 1e400 would become inf; Go refuses it
        value = float(digits)
        if math.isfinite(value):
            return value
        refused.append(_Refused(f"the number {digits} does not fit a float64"))
        return refused[-1]

    # Bytes are UTF-8 only, as in Go: json.loads would guess UTF-16 or UTF-32 and skip a UTF-8 byte order mark.
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not JSON: byte {exc.start} is not UTF-8 ({exc.reason})") from exc
    try:
        data = json.loads(text, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except ValueError as exc:  # an integer past Python's digit limit (sys.set_int_max_str_digits)
        raise DecodeError(f"a number too long to read: {exc}") from exc
    if refused:  # rare, so the walk that finds the first one's path runs only then
        _refuse(data, "$")
    return from_data(data, into, unknown=unknown)


@dataclasses.dataclass(frozen=True)
class _Refused:
    """A number Go refuses, left in the parsed data by ``decode``'s hooks until ``_refuse`` finds its path."""

    why: str


def _refuse(value: Any, path: str) -> None:
    if isinstance(value, _Refused):
        raise DecodeError(f"{path}: {value.why}")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _refuse(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse(item, f"{path}.{key}")


def from_data(data: Any, into: type[T], *, unknown: Literal["ignore", "error"] = "ignore") -> T:
    """``decode`` for data already parsed (``json.loads`` output)."""
    return typing.cast(T, _convert(data, into, "$", unknown))


def _key(text: str, hint: Any, path: str) -> Any:
    """A JSON object's key (always text) as the dict's key type: str, or int as Go parses an int map key."""
    if hint in (str, Any):
        return text
    if hint is int and re.fullmatch(r"[+-]?[0-9]+", text):  # strconv.ParseInt's syntax: a sign, then digits
        if -(2**63) <= int(text) < 2**63:
            return int(text)
        raise DecodeError(f"{path}: the key {text!r} does not fit Go's 64-bit int (-2**63 to 2**63 - 1)")
    raise DecodeError(
        f"{path}: the key {text!r} does not fit {_name(hint)} keys (JSON keys are text: str or int)"
    )


def _convert(value: Any, hint: Any, path: str, unknown: str) -> Any:
    hint = type(None) if hint is None else hint  # a bare None annotation means NoneType
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Union or origin is types.UnionType:
        options = [o for o in typing.get_args(hint) if o is not type(None)]
        if value is None and len(options) < len(typing.get_args(hint)):
            return None
        if len(options) == 1:  # X | None: report X's own error, which says more than the union's
            return _convert(value, options[0], path, unknown)
        for option in options:  # the first option that fits wins, like pydantic's left-to-right mode
            try:
                return _convert(value, option, path, unknown)
            except DecodeError:
                continue
        _fail(path, hint, value)
    if hint is list or origin is list:
        item = (typing.get_args(hint) or (Any,))[0]
        if not isinstance(value, list):
            _fail(path, hint, value)
        return [_convert(v, item, f"{path}[{i}]", unknown) for i, v in enumerate(value)]
    if hint is dict or origin is dict:
        key, item = typing.get_args(hint) or (str, Any)
        if not isinstance(value, dict):
            _fail(path, hint, value)
        return {_key(k, key, path): _convert(v, item, f"{path}.{k}", unknown) for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(value, hint, path, unknown)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int that rounds to 2**1024 or beyond: Go's ParseFloat refuses it too
            raise DecodeError(f"{path}: the number {value} does not fit a float64") from None
    if hint is int and type(value) is int and not -(2**63) <= value < 2**63:  # Python's int has no bound
        raise DecodeError(f"{path}: the number {value} does not fit Go's 64-bit int (-2**63 to 2**63 - 1)")
    if hint in (str, int, bool, type(None)) and type(value) is hint:
        return value
    if hint not in (str, int, bool, float, type(None)):
        raise DecodeError(
            f"{path}: cannot decode into {_name(hint)} "
            "(use str, int, float, bool, None, list, dict, a union or a dataclass)"
        )
    _fail(path, hint, value)


def _build(value: Any, cls: type, path: str, unknown: str) -> Any:
    if not isinstance(value, dict):
        _fail(path, cls, value)
    plan = _plan(cls)
    if unknown == "error":
        known = {f.key for f in plan}
        extra = [key for key in value if key not in known]
        if extra:
            raise DecodeError(
                f"{path}: unknown field {extra[0]!r} for {cls.__name__} (known: {', '.join(sorted(known))})"
            )
    kwargs = {}
    for f in plan:
        if f.key in value and f.init:
            kwargs[f.attr] = _convert(value[f.key], f.hint, f"{path}.{f.key}", unknown)
        elif f.required and f.init:
            raise DecodeError(f"{path}.{f.key}: missing (give the field a default to make it optional)")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # e.g. a skipped ("-") field without a default
        raise DecodeError(f"{path}: cannot build {cls.__name__}: {exc}") from exc


def _fail(path: str, hint: Any, value: Any) -> typing.NoReturn:
    got = "null" if value is None else type(value).__name__
    raise DecodeError(f"{path}: expected {_name(hint)}, got {got}")


def _name(hint: Any) -> str:
    """``list[Pet] | None`` rather than ``list[foundations.pets.Pet] | None``."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return "None" if hint is type(None) else hint.__name__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", str(hint).replace("NoneType", "None"))


def dump(value: Any, hint: Any = None) -> str:
    """A readable dump for inspection, like the book's ``spew.Dump``: every field with its declared type,
    lengths of strings and containers, nesting by indentation."""
    return _dump(value, hint, 0)


def _dump(value: Any, hint: Any, depth: int) -> str:
    label = f"({_name(type(value) if hint is None else hint)})"
    pad, close = "  " * (depth + 1), "  " * depth
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value))
        body = [
            f"{pad}{f.name}: {_dump(getattr(value, f.name), hints[f.name], depth + 1)}"
            for f in dataclasses.fields(value)
        ]
        return label + " {\n" + ",\n".join(body) + "\n" + close + "}"
    if isinstance(value, (list, tuple, dict)):
        if isinstance(value, dict):
            items = [f"{pad}{k!r}: {_dump(v, None, depth + 1)}" for k, v in value.items()]
        else:
            items = [pad + _dump(v, None, depth + 1) for v in value]
        head = f"{label} (len={len(value)})"
        return head + (" {\n" + ",\n".join(items) + "\n" + close + "}" if items else " {}")
    if isinstance(value, str):
        length = f"(len={len(value)}) " if value else ""
        return f"{label} {length}{json.dumps(value, ensure_ascii=False)}"
    return f"{label} {value!r}"
