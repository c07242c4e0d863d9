"""Checks for the exercises of notebook 11 (running your API in production)."""

import random

from foundations.course.exercises import exercise, expect


@exercise("11.resolve")
def resolve(answer):
    expect(callable(answer), "expected a function resolve(name, default, flags, environ, file)")
    port = random.randint(1024, 9999)  # fresh every time, so no answer can be written for one value

    def case(name, flags, environ, file, want, situation):
        got = answer(name, "default-value", flags, environ, file)
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"expected a tuple (value, source), got {got!r}",
        )
        expect(got == want, f"{situation}: got {got!r}")

    env = {"FOUNDATIONS_PORT": str(port), "PORT": "80", "HOME": "/root"}
    case("port", {"port": "81"}, env, {"port": 9000}, ("81", "flag"), "a flag, a variable and a file")
    case("port", {}, env, {"port": 9000}, (str(port), "env"), "a prefixed variable and a file")
    case("port", {}, {"PORT": "80"}, {"port": 9000}, (9000, "file"), "an unprefixed PORT and a file")
    case("port", {}, {"PORT": "80"}, {}, ("default-value", "default"), "only an unprefixed PORT")
    case(
        "redis_url",
        {"port": "81"},
        {"FOUNDATIONS_REDIS_URL": f"redis://127.0.0.1:{port}/0"},
        {"redis_url": "redis://file:6379/0"},
        (f"redis://127.0.0.1:{port}/0", "env"),
        "redis_url, with a flag for another setting and FOUNDATIONS_REDIS_URL set",
    )
    case(
        "access_log",
        {},
        {},
        {"access_log": False},
        (False, "file"),
        "the file says access_log = false",
    )
    case("workers", {"workers": 0}, {"FOUNDATIONS_WORKERS": "4"}, {}, (0, "flag"), "the flag --workers=0")


@exercise("11.add_workers")
def add_workers(answer):
    expect(callable(answer), "expected a function add_workers(per_worker) that takes a list of dicts")
    first = {"registry.get": random.randint(100, 500), "registry.set": random.randint(2, 9), "requests": 0}
    second = {"registry.get": random.randint(100, 500), "registry.getAll": random.randint(2, 9)}
    third = {"registry.get": first["registry.get"], "requests": random.randint(10, 99)}
    workers = [first, second, third]
    copies = [dict(counts) for counts in workers]
    got = answer(workers)
    expect(isinstance(got, dict), f"expected a dict {{counter: total}}, got {type(got).__name__}")
    expect(workers == copies, "the workers' dicts changed: add them up into a new dict")
    want: dict[str, int] = {}
    for counts in copies:
        for name, value in counts.items():
            want[name] = want.get(name, 0) + value
    expect(
        set(got) == set(want),
        f"every counter any worker has should be in the total; got the counters {sorted(got)}",
    )
    wrong = sorted(name for name in want if got[name] != want[name])
    expect(not wrong, f"these totals are not what the three workers counted together: {', '.join(wrong)}")
    expect(answer([]) == {}, f"no workers yet: expected an empty dict, got {answer([])!r}")
