"""Chapter 11's exercise checks reject the half-solutions a learner is likely to write, each with a message
that names the situation it fails, not the answer."""

import pytest

from foundations.course import exercises


def or_chain(name, default, flags, environ, file):  # falsy values (0, false) fall through to the next source
    value = flags.get(name) or environ.get("FOUNDATIONS_" + name.upper()) or file.get(name)
    source = "flag" if name in flags else "env" if "FOUNDATIONS_" + name.upper() in environ else "file"
    return (value, source) if value else (default, "default")


def reads_unprefixed(name, default, flags, environ, file):  # PORT counts: the book's rule says it must not
    if name in flags:
        return flags[name], "flag"
    for variable in ("FOUNDATIONS_" + name.upper(), name.upper()):
        if variable in environ:
            return environ[variable], "env"
    return (file[name], "file") if name in file else (default, "default")


def file_before_env(name, default, flags, environ, file):
    if name in flags:
        return flags[name], "flag"
    if name in file:
        return file[name], "file"
    if "FOUNDATIONS_" + name.upper() in environ:
        return environ["FOUNDATIONS_" + name.upper()], "env"
    return default, "default"


def no_flags(name, default, flags, environ, file):
    if "FOUNDATIONS_" + name.upper() in environ:
        return environ["FOUNDATIONS_" + name.upper()], "env"
    return (file[name], "file") if name in file else (default, "default")


def only_port(name, default, flags, environ, file):  # written for the book's example, not for any setting
    if name in flags:
        return flags[name], "flag"
    if "FOUNDATIONS_PORT" in environ:
        return environ["FOUNDATIONS_PORT"], "env"
    return (file[name], "file") if name in file else (default, "default")


def lower_case_variable(name, default, flags, environ, file):
    if name in flags:
        return flags[name], "flag"
    if "FOUNDATIONS_" + name in environ:
        return environ["FOUNDATIONS_" + name], "env"
    return (file[name], "file") if name in file else (default, "default")


def value_only(name, default, flags, environ, file):
    return flags.get(name, environ.get("FOUNDATIONS_" + name.upper(), file.get(name, default)))


@pytest.mark.parametrize(
    "answer, message",
    [
        (or_chain, "the file says access_log = false"),
        (reads_unprefixed, "an unprefixed PORT and a file"),
        (file_before_env, "a prefixed variable and a file"),
        (no_flags, "a flag, a variable and a file"),
        (only_port, "FOUNDATIONS_REDIS_URL set"),
        (lower_case_variable, "a prefixed variable and a file"),
        (value_only, "expected a tuple (value, source)"),
    ],
    ids=["or-chain", "unprefixed", "file-first", "no-flags", "only-port", "lower-case", "value-only"],
)
def test_resolve_rejects(answer, message):
    verdict = exercises.verdict("11.resolve", answer)
    assert verdict is not None and message in verdict, verdict


def first_worker(per_worker):  # what one scrape of one worker would see
    return dict(per_worker[0]) if per_worker else {}


def largest(per_worker):
    names = {name for counts in per_worker for name in counts}
    return {name: max(counts.get(name, 0) for counts in per_worker) for name in names}


def first_workers_counters(per_worker):  # misses a counter only a later worker has
    if not per_worker:
        return {}
    return {name: sum(counts.get(name, 0) for counts in per_worker) for name in per_worker[0]}


def every_worker_has_every_counter(per_worker):  # KeyError on a worker that has not counted yet
    if not per_worker:
        return {}
    return {name: sum(counts[name] for counts in per_worker) for name in per_worker[0]}


def adds_into_the_first(per_worker):  # right totals, but worker 1's counts are overwritten
    if not per_worker:
        return {}
    total = per_worker[0]
    for counts in per_worker[1:]:
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
    return total


def crashes_on_none(per_worker):
    total = dict(per_worker[0])
    for counts in per_worker[1:]:
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
    return total


@pytest.mark.parametrize(
    "answer, message",
    [
        (first_worker, "every counter any worker has"),
        (largest, "not what the three workers counted together"),
        (first_workers_counters, "every counter any worker has"),
        (every_worker_has_every_counter, "raised KeyError"),
        (adds_into_the_first, "the workers' dicts changed"),
        (crashes_on_none, "raised IndexError"),
    ],
    ids=["first-worker", "max", "first-workers-names", "key-error", "mutates", "no-workers"],
)
def test_add_workers_rejects(answer, message):
    verdict = exercises.verdict("11.add_workers", answer)
    assert verdict is not None and message in verdict, verdict
