"""Chapter 4, "Encoding and decoding JSON": the book's Petstore/Pet models, tagged, and their msgspec twins.

``Pet``/``Petstore`` carry the book's first tags (``json:"name"``...); ``TidyPet``/``TidyPetstore`` add
``omitempty`` as the book's decoding example does. ``FastPet``/``FastPetstore`` are the library version.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from foundations.encoding import tag


@dataclass
class Pet:
    name: str = tag("name")
    breed: str = tag("breed", default="")


@dataclass
class Petstore:
    name: str = tag("name")
    location: str = tag("location")
    dogs: list[Pet] | None = tag("dogs", default=None)  # None is Go's nil slice: it encodes as null
    cats: list[Pet] | None = tag("cats", default=None)


@dataclass
class TidyPet:
    name: str = tag("name")
    breed: str = tag("breed,omitempty", default="")


@dataclass
class TidyPetstore:
    name: str = tag("name")
    location: str = tag("location")
    dogs: list[TidyPet] | None = tag("dogs,omitempty", default=None)
    cats: list[TidyPet] | None = tag("cats,omitempty", default=None)


class FastPet(msgspec.Struct, omit_defaults=True):
    """msgspec leaves out fields equal to their *default*: the default must be the empty value."""

    name: str
    breed: str = ""


class FastPetstore(msgspec.Struct, omit_defaults=True):
    name: str
    location: str
    dogs: list[FastPet] | None = None
    cats: list[FastPet] | None = None


def book_petstores() -> list[Petstore]:
    """The book's ``petstorelist``: Fuzzy's with two dogs, one without a breed, and no cats."""
    store = Petstore(name="Fuzzy's", location="New York, 5th and Broadway")
    store.dogs = [Pet(name="Whiskers", breed="Pomeranian"), Pet(name="Trinity")]
    return [store]


def many_stores(n: int) -> list[TidyPetstore]:
    """``n`` pet stores for benchmarks, varied so that omitempty has work to do."""
    breeds = ["Pomeranian", "", "Beagle", "Poodle"]
    return [
        TidyPetstore(
            name=f"Store {i}",
            location=f"Street {i % 97}",
            dogs=[TidyPet(f"Dog {i}-{j}", breeds[(i + j) % 4]) for j in range(i % 4)] or None,
            cats=[TidyPet(f"Cat {i}", breeds[i % 4])] if i % 3 == 0 else None,
        )
        for i in range(n)
    ]


def to_fast(stores: list[TidyPetstore]) -> list[FastPetstore]:
    """The same stores as msgspec Structs, so both encoders get identical data."""

    def pets(items: list[TidyPet] | None) -> list[FastPet] | None:
        return None if items is None else [FastPet(p.name, p.breed) for p in items]

    return [FastPetstore(s.name, s.location, pets(s.dogs), pets(s.cats)) for s in stores]
