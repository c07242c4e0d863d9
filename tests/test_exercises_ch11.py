"""Chapter 11's exercise checks reject plausible wrong answers, each with a message that helps."""

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from foundations.course import exercises


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda v: 3.0, "give 2.5, not 3.0"),
        (
            lambda v: v["registry.getAll.get"] // v["registry.getAll"] if v["registry.getAll"] else 0,
            "do not round",
        ),
        (
            lambda v: round(v["registry.getAll.get"] / v["registry.getAll"]) if v["registry.getAll"] else 0,
            "do not round",
        ),
        (
            lambda v: v["registry.getAll"] / v["registry.getAll.get"] if v["registry.getAll"] else 0,
            "keys divided by calls",
        ),
        (lambda v: v["registry.getAll.get"] / v["registry.getAll"], "do not divide by zero"),
        (
            lambda v: v["registry.getAll.get"] / v["registry.getAll"] if v["registry.getAll"] else None,
            "return 0",
        ),
    ],
)
def test_keys_per_get_all_rejects(answer, message):
    assert message in exercises.verdict("11.keys_per_get_all", answer)


def every_sample(text):
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples)


def every_registry_family(text):
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("foundations_registry")
        for s in family.samples
    )


def counts_lines(text):
    return sum(1 for line in text.splitlines() if line.startswith("foundations_registry_calls_total"))


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda text: 1101, "add up to"),
        (every_sample, "count only the foundations_registry_calls_total samples"),
        (every_registry_family, "counts keys, not calls"),
        (counts_lines, "do not count the lines"),
        (lambda text: float(re.search(r'operation="get"\} (\S+)', text).group(1)), "count only"),
    ],
)
def test_registry_total_rejects(answer, message):
    assert message in exercises.verdict("11.registry_total", answer)
