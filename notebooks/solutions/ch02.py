"""Solutions to the exercises of notebook 02. The test suite runs each through its check."""

import dataclasses
import inspect


def conforms():
    def conforms(obj, protocol):
        for name, declared in vars(protocol).items():
            if name.startswith("_") or not callable(declared):
                continue
            method = getattr(obj, name, None)
            if not callable(method):
                return False
            wanted = list(inspect.signature(declared).parameters)[1:]  # self aside
            if list(inspect.signature(method).parameters) != wanted:  # a bound method has no self
                return False
        return True

    return conforms


def convert():
    def convert(value, target, **extra):
        target_names = {f.name for f in dataclasses.fields(target)}
        shared = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name in target_names}
        return target(**{**shared, **extra})  # the dataclass's own TypeError names a missing field

    return convert


SOLUTIONS = {"02.conforms": conforms, "02.convert": convert}
