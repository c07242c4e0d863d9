"""Solutions to the exercises of notebook 04. The test suite runs each through its check."""

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
        if isinstance(value, (bool, int, float)):
            return value == 0  # False == 0 too
        if isinstance(value, (str, list, tuple, dict)):
            return len(value) == 0
        return False  # a dataclass (a Go struct) is never empty

    return omit


def no_breed():
    def no_breed(text):
        stores = encoding.decode(text, list[pets.TidyPetstore])
        return [dog.name for store in stores for dog in store.dogs or [] if not dog.breed]

    return no_breed


SOLUTIONS = {"04.owner": owner, "04.omit": omit, "04.no_breed": no_breed}
