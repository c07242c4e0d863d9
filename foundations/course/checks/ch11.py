"""Checks for the exercises of notebook 11 (running your API in production)."""

import random

from foundations import metrics
from foundations.course.exercises import exercise, expect


def _average(answer, variables):
    try:
        return answer(variables)
    except ZeroDivisionError:
        expect(False, "with no getAll calls yet there is no average: return 0, do not divide by zero")


@exercise("11.keys_per_get_all")
def keys_per_get_all(answer):
    expect(callable(answer), "expected a function that takes the /debug/vars dict")
    book = {
        "registry.del": 0,
        "registry.get": 5,
        "registry.getAll": 18,
        "registry.getAll.get": 54,
        "registry.set": 2,
    }
    calls = random.randint(3, 9) * 2  # an even number of calls ...
    fresh = {**book, "registry.getAll": calls, "registry.getAll.get": calls * 5 // 2}  # ... 2.5 keys each
    for variables, want in ((book, 3.0), (fresh, 2.5)):
        got = _average(answer, variables)
        expect(isinstance(got, (int, float)), f"expected a number, got {type(got).__name__}")
        keys, gets = variables["registry.getAll.get"], variables["registry.getAll"]
        hint = (
            ": keys divided by calls, not the other way"
            if got and abs(1 / got - want) < 1e-9
            else ": divide with /, and do not round"
            if got == int(want)
            else ""
        )
        expect(
            abs(got - want) < 1e-9,
            f"{keys} keys fetched over {gets} getAll calls give {want}, not {got}{hint}",
        )
    empty = _average(answer, {**book, "registry.getAll": 0, "registry.getAll.get": 0})
    expect(
        empty == 0 and empty is not None,
        f"with no getAll calls yet there is no average: return 0, got {empty!r}",
    )


@exercise("11.registry_total")
def registry_total(answer):
    expect(callable(answer), "expected a function that takes the /metrics text")
    m = metrics.Metrics("")
    # fresh every time, and each above the number of lines, so one sample is never mistaken for a line count
    amounts = {name: random.randint(10, 60) for name in metrics.REGISTRY_COUNTERS}
    for name, amount in amounts.items():
        m.count(name, amount)
    m.count_request()
    text = metrics.prometheus_text(m)[0].decode()
    got = answer(text)
    want = sum(amount for name, amount in amounts.items() if name != "registry.getAll.get")
    expect(isinstance(got, (int, float)), f"expected a number, got {type(got).__name__}")
    hint = (
        "; foundations_registry_keys_fetched_total counts keys, not calls: leave it out"
        if got == want + amounts["registry.getAll.get"]
        else "; add the sample values, do not count the lines"
        if got == len(amounts) - 1
        else "; count only the foundations_registry_calls_total samples, every operation label"
    )
    expect(got == want, f"the registry calls in that text add up to {want}, not {got}{hint}")
