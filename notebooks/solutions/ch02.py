"""Solutions to the exercises of notebook 02. The test suite runs each through its check."""

import dataclasses
from dataclasses import dataclass


def parrot():
    @dataclass
    class Parrot:
        name: str

        def get_name(self) -> str:
            return self.name

    return Parrot


def convert():
    def convert(value, target, **extra):
        target_names = {f.name for f in dataclasses.fields(target)}
        shared = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name in target_names}
        return target(**{**shared, **extra})  # the dataclass's own TypeError names a missing field

    return convert


SOLUTIONS = {"02.parrot": parrot, "02.convert": convert}
