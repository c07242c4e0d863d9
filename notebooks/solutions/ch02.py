"""Solutions to the exercises of notebook 02. The test suite runs each through its check."""

import dataclasses
import inspect
import typing

# what typing.Protocol puts in every protocol's body: nothing a protocol asks an object for
TYPING_ADDS = {"__init__", "__subclasshook__"}


def conforms():
    def conforms(obj, protocol):
        declared = {}
        for klass in reversed(protocol.__mro__):  # bases first, so a redeclaration overwrites what it extends
            if klass in (object, typing.Generic, typing.Protocol):
                continue
            for name, method in vars(klass).items():
                if name not in TYPING_ADDS and callable(method):
                    declared[name] = method
        for name, method in declared.items():
            found = getattr(obj, name, None)  # getattr also finds what obj's class inherits
            if not callable(found):
                return False
            wanted = inspect.signature(method)
            wanted = wanted.replace(parameters=list(wanted.parameters.values())[1:])  # self aside
            if inspect.signature(found) != wanted:  # names, kinds, annotations, defaults and the return
                return False
        return True

    return conforms


def convert():
    def convert(value, target, **extra):
        # fields() includes inherited fields; a field(init=False) is no __init__ parameter: the target sets it
        target_names = {f.name for f in dataclasses.fields(target) if f.init}
        shared = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name in target_names}
        return target(**{**shared, **extra})  # the dataclass's own TypeError names a missing field

    return convert


SOLUTIONS = {"02.conforms": conforms, "02.convert": convert}
