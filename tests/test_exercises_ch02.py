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


def _not_a_method_passes(obj, protocol):  # whole signatures, but an attribute with none gets through
    for name, declared in _methods_of(protocol).items():
        if not hasattr(obj, name):
            return False
        try:
            found = inspect.signature(getattr(obj, name))
        except TypeError:  # not a function: let it through
            continue
        if found != _without_self(declared):
            return False
    return True


def _runtime_checkable(obj, protocol):
    return isinstance(obj, runtime_checkable(type("Checked", (protocol, Protocol), {})))


def _without_self(declared):
    signature = inspect.signature(declared)
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def _same_signatures(obj, declared_methods):
    for name, declared in declared_methods.items():
        method = getattr(obj, name, None)
        if not callable(method) or inspect.signature(method) != _without_self(declared):
            return False
    return True


def _names_in_order(obj, protocol):  # the reference solution before protocol inheritance and whole signatures
    for name, declared in _public_methods(protocol).items():
        method = getattr(obj, name, None)
        if not callable(method):
            return False
        if list(inspect.signature(method).parameters) != list(inspect.signature(declared).parameters)[1:]:
            return False
    return True


def _own_vars_only(obj, protocol):  # whole signatures, but only what the protocol's own class body declares
    return _same_signatures(obj, _public_methods(protocol))


def _mro_base_wins(obj, protocol):  # walks the MRO nearest first and lets each base overwrite
    declared = {}
    for klass in protocol.__mro__:
        declared.update(_public_methods(klass))
    return _same_signatures(obj, declared)


def _bases_only(obj, protocol):  # the protocol and its direct bases, nearest first: a grandparent is missed
    declared = {}
    for klass in (protocol, *protocol.__bases__):
        declared = {**_public_methods(klass), **declared}
    return _same_signatures(obj, declared)


def _every_declaration(obj, protocol):  # a redeclared method must match each of its declarations
    return all(_same_signatures(obj, _public_methods(klass)) for klass in protocol.__mro__)


def _methods_of(protocol):
    declared = {}
    for klass in reversed(protocol.__mro__):
        declared.update(_public_methods(klass))
    return declared


def _object_own_vars(obj, protocol):  # looks in the object's own class body, not what it inherits
    for name, declared in _methods_of(protocol).items():
        method = vars(type(obj)).get(name)
        if not callable(method) or inspect.signature(method) != inspect.signature(declared):
            return False
    return True


def _compare_parameters_by(key):  # the return annotation and one view of each parameter
    def answer(obj, protocol):
        for name, declared in _methods_of(protocol).items():
            method = getattr(obj, name, None)
            if not callable(method):
                return False
            found, wanted = inspect.signature(method), _without_self(declared)
            if found.return_annotation != wanted.return_annotation:
                return False
            if [key(p) for p in found.parameters.values()] != [key(p) for p in wanted.parameters.values()]:
                return False
        return True

    return answer


def _parameters_only(obj, protocol):  # whole parameters, but not the return annotation
    for name, declared in _methods_of(protocol).items():
        method = getattr(obj, name, None)
        if not callable(method):
            return False
        if list(inspect.signature(method).parameters.values()) != list(
            _without_self(declared).parameters.values()
        ):
            return False
    return True


def _skips_dunders_by(is_dunder):  # right but for dunders: a protocol that declares __len__ asks for it
    def answer(obj, protocol):
        declared = {}
        for klass in reversed(protocol.__mro__):
            declared.update({n: m for n, m in vars(klass).items() if not is_dunder(n) and callable(m)})
        return _same_signatures(obj, declared)

    return answer


def _conforms_on_the_class(obj, protocol):
    """The unbound functions compared, self included on both sides: right only while every self is self."""
    for name, declared in _methods_of(protocol).items():
        method = getattr(type(obj), name, None)
        if not callable(method) or inspect.signature(method) != inspect.signature(declared):
            return False
    return True


def _optional_extras(obj, protocol):  # the declared parameters as a prefix, plus any that have a default
    for name, declared in _methods_of(protocol).items():
        method = getattr(obj, name, None)
        if not callable(method):
            return False
        found, wanted = inspect.signature(method), _without_self(declared)
        if found.return_annotation != wanted.return_annotation:
            return False
        params, asked = list(found.parameters.values()), list(wanted.parameters.values())
        if params[: len(asked)] != asked:
            return False
        if any(p.default is inspect.Parameter.empty for p in params[len(asked) :]):
            return False
    return True


CONFORMS_WRONG = [
    pytest.param(
        lambda obj, protocol: callable(getattr(obj, "get_name", None)),
        "an object with get_name(self) -> str but no greet",
        id="hard-codes-get_name",
    ),
    pytest.param(  # names only: a greet of the wrong signature passes
        _runtime_checkable, "lacks loud", id="runtime-checkable-isinstance"
    ),
    pytest.param(  # the leading underscore means "internal" to people, not to a protocol
        lambda obj, protocol: _same_signatures(obj, _methods_of(protocol)),
        "and no _cache_key",
        id="skips-names-that-start-with-_",
    ),
    pytest.param(_names_only, "lacks loud", id="names-only"),
    pytest.param(_callable_only, "lacks loud", id="callable-only"),
    pytest.param(_count_only, "in another order", id="parameter-count-only"),
    pytest.param(_keeps_self, "(self aside)", id="compares-self-too"),
    pytest.param(_conforms_on_the_class, "its self named this", id="class-function-self-included"),
    pytest.param(_first_method_only, "but no greet", id="first-method-only"),
    pytest.param(_every_callable_name, "(self aside)", id="checks-dunder-methods"),
    pytest.param(_not_a_method_passes, "whose get_name is a str", id="lets-attributes-through"),
    pytest.param(lambda obj, protocol: True, "but no greet", id="always-true"),
    pytest.param(lambda obj, protocol: "yes", "expected True or False", id="not-a-bool"),
    pytest.param(_names_in_order, "by name only", id="names-in-order-only"),
    pytest.param(_own_vars_only, "more than its own class body", id="own-vars-only"),
    pytest.param(_mro_base_wins, "which of the two declarations", id="mro-base-wins"),
    pytest.param(_every_declaration, "which of the two declarations", id="every-declaration"),
    pytest.param(_bases_only, "but no get_name, checked against Host", id="direct-bases-only"),
    pytest.param(_object_own_vars, "where an object's class found the method", id="object-own-vars"),
    pytest.param(
        _compare_parameters_by(lambda p: (p.name, p.annotation)), "by name only", id="ignores-kinds"
    ),
    pytest.param(
        _compare_parameters_by(lambda p: (p.name, p.kind)), "takes loud as a str", id="ignores-types"
    ),
    pytest.param(_parameters_only, "returns an int", id="ignores-return-annotation"),
    pytest.param(  # Go's rule: position by position, names ignored
        _compare_parameters_by(lambda p: (p.kind, p.annotation, p.default)),
        "only in a parameter's name",
        id="ignores-parameter-names",
    ),
    pytest.param(
        _compare_parameters_by(lambda p: (p.name, p.kind, p.annotation)), "needs loud", id="ignores-defaults"
    ),
    pytest.param(
        _compare_parameters_by(
            lambda p: (p.name, p.kind, p.annotation, p.default is inspect.Parameter.empty)
        ),
        "loud: bool = True",
        id="whether-a-default-not-its-value",
    ),
    pytest.param(
        _skips_dunders_by(lambda n: n.startswith("__") and n.endswith("__")),
        "and no __len__",
        id="skips-only-dunders",
    ),
    pytest.param(
        _skips_dunders_by(lambda n: n.startswith("__")),
        "and no __len__",
        id="skips-only-double-underscore",
    ),
    pytest.param(
        _optional_extras,
        "Named, which declares get_name(self) -> str: you returned True",
        id="accepts-extra-optional-parameters",
    ),
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


def _by_vars(value, target, **extra):  # vars() is the instance's __dict__: a slotted dataclass has none
    names = {f.name for f in dataclasses.fields(target)}
    return target(**{**{k: v for k, v in vars(value).items() if k in names}, **extra})


def _by_own_annotations(value, target, **extra):  # a class's __annotations__ leaves out what it inherits
    names = set(target.__annotations__)
    return target(**{**{k: getattr(value, k) for k in type(value).__annotations__ if k in names}, **extra})


def _target_by_own_annotations(value, target, **extra):
    return target(**{**{k: v for k, v in _shared_all(value).items() if k in target.__annotations__}, **extra})


def _shared_all(value):
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _hasattr_on_target(value, target, **extra):  # a field without a default is no class attribute
    return target(**{**{k: v for k, v in _shared_all(value).items() if hasattr(target, k)}, **extra})


def _default_not_factory(value, target, **extra):  # raises its own TypeError, but forgets default_factory
    own, given = _shared_all(value), {}
    for f in dataclasses.fields(target):
        if f.name in extra or f.name in own:
            given[f.name] = extra.get(f.name, own.get(f.name))
        elif f.default is dataclasses.MISSING:
            raise TypeError(f.name)
    return target(**given)


def _attributes_of_the_value(value, target, **extra):  # hasattr also finds a class attribute that is no field
    own = {f.name: getattr(value, f.name) for f in dataclasses.fields(target) if hasattr(value, f.name)}
    return target(**{**own, **extra})


def _copies_init_false(value, target, **extra):  # passes a shared field(init=False) to __init__ as well
    return target(**{**_shared(value, target), **extra})


def _sets_init_false_after(value, target, **extra):  # leaves it out of __init__, then copies it over
    made = _convert_by_signature(value, target, **extra)
    for f in dataclasses.fields(target):
        if not f.init and hasattr(value, f.name):
            setattr(made, f.name, getattr(value, f.name))
    return made


def _skips_defaults(factories):
    """Copies only the target fields that have no default, as if a default meant "the target fills it in"."""

    def answer(value, target, **extra):
        names = {
            f.name
            for f in dataclasses.fields(target)
            if f.init
            and f.default is dataclasses.MISSING
            and (f.default_factory is dataclasses.MISSING or not factories)
        }
        return target(**{**{k: v for k, v in _shared_all(value).items() if k in names}, **extra})

    return answer


def _filters_extra(value, target, **extra):  # drops a misspelt name in extra without a word
    names = {f.name for f in dataclasses.fields(target) if f.init}
    return target(**{k: v for k, v in {**_shared_all(value), **extra}.items() if k in names})


def _skips_init_false_of_the_value(
    value, target, **extra
):  # init=False of the value's fields, not the target's
    names = {f.name for f in dataclasses.fields(target) if f.init}
    own = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init and f.name in names}
    return target(**{**own, **extra})


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
    pytest.param(
        lambda value, target, **extra: target(**_shared(value, target), **extra),
        "Both value and extra give name",
        id="extra-collides",
    ),
    pytest.param(_swallows, "should raise TypeError", id="swallows-the-error"),
    pytest.param(_shared_by_asdict, "neither converted nor copied", id="asdict-of-the-shared-fields"),
    pytest.param(_by_vars, "SlottedDog being a @dataclass(slots=True)", id="vars-of-the-value"),
    pytest.param(_by_own_annotations, "ShowDog being a subclass of Dog", id="own-annotations-of-the-value"),
    pytest.param(_target_by_own_annotations, "Sitter being a subclass", id="own-annotations-of-the-target"),
    pytest.param(_hasattr_on_target, "raised TypeError", id="hasattr-on-the-target-class"),
    pytest.param(_default_not_factory, "default_factory", id="default-but-not-default-factory"),
    pytest.param(
        _attributes_of_the_value, "a class attribute of Cat", id="attributes-not-fields-of-the-value"
    ),
    pytest.param(_copies_init_false, "unexpected keyword argument 'rank'", id="passes-init-false-fields"),
    pytest.param(_skips_defaults(False), "only when the value", id="skips-shared-fields-with-defaults"),
    pytest.param(_skips_defaults(True), "only when the value", id="skips-shared-fields-with-any-default"),
    pytest.param(_sets_init_false_after, "gave _Entrant(name='Rex', rank=3)", id="copies-init-false-fields"),
    pytest.param(
        _filters_extra,
        "but no colour, should raise TypeError, got _Tag(name='Tom'",
        id="drops-unknown-names-in-extra",
    ),
    pytest.param(
        _skips_init_false_of_the_value,
        "missing 1 required positional argument: 'rank'. Entrant's __init__ takes no rank, but ShowEntry's",
        id="skips-init-false-fields-of-the-value",
    ),
]


@pytest.mark.parametrize("answer, message", CONVERT_WRONG)
def test_convert_rejects(answer, message):
    assert message in exercises.verdict("02.convert", answer)


def _conforms_by_dir(obj, protocol):  # dir() and getattr() already give each name's nearest declaration
    for name in dir(protocol):
        declared = getattr(protocol, name)
        if name in dir(Protocol) or not callable(declared):  # what typing.Protocol (and object) bring
            continue
        method = getattr(obj, name, None)
        if not callable(method) or inspect.signature(method) != _without_self(declared):
            return False
    return True


def _convert_by_signature(value, target, **extra):  # the target's constructor says which names it takes
    names = inspect.signature(target).parameters
    return target(**{**{k: v for k, v in _shared_all(value).items() if k in names}, **extra})


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("02.conforms", _conforms_by_dir),
        ("02.convert", _convert_by_signature),
    ],
)
def test_other_right_answers_pass(exercise_id, answer):
    """The checks test behaviour, not one way to write it."""
    assert exercises.verdict(exercise_id, answer) is None


@pytest.mark.parametrize("answer", [param.values[0] for param in CONFORMS_WRONG])
def test_conforms_messages_name_no_tool(answer):
    """A message describes the case that failed, never the reflection call that would pass it."""
    message = exercises.verdict("02.conforms", answer)
    for tool in ("mro", "vars(", "dir(", "getattr", "inspect", "signature(", "Parameter", "kind"):
        assert tool not in message, (tool, message)
