"""Chapter 11's exercise checks reject the half-solutions a learner is likely to write, each with a message
that names the situation it fails, not the answer."""

import atexit
import json
import os
from pathlib import Path

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


def empty_is_unset(name, default, flags, environ, file):  # `FOUNDATIONS_PORT=` falls through to the file
    if flags.get(name) is not None:
        return flags[name], "flag"
    if environ.get("FOUNDATIONS_" + name.upper()):
        return environ["FOUNDATIONS_" + name.upper()], "env"
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
        (empty_is_unset, "FOUNDATIONS_PORT= (empty) and a file"),
    ],
    ids=[
        "or-chain",
        "unprefixed",
        "file-first",
        "no-flags",
        "only-port",
        "lower-case",
        "value-only",
        "empty",
    ],
)
def test_resolve_rejects(answer, message):
    verdict = exercises.verdict("11.resolve", answer)
    assert verdict is not None and message in verdict, verdict


class InMemory:  # each process counts in its own memory: the parent sees none of it
    def __init__(self, folder):
        self.counts = {}

    def count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1

    def totals(self):
        return dict(self.counts)


class SavedAtExit(InMemory):  # a worker that is stopped or killed never gets to save
    def __init__(self, folder):
        super().__init__(folder)
        self.path = Path(folder) / f"{os.getpid()}.json"
        atexit.register(lambda: self.path.parent.exists() and self.path.write_text(json.dumps(self.counts)))

    def totals(self):
        return sum_files(Path(self.path).parent.glob("*.json"))


class SavedOnDel(SavedAtExit):  # saves when the object goes away: a killed worker never gets there
    def __init__(self, folder):
        InMemory.__init__(self, folder)
        self.path = Path(folder) / f"{os.getpid()}.json"

    def __del__(self):
        if self.path.parent.exists():
            self.path.write_text(json.dumps(self.counts))


def sum_files(paths):
    total = {}
    for path in paths:
        for name, value in json.loads(path.read_text()).items():
            total[name] = total.get(name, 0) + value
    return total


class OneSharedFile:  # every process reads, adds one and writes back the same file, no lock
    def __init__(self, folder):
        self.path = Path(folder) / "counts.json"

    def count(self, name):
        counts = json.loads(self.path.read_text()) if self.path.exists() else {}
        counts[name] = counts.get(name, 0) + 1
        partial = self.path.with_suffix(f".{os.getpid()}")
        partial.write_text(json.dumps(counts))
        os.replace(partial, self.path)

    def totals(self):
        return json.loads(self.path.read_text())


class FilePerWorker:  # the right shape: one file per process, read back and added up
    def __init__(self, folder):
        self.folder = Path(folder)
        self.counts = {}

    def count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1
        (self.folder / f"{os.getpid()}.json").write_text(json.dumps(self.counts))

    def totals(self):
        return sum_files(self.folder.glob("*.json"))


class OwnFileOnly(FilePerWorker):  # a scrape answered by one worker, for that worker alone
    def totals(self):
        path = self.folder / f"{os.getpid()}.json"
        return json.loads(path.read_text()) if path.exists() else {}


class LastFileWins(FilePerWorker):  # the files are merged, not added
    def totals(self):
        total = {}
        for path in self.folder.glob("*.json"):
            total.update(json.loads(path.read_text()))
        return total


class OneCounter(FilePerWorker):  # counts calls, whatever their name
    def count(self, name):
        super().count("hits")


@pytest.mark.parametrize(
    "answer, message",
    [
        (InMemory, "says 0, not 4000"),
        (SavedAtExit, "says 0, not 4000"),
        (SavedOnDel, "says 3000, not 4000"),
        (OneSharedFile, "counts were lost on the way"),
        (OwnFileOnly, "says 0, not 4000"),
        (LastFileWins, "says 1000, not 4000"),
        (OneCounter, "every name counts apart"),
    ],
    ids=["in-memory", "at-exit", "on-del", "shared-file", "own-file", "last-file", "one-counter"],
)
def test_worker_counters_rejects(answer, message):
    verdict = exercises.verdict("11.worker_counters", answer)
    assert verdict is not None and message in verdict, verdict
