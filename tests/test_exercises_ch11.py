"""Chapter 11's exercise checks reject the half-solutions a learner is likely to write, each with a message
that names the situation it fails, not the answer."""

import atexit
import contextlib
import hashlib
import hmac
import ipaddress
import json
import mmap
import os
import threading
import time
from pathlib import Path

import pytest

from foundations import metrics
from foundations.course import exercises
from foundations.course.checks import ch11_appendix

PREFIX = "FOUNDATIONS_"
TRUE, FALSE = ("true", "1"), ("false", "0")


def convert(kind, value, where):
    """The full answer's conversion: text (or a TOML value) into ``kind``, or a ValueError naming ``where``."""
    if kind is str:
        return str(value)  # a TOML value as its text, as the server reads it
    text = str(value).strip().lower()  # every kind: a TOML value is read by its text too (-80 has a sign)
    if kind is int and text.isascii() and text.isdigit():  # isdigit() alone takes "٨٠"
        return int(text)
    if kind is bool and text in TRUE + FALSE:
        return text in TRUE
    raise ValueError(f"{where}={value!r}: expected {kind.__name__}")


def full_answer(name, kind, default, flags, environ, file):
    if name in flags:
        return convert(kind, flags[name], "--" + name.replace("_", "-")), "flag"
    if PREFIX + name.upper() in environ:
        return convert(kind, environ[PREFIX + name.upper()], PREFIX + name.upper()), "env"
    if name in file:
        return convert(kind, file[name], f"file: {name}"), "file"
    return default, "default"


def with_rule(**changes):
    """``full_answer`` with one rule replaced: the half-solutions below change one thing each."""
    rules = {"convert": convert, "flag": lambda name: "--" + name.replace("_", "-"), "variable": str.upper}
    rules.update(changes)

    def answer(name, kind, default, flags, environ, file):
        if name in flags:
            return rules["convert"](kind, flags[name], rules["flag"](name)), "flag"
        variable = PREFIX + rules["variable"](name)
        if variable in environ:
            return rules["convert"](kind, environ[variable], variable), "env"
        if name in file:
            return rules["convert"](kind, file[name], f"file: {name}"), "file"
        return default, "default"

    return answer


def or_chain(name, kind, default, flags, environ, file):  # a falsy value (False, "") falls through
    value = flags.get(name) or environ.get(PREFIX + name.upper()) or file.get(name)
    source = "flag" if name in flags else "env" if PREFIX + name.upper() in environ else "file"
    return (convert(kind, value, name), source) if value else (default, "default")


def reads_unprefixed(
    name, kind, default, flags, environ, file
):  # PORT counts: the book's rule says it must not
    if name not in flags and PREFIX + name.upper() not in environ and name.upper() in environ:
        return convert(kind, environ[name.upper()], name.upper()), "env"
    return full_answer(name, kind, default, flags, environ, file)


def file_before_env(name, kind, default, flags, environ, file):
    if name not in flags and name in file:
        return convert(kind, file[name], f"file: {name}"), "file"
    return full_answer(name, kind, default, flags, environ, file)


def no_flags(name, kind, default, flags, environ, file):
    return full_answer(name, kind, default, {}, environ, file)


def only_port(name, kind, default, flags, environ, file):  # written for the book's example, not any setting
    return full_answer(
        name,
        kind,
        default,
        flags,
        {k.replace("PORT", name.upper()): v for k, v in environ.items() if k == "FOUNDATIONS_PORT"},
        file,
    )


def empty_is_unset(
    name, kind, default, flags, environ, file
):  # `FOUNDATIONS_PORT=` falls through to the file
    environ = {k: v for k, v in environ.items() if v != ""}
    return full_answer(name, kind, default, flags, environ, file)


def empty_flag_is_unset(
    name, kind, default, flags, environ, file
):  # `--port=` falls through to the next source
    flags = {k: v for k, v in flags.items() if v != ""}
    return full_answer(name, kind, default, flags, environ, file)


def empty_file_value_is_unset(
    name, kind, default, flags, environ, file
):  # a file's `port = ""` falls through to the default
    file = {k: v for k, v in file.items() if v != ""}
    return full_answer(name, kind, default, flags, environ, file)


def empty_bool_is(value):
    """A bool parser that reads an empty value as ``value``: namsral's bare flag is true, `not text` false."""

    def parse(kind, text, where):
        return value if kind is bool and str(text).strip() == "" else convert(kind, text, where)

    return parse


def value_only(name, kind, default, flags, environ, file):
    return full_answer(name, kind, default, flags, environ, file)[0]


def converts_flags_only(kind, value, where):  # the environment's text is returned as text
    return convert(kind, value, where) if where.startswith("--") else value


def truthy_bool(kind, value, where):  # bool("false") is True
    return bool(value) if kind is bool else convert(kind, value, where)


def true_only(kind, value, where):  # "1", "TRUE" and "maybe" all read as false, and nothing is refused
    return str(value) == "true" if kind is bool else convert(kind, value, where)


def no_refusal(kind, value, where):  # a bad bool is false instead of an error
    return str(value).lower() in TRUE if kind is bool else convert(kind, value, where)


def guesses_kind(kind, value, where):  # ignores kind: the text decides
    text = str(value)
    if text.isdigit():
        return int(text)
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    return value


def trusts_the_file(kind, value, where):  # a file value is taken as it is, whatever its type
    return value if where.startswith("file") else convert(kind, value, where)


def trusts_typed_file_values(kind, value, where):  # any TOML value of the kind passes: True is an int
    return value if isinstance(value, kind) else convert(kind, value, where)


def names_the_setting(kind, value, where):  # the error says what, not where
    return convert(kind, value, where.lstrip("-").removeprefix(PREFIX).lower().removeprefix("file: "))


def names_every_place(kind, value, where):
    name = where.lstrip("-").removeprefix(PREFIX).removeprefix("file: ").lower().replace("-", "_")
    try:
        return convert(kind, value, where)
    except ValueError:
        raise ValueError(
            f"bad value {value!r} for --{name.replace('_', '-')} or {PREFIX}{name.upper()} or the file"
        ) from None


def go_base_zero(kind, value, where):  # Go's strconv.ParseInt(s, 0, 64), the book's flag package: 0x50 is 80
    if kind is int and isinstance(value, str):
        try:
            return int(value, 0)  # Python's base 0 refuses 010, where Go reads it as 8
        except ValueError:
            raise ValueError(f"{where}={value!r}: expected int") from None
    return convert(kind, value, where)


def hex_too(kind, value, where):  # decimal, and 0x50 as 80 besides: more than the exercise asks
    if kind is int and str(value).lower().startswith("0x"):
        return int(str(value), 16)
    return convert(kind, value, where)


def blocks_the_known_tricks(
    kind, value, where
):  # refuses +, _, 0x and non-ASCII, then int(): -80 gets through
    if kind is int and isinstance(value, str):
        text = value.strip()
        if not text.isascii() or any(trick in text.lower() for trick in ("+", "_", "0x")):
            raise ValueError(f"{where}={value!r}: expected int")
        try:
            return int(text, 10)
        except ValueError:
            raise ValueError(f"{where}={value!r}: expected int") from None
    return convert(kind, value, where)


def file_bool_unchecked(kind, value, where):  # a bool setting's file value taken as it is: 1, "maybe"
    return value if kind is bool and where.startswith("file") else convert(kind, value, where)


def file_int_bool_truthy(kind, value, where):  # a file's TOML integer read with bool(): 2 and -1 are true
    if kind is bool and where.startswith("file") and isinstance(value, int):
        return bool(value)
    return convert(kind, value, where)


def file_int_bool_upper_bound_only(kind, value, where):  # refuses 2 and above, then bool(): -1 is true
    if kind is bool and where.startswith("file") and isinstance(value, int):
        if value > 1:
            raise ValueError(f"{where}={value!r}: expected bool")
        return bool(value)
    return convert(kind, value, where)


def str_kept_as_toml(kind, value, where):  # a str setting's TOML integer returned as an int
    return value if kind is str else convert(kind, value, where)


def str_lowered(kind, value, where):  # text stripped and lower-cased as a number's is: a token's case lost
    return str(value).strip().lower() if kind is str else convert(kind, value, where)


def str_stripped(kind, value, where):  # spaces around text dropped, as around a number's digits
    return str(value).strip() if kind is str else convert(kind, value, where)


def python_int(kind, value, where):  # int(text) in a try: it also takes 8_0, +80 and Arabic-Indic digits
    if kind is int and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{where}={value!r}: expected int") from None
    return convert(kind, value, where)


def toml_int_trusted(kind, value, where):  # a file's TOML integer taken as it is: port = -80 has a sign
    return value if kind is int and type(value) is int else convert(kind, value, where)


def true_as_python_prints_it(kind, value, where):  # a TOML true echoed as Python's True: fine either way
    if kind is int and isinstance(value, bool):
        raise ValueError(f"{where}: {value} is not a whole number")
    return convert(kind, value, where)


BOOK_DEFAULTS = {"port": 8080, "workers": 1, "access_log": False, "debug_token": "", "redis_url": ""}


def ignores_default(name, kind, default, flags, environ, file):  # a table of defaults, not the argument
    value, source = full_answer(name, kind, default, flags, environ, file)
    return (BOOK_DEFAULTS[name], source) if source == "default" else (value, source)


def default_for_port_only(
    name, kind, default, flags, environ, file
):  # the book's example read, the rest guessed
    value, source = full_answer(name, kind, default, flags, environ, file)
    return (kind(), source) if source == "default" and name != "port" else (value, source)


KINDS = {"port": int, "workers": int, "access_log": bool, "debug_token": str, "redis_url": str}


def kind_from_a_table(name, kind, default, flags, environ, file):  # the server's kinds, not the argument
    return full_answer(name, KINDS.get(name, kind), default, flags, environ, file)


def kind_from_a_table_only(name, kind, default, flags, environ, file):  # a setting outside it: KeyError
    return full_answer(name, KINDS[name], default, flags, environ, file)


VARIABLES = {name: name.upper() for name in KINDS}  # the server's five variables, written out: no rule


def python_error(kind, value, where):  # int()'s own message: it names the value, not where it came from
    return int(value) if kind is int else convert(kind, value, where)


@pytest.mark.parametrize(
    "answer, message",
    [
        (or_chain, "the file says access_log = false"),
        (reads_unprefixed, "an unprefixed PORT and a file"),
        (file_before_env, "FOUNDATIONS_PORT and a file"),
        (no_flags, "--port, FOUNDATIONS_PORT and a file"),
        (only_port, "debug_token (default"),
        (with_rule(variable=str), "FOUNDATIONS_PORT and a file"),
        (value_only, "expected a tuple (value, source)"),
        (empty_is_unset, "FOUNDATIONS_DEBUG_TOKEN= (empty) and a file"),
        (empty_flag_is_unset, "--debug-token= (empty) and FOUNDATIONS_DEBUG_TOKEN"),
        (empty_file_value_is_unset, 'a file with port = "" (empty)'),
        (with_rule(convert=empty_bool_is(True)), "--access-log= (empty): expected a ValueError"),
        (with_rule(convert=empty_bool_is(False)), "--access-log= (empty): expected a ValueError"),
        (with_rule(convert=converts_flags_only), "FOUNDATIONS_PORT and a file: got ("),
        (with_rule(convert=truthy_bool), "got (True, 'env')"),
        (with_rule(convert=true_only), "got (False, 'env')"),
        (with_rule(convert=no_refusal), "--access-log="),
        (with_rule(convert=guesses_kind), "a str setting whose text looks like a number"),
        (with_rule(convert=trusts_the_file), "a file with "),
        (with_rule(convert=trusts_typed_file_values), "a file with "),  # debug_token = 123, or port = true
        (with_rule(convert=names_the_setting), "could an operator tell"),
        (with_rule(convert=names_every_place), "could an operator tell"),
        (with_rule(convert=python_error), "could an operator tell"),
        (with_rule(flag=lambda name: "--" + name), "--access-log="),
        (with_rule(convert=go_base_zero), "FOUNDATIONS_WORKERS=010: raised ValueError"),
        (with_rule(convert=hex_too), "--port=0x50: expected a ValueError"),
        (with_rule(convert=python_int), "--port=8_0: expected a ValueError"),
        (with_rule(convert=blocks_the_known_tricks), "--port=-80: expected a ValueError"),
        (with_rule(convert=str_kept_as_toml), "a file with debug_token = "),
        (
            with_rule(convert=str_lowered),
            "(a token: its capitals and spaces are part of it) and a file: got (",
        ),
        (
            with_rule(convert=str_stripped),
            "(a token: its capitals and spaces are part of it) and a file: got (",
        ),
        (with_rule(convert=toml_int_trusted), "a file with port = -80: expected a ValueError"),
        (with_rule(convert=file_bool_unchecked), "a file with access_log = "),
        (with_rule(convert=file_int_bool_truthy), "a file with access_log = 2 (a TOML integer): expected a"),
        (
            with_rule(convert=file_int_bool_upper_bound_only),
            "a file with access_log = -1 (a TOML integer): expected a",
        ),
        (ignores_default, "only an unprefixed PORT: got (8080, 'default')"),
        (default_for_port_only, "access_log (default True)"),
        (kind_from_a_table, "port, asked for as a str"),
        (kind_from_a_table_only, "your answer raised KeyError"),
        (with_rule(variable=lambda name: VARIABLES.get(name, "")), "a setting of its own"),
    ],
    ids=[
        "or-chain",
        "unprefixed",
        "file-first",
        "no-flags",
        "only-port",
        "lower-case-variable",
        "value-only",
        "empty",
        "empty-flag",
        "empty-file-value",
        "empty-bool-true",
        "empty-bool-false",
        "flags-converted-env-not",
        "bool-of-text",
        "only-true-is-true",
        "bad-bool-is-false",
        "kind-guessed",
        "file-trusted",
        "typed-file-value-trusted",
        "error-names-setting",
        "error-names-every-place",
        "error-from-int",
        "flag-with-underscore",
        "go-base-zero",
        "hex-too",
        "python-int",
        "blocks-the-known-tricks",
        "str-kept-as-toml",
        "str-lowered",
        "str-stripped",
        "toml-int-trusted",
        "file-bool-unchecked",
        "file-int-bool-truthy",
        "file-int-bool-upper-bound-only",
        "ignores-default",
        "default-for-port-only",
        "kind-from-a-table",
        "kind-from-a-table-only",
        "variables-from-a-table",
    ],
)
def test_resolve_rejects(answer, message):
    for _ in range(5):  # the check draws fresh values each run: the verdict must not depend on them
        verdict = exercises.verdict("11.resolve", answer)
        assert verdict is not None and message in verdict, verdict


@pytest.mark.parametrize("answer", [full_answer, with_rule(convert=true_as_python_prints_it)])
def test_resolve_accepts_a_full_answer_every_run(answer):
    for _ in range(20):  # the check draws fresh values each run
        assert exercises.verdict("11.resolve", answer) is None


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
        return json.loads(self.path.read_text()) if self.path.exists() else {}


class FilePerWorker:  # one file per process, added up; but each instance starts from {}, not from its file
    def __init__(self, folder):
        self.folder = Path(folder)
        self.counts = {}
        self.lock = threading.Lock()

    def count(self, name):
        with self.lock:
            self.unlocked_count(name)

    def unlocked_count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1
        partial = self.folder / f"{os.getpid()}.partial"
        partial.write_text(json.dumps(self.counts))
        os.replace(partial, self.folder / f"{os.getpid()}.json")

    def totals(self):
        return sum_files(self.folder.glob("*.json"))


class SavedEvery100(
    FilePerWorker
):  # saves on every 100th count and on totals(): a killed worker loses the rest
    def __init__(self, folder):
        super().__init__(folder)
        mine = self.folder / f"{os.getpid()}.json"
        self.counts, self.unsaved = (json.loads(mine.read_text()) if mine.exists() else {}), 0

    def count(self, name):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            self.unsaved += 1
            if self.unsaved == 100:
                self.save()

    def save(self):
        self.unsaved = 0
        partial = self.folder / f"{os.getpid()}.partial"
        partial.write_text(json.dumps(self.counts))
        os.replace(partial, self.folder / f"{os.getpid()}.json")

    def totals(self):
        with self.lock:
            self.save()
        return sum_files(self.folder.glob("*.json"))


class FilesKnownAtStart(FilePerWorker):  # the worker files listed once, when the reader is made
    def __init__(self, folder):
        super().__init__(folder)
        self.known = list(self.folder.glob("*.json"))

    def totals(self):
        return sum_files(path for path in self.known if path.exists())


class NotThreadSafe(FilePerWorker):  # right for one thread; a worker's threads share its counts and file
    def count(self, name):
        self.unlocked_count(name)


class RewrittenInPlace(FilePerWorker):  # a scrape can open the file between its truncation and its write
    def count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1
        (self.folder / f"{os.getpid()}.json").write_text(json.dumps(self.counts))


class InPlaceRetry(FilePerWorker):  # rewritten in place; the reader retries a file it finds half-written
    def __init__(self, folder):
        super().__init__(folder)
        mine = self.folder / f"{os.getpid()}.json"
        self.counts = json.loads(mine.read_text()) if mine.exists() else {}

    def count(self, name):  # a worker killed between the truncation and the write leaves an empty file
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            (self.folder / f"{os.getpid()}.json").write_text(json.dumps(self.counts))

    def totals(self):
        total = {}
        for path in self.folder.glob("*.json"):
            for _ in range(1000):  # up to a second for the writer to finish; a file never finished is skipped
                with contextlib.suppress(ValueError):
                    for name, value in json.loads(path.read_text()).items():
                        total[name] = total.get(name, 0) + value
                    break
                time.sleep(0.001)
        return total


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


SLOTS = 64  # the counters a process can name


def names_in(path):
    return json.loads(path.read_text()) if path.exists() else []


class SharedMemory:  # the package's Metrics design: a memory-mapped file per process, a lock for its threads;
    # beside it, the names it has counted, in the order of their slots (written whole, then renamed into place)
    lock = threading.Lock()  # every instance in a process: two may add a name to its list at once

    def __init__(self, folder):
        self.folder = Path(folder)
        self.names = self.folder / f"worker-{os.getpid()}.names"
        fd = os.open(self.folder / f"worker-{os.getpid()}.bin", os.O_RDWR | os.O_CREAT)
        if os.fstat(fd).st_size == 0:
            os.ftruncate(fd, 8 * SLOTS)  # a new file: zeros; one already there keeps its counts
        self.cells = memoryview(mmap.mmap(fd, 8 * SLOTS)).cast("q")
        os.close(fd)

    def slot(self, name):
        """``name``'s slot; a name counted for the first time is saved before its slot is."""
        names = names_in(self.names)
        if name not in names:
            partial = self.names.with_suffix(".partial")
            partial.write_text(json.dumps([*names, name]))
            os.replace(partial, self.names)
            return len(names)
        return names.index(name)

    def count(self, name):
        with self.lock:
            self.cells[self.slot(name)] += 1

    def totals(self):
        sums = {}
        for path in self.folder.glob("worker-*.bin"):
            names = names_in(path.with_suffix(".names"))  # before the counts: every name read has its slot
            data = path.read_bytes()
            if len(data) == 8 * SLOTS:  # a file just made is not yet its full size
                for name, value in zip(names, memoryview(data).cast("q")):
                    sums[name] = sums.get(name, 0) + value
        return sums


NAMES = ("hits", "misses")  # a fixed table's names, as the package's COUNTERS: the two the check once counted


class FixedTable(SharedMemory):  # a slot for each name it knows, and no list of names: any other is refused
    def slot(self, name):
        return NAMES.index(name)

    def totals(self):
        sums = [0] * len(NAMES)
        for path in self.folder.glob("worker-*.bin"):
            data = path.read_bytes()
            if len(data) == 8 * SLOTS:
                sums = [a + b for a, b in zip(sums, memoryview(data).cast("q"))]
        return dict(zip(NAMES, sums))


class FixedSlots(FixedTable):  # the package's layout: a dict from each name it knows to its slot
    def slot(self, name):
        return {known: slot for slot, known in enumerate(NAMES)}[name]


class KnownNamesOnly(FixedTable):  # a name it does not know is not counted, and not refused either
    def count(self, name):
        if name in NAMES:
            super().count(name)


class WipedOnOpen(SharedMemory):  # "wb+" zeroes the file of this pid: another instance here loses its counts
    def __init__(self, folder):
        self.folder = Path(folder)
        self.names = self.folder / f"worker-{os.getpid()}.names"
        with open(self.folder / f"worker-{os.getpid()}.bin", "wb+") as f:
            f.write(bytes(8 * SLOTS))
            f.flush()
            self.cells = memoryview(mmap.mmap(f.fileno(), 8 * SLOTS)).cast("q")


class UnlockedMemory(SharedMemory):  # += is a read then a write: CPython 3.11 happens not to split it
    def count(self, name):
        with self.lock:  # only the name's slot is found under the lock
            slot = self.slot(name)
        self.cells[slot] += 1


# the count locked, its file written after: an older copy can land last
class WritesOutsideTheLock(FilePerWorker):
    def count(self, name):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            copy = json.dumps(self.counts)
        partial = self.folder / f"{os.getpid()}.{threading.get_ident()}.partial"
        partial.write_text(copy)
        os.replace(partial, self.folder / f"{os.getpid()}.json")


@pytest.mark.parametrize(
    "answer, message",
    [
        (InMemory, "says 0, not 40"),
        (SavedAtExit, "says 0, not 40"),
        # written at the end, in place: a scrape may meet it half-written (and its threads share a dict unlocked)
        (SavedOnDel, ("not 40", "a scrape while the workers were counting failed")),
        # lost updates: seen by a scrape going back, or by the total after
        # (its partial file is per process: two threads of one worker can also break it, as below)
        (
            OneSharedFile,
            (
                "counts were lost on the way",
                "a counter only climbs",
                "a scrape while the workers were counting failed",
                "a worker's count() failed",
            ),
        ),
        (OwnFileOnly, "says 0, not 40"),  # 3 x 1000 counts, and a prime from 1009 to 1097 by the killed one
        # one file's count, whichever is read last: a scrape may see it go back
        (LastFileWins, ("says 10", "a counter only climbs")),
        (OneCounter, "every name counts apart"),
        # the names it was written for, not the caller's: the check picks new ones each run
        (FixedTable, "then totals(): it raised ValueError: "),  # the name is not in its tuple
        (FixedSlots, "then totals(): it raised KeyError: "),
        (FixedSlots, "A counter's name is whatever count() is given"),  # the KeyError names the name
        (KnownNamesOnly, "gave {'hits': 0, 'misses': 0}: every name counts apart, whatever the name"),
        (FilesKnownAtStart, "the reader made before the workers started says 0"),
        (WipedOnOpen, "A constructor must not wipe counts that are already saved"),
        # a second instance under this pid (or a new worker on an exited one's recycled pid) starts from {}
        # and overwrites the file of the first
        (FilePerWorker, "counted it once more"),
        # threads of one worker made to take turns mid-count, as a free-threaded Python may
        (UnlockedMemory, ("counts were lost on the way", "a counter only climbs")),
        (RewrittenInPlace, "a scrape while the workers were counting failed"),
        # a scrape that retries a half-written file passes: a worker killed mid-write leaves it empty for good
        (InPlaceRetry, "killed at a random moment"),
        # an older copy of the counts can replace a newer one: a scrape sees a count go back, or the total is short
        (WritesOutsideTheLock, ("a counter only climbs", "counts were lost on the way")),
        # threads of one worker replace each other's partial file (gone, or put in place half-written), or
        # add one to the same old count (a scrape may then see a count go back)
        # a count not saved by the time count() returns: the killed worker's last counts, never a multiple of 100
        (SavedEvery100, "counts were lost on the way"),
        (
            NotThreadSafe,
            (
                "a worker's count() failed: FileNotFoundError",
                "a scrape while the workers were counting failed",
                "counts were lost on the way",
                "only climbs",
            ),
        ),
    ],
    ids=[
        "in-memory",
        "at-exit",
        "on-del",
        "shared-file",
        "own-file",
        "last-file",
        "one-counter",
        "fixed-table",
        "fixed-slots",
        "fixed-slots-any-name",
        "known-names-only",
        "files-known-at-start",
        "wiped-on-open",
        "file-per-worker",
        "unlocked-memory",
        "in-place",
        "in-place-retry",
        "writes-outside-the-lock",
        "saved-every-100-counts",
        "not-thread-safe",
    ],
)
def test_worker_counters_rejects(answer, message):
    verdict = exercises.verdict("11.worker_counters", answer)
    messages = (message,) if isinstance(message, str) else message
    assert verdict is not None and any(m in verdict for m in messages), verdict


def test_worker_counters_accepts_the_shared_memory_design():
    assert exercises.verdict("11.worker_counters", SharedMemory) is None


# 11.allowed (the appendix): who may read /debug/vars and /metrics. Each half-solution below changes one
# rule of the full answer.
PROXY = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def gate(
    *,
    loopback=lambda address: (getattr(address, "ipv4_mapped", None) or address).is_loopback,
    proxy=PROXY,
    same=lambda sent, expected: hmac.compare_digest(sent.encode(), expected.encode()),
    skip_empty=True,
    token_first=True,
    use_enabled=True,
    which=lambda tokens: tokens,
):
    def by_token(environ, tokens):
        sent = environ.get("HTTP_AUTHORIZATION", "")
        return any(same(sent, f"Bearer {t}") for t in which(tokens) if t or not skip_empty)

    def allowed(environ, enabled, tokens):
        if enabled and use_enabled:
            return True
        if token_first and by_token(environ, tokens):
            return True
        if any(header in environ for header in proxy):
            return False
        if not token_first and by_token(environ, tokens):
            return True
        try:
            address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return loopback(address)

    return allowed


def str_digest(sent, expected):  # compare_digest on str: TypeError on a header byte outside ASCII
    return hmac.compare_digest(sent, expected)


def latin1_digest(sent, expected):  # compare_digest on the header's bytes, as WSGI's latin-1 str gives them
    return hmac.compare_digest(sent.encode("latin-1"), expected.encode())


def token_only_through_proxy(environ, enabled, tokens):  # a scraper on another host, with the token: refused
    if not enabled and not any(header in environ for header in PROXY):
        environ = {name: value for name, value in environ.items() if name != "HTTP_AUTHORIZATION"}
    return gate()(environ, enabled, tokens)


def header_decides(environ, enabled, tokens):  # a sent Authorization header alone decides, even on loopback
    if not enabled and "HTTP_AUTHORIZATION" in environ:
        return gate(proxy=("HTTP_AUTHORIZATION",))(environ, enabled, tokens)
    return gate()(environ, enabled, tokens)


def loopback_first(environ, enabled, tokens):  # a loopback client without a proxy is let in before any token
    if not enabled and not any(header in environ for header in PROXY):
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(environ.get("REMOTE_ADDR", "")).is_loopback:
                return True
    return gate()(environ, enabled, tokens)


def digest(text):
    return hashlib.sha256(text.encode()).digest()


def first_token_timed(environ, enabled, tokens):  # compare_digest for the first token, == for the rotated one
    good = [t for t in tokens if t]
    sent = environ.get("HTTP_AUTHORIZATION", "")
    if good and (
        hmac.compare_digest(sent.encode(), f"Bearer {good[0]}".encode())
        or any(sent == f"Bearer {t}" for t in good[1:])
    ):
        return True
    return gate()(environ, enabled, ())


def equal_then_timed(environ, enabled, tokens):  # == on every guess; compare_digest only once one matched
    sent = environ.get("HTTP_AUTHORIZATION", "")
    for t in tokens:
        if t and sent == f"Bearer {t}":
            return hmac.compare_digest(sent.encode(), f"Bearer {t}".encode())
    return gate()(environ, enabled, ())


def both_checks(environ, enabled, tokens):  # any(==) first: compare_digest runs only once == found a match
    sent = environ.get("HTTP_AUTHORIZATION", "")
    good = [f"Bearer {t}" for t in tokens if t]
    if any(sent == t for t in good) and any(hmac.compare_digest(sent.encode(), t.encode()) for t in good):
        return True
    return gate()(environ, enabled, ())


# "the real client IP": the address in a forwarding header taken for the client's, which a client can write
def header_as_client(environ, enabled, tokens):
    for header in PROXY:
        if header in environ:
            address = environ[header].split(",")[0].strip().removeprefix("for=")
            environ = {name: value for name, value in environ.items() if name not in PROXY}
            return gate()({**environ, "REMOTE_ADDR": address}, enabled, tokens)
    return gate()(environ, enabled, tokens)


def token_taken_out(extract):
    """The token taken out of the header by ``extract``, then compared with each token: the scheme is read
    loosely."""

    def same(sent, expected):
        return hmac.compare_digest(extract(sent).encode("latin-1"), expected.removeprefix("Bearer ").encode())

    return gate(same=same)


@pytest.mark.parametrize(
    "answer, message",
    [
        (gate(loopback=lambda address: str(address) == "127.0.0.1"), "::1"),  # REMOTE_ADDR == "127.0.0.1"
        (gate(loopback=lambda address: str(address) in ("127.0.0.1", "::1")), "::ffff:127.0.0.1"),
        (gate(loopback=lambda address: True), "203.0.113"),  # anyone without a proxy header
        # 127.0.0.x only, not 127.0.0.0/8: Debian's 127.0.1.1 refused
        (
            gate(
                loopback=lambda address: (
                    str(getattr(address, "ipv4_mapped", None) or address).startswith("127.0.0.")
                    or str(address) == "::1"
                )
            ),
            "127.0.1.1",
        ),
        (header_as_client, "X-Forwarded-For: 127.0.0.1"),  # trusts the header: a client writes loopback in it
        (gate(proxy=()), "X-Forwarded-For"),  # ignores the forwarding headers
        (gate(proxy=("HTTP_X_FORWARDED_FOR",)), "Forwarded: for="),  # only nginx's usual one
        (gate(same=lambda sent, expected: sent == expected), "without calling hmac.compare_digest"),  # ==
        (first_token_timed, "without calling hmac.compare_digest"),  # the rotated token compared with ==
        # == on every guess, then compare_digest to confirm a match: a wrong guess is never timed
        (
            equal_then_timed,
            "a client through the proxy with a wrong token: your answer refused it without calling",
        ),
        (
            both_checks,
            "a client through the proxy with a wrong token: your answer refused it without calling",
        ),
        # == on SHA-256 digests: its time says nothing of the token, but only compare_digest's calls are counted
        (
            gate(same=lambda sent, expected: digest(sent) == digest(expected)),
            "without calling hmac.compare_digest",
        ),
        (
            gate(same=lambda sent, expected: sent.startswith(expected)),
            "followed by more",
        ),  # token as a prefix
        (
            gate(
                same=lambda sent, expected: len(sent) > 7 and hmac.compare_digest(sent, expected[: len(sent)])
            ),
            "only the start",
        ),
        (gate(skip_empty=False), "empty"),  # an empty configured token: "Bearer " lets everyone in
        (gate(same=str_digest), "outside ASCII"),
        (gate(token_first=False), "through the proxy with a right token"),
        (gate(use_enabled=False), "debug_endpoints on"),
        (gate(which=lambda tokens: tokens[:1]), "the other token"),  # only the first token
        (token_only_through_proxy, "a client at 203.0.113.5, no forwarding header, with a right token"),
        (header_decides, "a client at 127.0.0.1, no forwarding header, with a wrong token"),
        # the word after the first space: Basic <token> (or Token <token>) lets the token in
        (token_taken_out(lambda sent: sent.partition(" ")[2]), "under another scheme"),
        # "Bearer " removed if there: a bare <token> lets the token in
        (token_taken_out(lambda sent: sent.removeprefix("Bearer ")), "with no scheme"),
        # the one-token rule once per token ("" for no token configured): the package's rule does the work
        (
            lambda environ, enabled, tokens: any(metrics.allowed(environ, enabled, t) for t in (*tokens, "")),
            "write the rule",
        ),
    ],
)
def test_allowed_rejects(answer, message):
    verdict = exercises.verdict("11.allowed", answer)
    assert verdict is not None and message in verdict, verdict


def test_allowed_cases_agree_with_the_package_rule():
    """Every verdict the check expects is the one ``metrics.allowed`` gives (any token, or none)."""
    new, old = "new-token", "old-token"
    for situation, environ, enabled, tokens, want in ch11_appendix._cases(new, old):
        got = any(metrics.allowed(dict(environ), enabled, token) for token in (*tokens, ""))
        assert got is want, situation


@pytest.mark.parametrize(
    "answer",
    [
        gate(),
        loopback_first,
        # the digests compared in constant time: fixed length, and a digest's first bytes say nothing of a token's
        gate(same=lambda sent, expected: hmac.compare_digest(digest(sent), digest(expected))),
        # the scheme read first, strictly: another scheme or a bare token is refused before any comparison
        gate(same=lambda sent, expected: sent.startswith("Bearer ") and latin1_digest(sent, expected)),
    ],
    ids=["full-answer", "loopback-first", "digests", "scheme-first"],
)
def test_allowed_accepts_a_full_answer(answer):
    assert exercises.verdict("11.allowed", answer) is None
