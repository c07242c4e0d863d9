"""Checks for the exercises of notebook 11 (running your API in production)."""

from foundations import metrics
from foundations.course.exercises import exercise, expect


@exercise("11.keys_per_get_all")
def keys_per_get_all(answer):
    expect(callable(answer), "expected a function that takes the /debug/vars dict")
    book = {"registry.del": 0, "registry.get": 5, "registry.getAll": 18, "registry.getAll.get": 54,
            "registry.set": 2}
    got = answer(book)
    expect(isinstance(got, (int, float)), f"expected a number, got {type(got).__name__}")
    expect(abs(got - 3.0) < 1e-9, f"the book's figures (54 keys fetched over 18 getAll calls) give 3.0, not {got}")
    expect(answer({**book, "registry.getAll": 0, "registry.getAll.get": 0}) == 0,
           "with no getAll calls yet there is no average: return 0, do not divide by zero")


@exercise("11.registry_total")
def registry_total(answer):
    expect(callable(answer), "expected a function that takes the /metrics text")
    m = metrics.Metrics("")
    for name, amount in (("registry.get", 7), ("registry.set", 2), ("registry.getAll", 1),
                         ("registry.getAll.get", 3)):
        m.count(name, amount)
    text = metrics.prometheus_text(m)[0].decode()
    got = answer(text)
    expect(isinstance(got, (int, float)), f"expected a number, got {type(got).__name__}")
    expect(got == 13, f"the registry counters in that text add up to 13, not {got}; count only the "
                      "foundations_registry_calls_total samples, every operation label")
