"""Chapter 2's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import dataclasses
import inspect
from typing import Protocol, runtime_checkable

import pytest

from foundations.course import exercises


def _public_methods(protocol):
    return {n: m for n, m in vars(protocol).items() if not n.startswith("_") and callable(m)}


def _names_only(obj, protocol):
    return all(hasattr(obj, name) for name in _public_methods(protocol))


def _callable_only(obj, protocol):
    return all(callable(getattr(obj, name, None)) for name in _public_methods(protocol))


def _count_only(obj, protocol):
    for name, declared in _public_methods(protocol).items():
        method = getattr(obj, name, None)
        if not callable(method):
            return False
        if len(inspect.signature(method).parameters) != len(inspect.signature(declared).parameters) - 1:
            return False
    return True


def _keeps_self(obj, protocol):
    for name, declared in _public_methods(protocol).items():
        method = getattr(obj, name, None)
        if not callable(method) or inspect.signature(method) != inspect.signature(declared):
            return False
    return True


def _first_method_only(obj, protocol):
    name, declared = next(iter(_public_methods(protocol).items()))
    method = getattr(obj, name, None)
    return (
        callable(method)
        and list(inspect.signature(method).parameters) == list(inspect.signature(declared).parameters)[1:]
    )


def _every_callable_name(obj, protocol):
    for name, declared in vars(protocol).items():
        if not callable(declared) or isinstance(declared, type):
            continue
        method = getattr(obj, name, None)
        if not callable(method):
            return False
        try:
            if list(inspect.signature(method).parameters) != list(inspect.signature(declared).parameters)[1:]:
                return False
        except ValueError:
            continue
    return True


def _not_a_method_passes(obj, protocol):
    for name, declared in _public_methods(protocol).items():
        if not hasattr(obj, name):
            return False
        try:
            found = list(inspect.signature(getattr(obj, name)).parameters)
        except TypeError:  # not a function: let it through
            continue
        if found != list(inspect.signature(declared).parameters)[1:]:
            return False
    return True


def _runtime_checkable(obj, protocol):
    return isinstance(obj, runtime_checkable(type("Checked", (protocol, Protocol), {})))


CONFORMS_WRONG = [
    pytest.param(
        lambda obj, protocol: callable(getattr(obj, "get_name", None)),
        "an object with get_name(self) but no greet",
        id="hard-codes-get_name",
    ),
    pytest.param(_runtime_checkable, "lacks loud", id="runtime-checkable-isinstance"),
    pytest.param(_names_only, "lacks loud", id="names-only"),
    pytest.param(_callable_only, "lacks loud", id="callable-only"),
    pytest.param(_count_only, "in another order", id="parameter-count-only"),
    pytest.param(_keeps_self, "parameters without self", id="compares-self-too"),
    pytest.param(_first_method_only, "but no greet", id="first-method-only"),
    pytest.param(_every_callable_name, "own public methods only", id="checks-dunder-methods"),
    pytest.param(_not_a_method_passes, "whose get_name is a str", id="lets-attributes-through"),
    pytest.param(lambda obj, protocol: True, "but no greet", id="always-true"),
    pytest.param(lambda obj, protocol: "yes", "expected True or False", id="not-a-bool"),
]


@pytest.mark.parametrize("answer, message", CONFORMS_WRONG)
def test_conforms_rejects(answer, message):
    assert message in exercises.verdict("02.conforms", answer)


def _shared(value, target):
    names = {f.name for f in dataclasses.fields(target)}
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name in names}


def _shared_by_asdict(value, target, **extra):
    names = {f.name for f in dataclasses.fields(target)}
    return target(**{**{k: v for k, v in dataclasses.asdict(value).items() if k in names}, **extra})


def _swallows(value, target, **extra):
    try:
        return target(**{**_shared(value, target), **extra})
    except TypeError:
        return None


CONVERT_WRONG = [
    pytest.param(
        lambda value, target, **extra: target(value, **extra),
        "that is Python's Cat(dog)",
        id="positional-cat-of-dog",
    ),
    pytest.param(
        lambda value, target, **extra: target(**dataclasses.asdict(value), **extra),
        "raised TypeError: ",
        id="copies-every-field",
    ),
    pytest.param(
        lambda value, target, **extra: target(name=value.name, **extra),
        "ShowEntry, rank=1) raised",
        id="copies-only-name",
    ),
    pytest.param(
        lambda value, target, **extra: target(**{**extra, **_shared(value, target)}),
        "extra should win",
        id="extra-loses",
    ),
    pytest.param(_swallows, "should raise TypeError", id="swallows-the-error"),
    pytest.param(_shared_by_asdict, "not a converted copy", id="asdict-of-the-shared-fields"),
]


@pytest.mark.parametrize("answer, message", CONVERT_WRONG)
def test_convert_rejects(answer, message):
    assert message in exercises.verdict("02.convert", answer)
