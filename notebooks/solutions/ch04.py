"""Solutions to the exercises of notebook 04. The test suite runs each through its check."""

import dataclasses
import numbers
from dataclasses import dataclass

from foundations import encoding, pets
from foundations.encoding import tag


def owner():
    @dataclass
    class Owner:
        first_name: str = tag("firstName")
        last_name: str = tag("lastName")
        email: str = tag("email,omitempty")
        password: str = tag("-")

    return Owner


def omit():
    def omit(value):
        if value is None:
            return True
        if dataclasses.is_dataclass(value):
            return False  # a Go struct is never empty, whatever len() says
        if isinstance(value, numbers.Number):
            return value == 0  # False == 0 too, and Decimal(0), Fraction(0)
        if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
            return len(value) == 0
        return False

    return omit


def to_json_data():
    def parse(spec):
        """(key or None, omitempty, skip) from a raw Go tag string, as encoding/json's parseTag reads it."""
        if spec == "-":
            return None, False, True
        name, *options = spec.split(",")
        return name or None, "omitempty" in options, False

    def to_json_data(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out = {}
            for f in dataclasses.fields(value):
                key, omitempty, skip = parse(f.metadata.get("json", ""))  # no tag: an empty one
                if skip or f.name.startswith("_"):
                    continue
                item = getattr(value, f.name)
                if omitempty and encoding.is_empty(item):  # a dataclass is never empty
                    continue
                out[key or f.name] = to_json_data(item)  # ",omitempty" has no name: the field's own
            return out
        if isinstance(value, list):
            return [to_json_data(item) for item in value]
        return value

    return to_json_data


def no_breed():
    def no_breed(text):
        stores = encoding.decode(text, list[pets.TidyPetstore], unknown="error")  # a field we did not ask for
        return [dog.name for store in stores for dog in store.dogs or [] if not dog.breed]

    return no_breed


SOLUTIONS = {"04.owner": owner, "04.omit": omit, "04.to_json_data": to_json_data, "04.no_breed": no_breed}
