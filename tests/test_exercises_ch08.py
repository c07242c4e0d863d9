"""Chapter 8's exercise checks reject plausible wrong answers, each with a message that helps."""

import math
import os
from dataclasses import dataclass, field

import pytest

from foundations.course import exercises


@dataclass
class AsText:  # the right columns, the wrong type
    name: str = field(metadata={"db": "Variable_name"})
    value: str = field(metadata={"db": "Value"})


@dataclass
class Untagged:  # field names that are not the column names
    name: str
    value: int


@dataclass
class Swapped:
    name: str = field(metadata={"db": "Value"})
    value: int = field(metadata={"db": "Variable_name"})


@dataclass
class Hardcoded:
    name: str = field(default="max_connections", metadata={"db": "Variable_name"})
    value: int = field(default=151, metadata={"db": "Value"})

    def __post_init__(self):
        self.value = 151


@pytest.mark.parametrize(
    "answer, message",
    [
        (AsText, "should be an int read from the Value column"),
        (AsText(name="max_connections", value="151"), "not an instance"),
        (Untagged, "does not fit the columns"),
        (Swapped, "raised ValueError"),
        (Hardcoded, "do not give the field a fixed value"),
    ],
)
def test_setting_rejects(answer, message):
    assert message in exercises.verdict("08.setting", answer)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda rate, ms: math.ceil(rate / 50), "at most"),  # written for the chart's 20 ms
        (lambda rate, ms: 3 * os.cpu_count(), "connections_needed("),  # the book's rule for computing queries
        (lambda rate, ms: round(rate * ms / 1000), "can finish, fewer than"),
        (lambda rate, ms: int(rate * ms / 1000), "can finish, fewer than"),
        (lambda rate, ms: math.ceil(rate * ms), "would already keep up"),  # ms taken for seconds
        (lambda rate, ms: rate * ms / 1000, "a whole number of connections"),
        (lambda rate, ms: math.ceil(rate * ms / 1000) + 1, "would already keep up"),  # "headroom"
        (lambda rate, ms: {(180, 20): 4}.get((rate, ms), 1), "can finish, fewer than"),  # the text's example
        (lambda rate, ms: max(1, math.ceil(rate * 20 / 1000)), "connections_needed("),  # ignores query_ms
    ],
    ids=["per-20ms", "cpus", "round", "floor", "ms-as-s", "float", "headroom", "example", "fixed-ms"],
)
def test_connections_needed_rejects(answer, message):
    verdict = exercises.verdict("08.connections_needed", answer)
    assert verdict is not None and message in verdict, verdict
