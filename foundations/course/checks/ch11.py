"""Checks for the exercises of notebook 11 (running your API in production: configuration, counters across worker processes).
The worker processes the counters' check starts are in ``ch11_workers``."""

import random
import tempfile
from pathlib import Path
from typing import Any

from foundations.course.checks.ch11_workers import COUNTS, KILLED_COUNTS, WORKERS, kill_mid_load, run_workers
from foundations.course.exercises import Wrong, exercise, expect

# Every one is refused in every run. 0x50: Go's flag parses with base 0 and reads it as 80; 8_0, +80 and ٨٠
# (Arabic-Indic digits): Python's int() reads each as 80; -80: int() reads it, and no setting is negative. The exercise
# asks for none of these, and the server refuses them all (it ignores spaces around the digits, as the exercise does).
BAD_NUMBERS = ("eighty", "8.5", "80a", "0x50", "8_0", "+80", "٨٠", "-80", "8 0")
PREFIX = "FOUNDATIONS_"  # the server's variables: FOUNDATIONS_ and the setting's name in capitals
BAD_BOOLS = ("maybe", "yes please", "2", "nope", "t", "F")  # t and F: Go's strconv.ParseBool takes them
SPELLINGS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "tRuE": True,  # any case, not only Go's three spellings
    "fAlSe": False,
    "1": True,
    "false": False,
    "False": False,
    "FALSE": False,
    "0": False,
}


@exercise("11.resolve")
def resolve(answer):
    expect(callable(answer), "expected a function resolve(name, kind, default, flags, environ, file)")
    # fresh every time, so no answer can be written for one value
    port, other, default = random.sample([n for n in range(1024, 9999) if n not in (8080, 9000)], 3)

    def case(situation, name, kind, default, flags, environ, file, want):
        try:
            got = answer(name, kind, default, flags, environ, file)
        except ValueError as error:
            raise Wrong(f"{situation}: raised ValueError: {error}") from None
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"{situation}: expected a tuple (value, source), got {got!r}",
        )
        expect(got == want and type(got[0]) is type(want[0]), f"{situation}: got {got!r}")

    def refused(situation, name, kind, flags, environ, file, where, value: str | tuple[str, ...], elsewhere):
        try:
            got = answer(name, kind, "unused", flags, environ, file)
        except ValueError as error:
            message = str(error)
        else:
            expect(False, f"{situation}: expected a ValueError, got {got!r}")
        spellings = (value,) if isinstance(value, str) else value  # a TOML true may be echoed as True or true
        expect(
            where in message
            and any(spelling in message for spelling in spellings)
            and not any(other in message for other in elsewhere),
            f"{situation}: the error says {message!r}; could an operator tell from it which value to fix, "
            "and where they typed it?",
        )

    env = {"FOUNDATIONS_PORT": str(other), "PORT": "80", "HOME": "/root"}
    url = f"redis://127.0.0.1:{port}/0"
    # text comes back as it was typed, as the server's str settings do: a token, or a password in a URL, is
    # case-sensitive, and its spaces are its own
    token, secret_url = f" Tok{other} X{port} ", f"redis://:Pw{port}X@127.0.0.1:{other}/0"
    kept = "(a token: its capitals and spaces are part of it)"
    # fmt: off
    cases: list[tuple[Any, ...]] = [  # (situation, name, kind, default, flags, environ, file, (value, source))
        ("--port, FOUNDATIONS_PORT and a file", "port", int, 8080, {"port": str(port)}, env, {"port": 9000},
         (port, "flag")),
        ("FOUNDATIONS_PORT and a file", "port", int, 8080, {}, env, {"port": 9000}, (other, "env")),
        ("an unprefixed PORT and a file", "port", int, 8080, {}, {"PORT": "80"}, {"port": port},
         (port, "file")),
        # a default is returned as given, whatever the setting and its kind
        ("only an unprefixed PORT", "port", int, default, {}, {"PORT": "80"}, {}, (default, "default")),
        *[(f"access_log (default {flag}), a flag for another setting", "access_log", bool, flag,
           {"port": str(port)}, {}, {}, (flag, "default")) for flag in random.sample([True, False], 2)],
        (f"debug_token (default 'token-{other}'), nothing set for it", "debug_token", str, f"token-{other}",
         {}, env, {}, (f"token-{other}", "default")),
        ("redis_url, with a flag for another setting and FOUNDATIONS_REDIS_URL set", "redis_url", str,
         "redis://127.0.0.1:6379/0", {"port": "81"}, {"FOUNDATIONS_REDIS_URL": url},
         {"redis_url": "redis://file/0"}, (url, "env")),
        (f"FOUNDATIONS_DEBUG_TOKEN={token!r} {kept} and a file", "debug_token", str, "", {},
         {"FOUNDATIONS_DEBUG_TOKEN": token}, {"debug_token": "from-file"}, (token, "env")),
        (f"a file with debug_token = {token!r} {kept}", "debug_token", str, "", {}, {}, {"debug_token": token},
         (token, "file")),
        (f"--redis-url={secret_url} (a password with capitals in it)", "redis_url", str, url,
         {"redis_url": secret_url}, env, {}, (secret_url, "flag")),
        ("a str setting whose text looks like a number", "debug_token", str, "", {},
         {"FOUNDATIONS_DEBUG_TOKEN": str(port)}, {}, (str(port), "env")),
        ("a str setting whose text looks like a bool", "debug_token", str, "", {"debug_token": "true"}, {},
         {}, ("true", "flag")),
        ("access_log (default true), and the file says access_log = false", "access_log", bool, True, {}, {},
         {"access_log": False}, (False, "file")),
        ("FOUNDATIONS_WORKERS=010", "workers", int, 1, {}, {"FOUNDATIONS_WORKERS": "010"}, {}, (10, "env")),
        (f"--port=' {port} ' (spaces around it)", "port", int, 8080, {"port": f" {port} "}, {}, {},
         (port, "flag")),
        (f"a file with debug_token = {port} (a TOML integer)", "debug_token", str, "", {}, {},
         {"debug_token": port}, (str(port), "file")),
        ("--workers=0 and FOUNDATIONS_WORKERS", "workers", int, 1, {"workers": "0"},
         {"FOUNDATIONS_WORKERS": "4"}, {}, (0, "flag")),
    ]
    for text, value in random.sample(sorted(SPELLINGS.items()), len(SPELLINGS)):
        cases += [
            (f"FOUNDATIONS_ACCESS_LOG={text}", "access_log", bool, not value, {},
             {"FOUNDATIONS_ACCESS_LOG": text}, {}, (value, "env")),
            (f"--access-log={text}", "access_log", bool, not value, {"access_log": text}, {}, {},
             (value, "flag")),
        ]
    cases.append(("FOUNDATIONS_DEBUG_TOKEN= (empty) and a file", "debug_token", str, "x", {},
                  {"FOUNDATIONS_DEBUG_TOKEN": ""}, {"debug_token": "from-file"}, ("", "env")))
    cases.append(("--debug-token= (empty) and FOUNDATIONS_DEBUG_TOKEN", "debug_token", str, "x",
                  {"debug_token": ""}, {"FOUNDATIONS_DEBUG_TOKEN": "from-env"}, {}, ("", "flag")))
    refusals: list[tuple[Any, ...]] = [  # (situation, name, kind, flags, environ, file, where, value, places it must not name)
        ("FOUNDATIONS_PORT= (empty) and a file", "port", int, {}, {"FOUNDATIONS_PORT": ""}, {"port": 9000},
         "FOUNDATIONS_PORT", "", ["--port"]),
        ("--port= (empty) and FOUNDATIONS_PORT", "port", int, {"port": ""}, {"FOUNDATIONS_PORT": "80"}, {},
         "--port", "", ["FOUNDATIONS_PORT"]),
        # an empty bool is neither true (namsral's rule for a bare flag) nor false
        ("--access-log= (empty)", "access_log", bool, {"access_log": ""}, {}, {}, "--access-log", "",
         ["FOUNDATIONS_ACCESS_LOG"]),
        ("FOUNDATIONS_ACCESS_LOG= (empty)", "access_log", bool, {}, {"FOUNDATIONS_ACCESS_LOG": ""}, {},
         "FOUNDATIONS_ACCESS_LOG", "", ["--access-log"]),
        ('a file with port = "" (empty)', "port", int, {}, {}, {"port": ""}, "file", "",
         ["--port", "FOUNDATIONS_PORT"]),
    ]
    for bad in BAD_NUMBERS:  # every one, every run: each is its own way to get a number wrong
        refusals += [
            (f"--port={bad}", "port", int, {"port": bad}, {"FOUNDATIONS_PORT": "80"}, {}, "--port", bad,
             ["FOUNDATIONS_PORT"]),
            (f"FOUNDATIONS_WORKERS={bad}", "workers", int, {}, {"FOUNDATIONS_WORKERS": bad}, {"workers": 2},
             "FOUNDATIONS_WORKERS", bad, ["--workers"]),
            (f'a file with port = "{bad}"', "port", int, {}, {"PORT": "80"}, {"port": bad}, "file", bad,
             ["--port", "FOUNDATIONS_PORT"]),
        ]
    # a file's value is read by its text, as the server reads it: true is no int (though isinstance(True, int)
    # holds in Python), and -80 has a sign
    for typed in (True, 8.5, -80):
        refusals.append((f"a file with port = {str(typed).lower()}", "port", int, {}, {}, {"port": typed},
                         "file", (str(typed), str(typed).lower()), ["--port", "FOUNDATIONS_PORT"]))
    for maybe in BAD_BOOLS:
        refusals += [
            (f"--access-log={maybe}", "access_log", bool, {"access_log": maybe}, {}, {}, "--access-log",
             maybe, ["FOUNDATIONS_ACCESS_LOG"]),
            (f"FOUNDATIONS_ACCESS_LOG={maybe}", "access_log", bool, {}, {"FOUNDATIONS_ACCESS_LOG": maybe}, {},
             "FOUNDATIONS_ACCESS_LOG", maybe, ["--access-log"]),
            (f'a file with access_log = "{maybe}"', "access_log", bool, {}, {}, {"access_log": maybe}, "file",
             maybe, ["--access-log", "FOUNDATIONS_ACCESS_LOG"]),
        ]
    cases.append(("a file with access_log = 1 (a TOML integer)", "access_log", bool, False, {}, {},
                  {"access_log": 1}, (True, "file")))
    for number in (2, -1):  # bool() calls both true; the exercise takes 1 and 0 only, and the server refuses both
        refusals.append((f"a file with access_log = {number} (a TOML integer)", "access_log", bool, {}, {},
                         {"access_log": number}, "file", str(number), ["--access-log", "FOUNDATIONS_ACCESS_LOG"]))
    # settings of the answer's own, named afresh each run: the name is only ever read through the rules, and
    # `kind` says the type even for a name the server has
    own, flag = f"retries_{random.randint(2, 99)}", f"trace_{random.randint(2, 99)}"
    own_variable, own_flag = PREFIX + own.upper(), "--" + own.replace("_", "-")
    cases += [
        (f"{own}, a setting of its own, with {own_variable} and a file", own, int, 3, {},
         {own_variable: str(other)}, {own: 9}, (other, "env")),
        (f"{flag}, a setting of its own: --{flag.replace('_', '-')}=TRUE", flag, bool, False, {flag: "TRUE"},
         {}, {}, (True, "flag")),
        (f"port, asked for as a str: --port={port}", "port", str, "8080", {"port": str(port)}, env, {},
         (str(port), "flag")),
        ("access_log, asked for as a str: FOUNDATIONS_ACCESS_LOG=yes", "access_log", str, "", {},
         {"FOUNDATIONS_ACCESS_LOG": "yes"}, {}, ("yes", "env")),
    ]
    refusals += [
        (f"{own_flag}=eighty, a setting of its own", own, int, {own: "eighty"}, {own_variable: "80"}, {},
         own_flag, "eighty", [own_variable]),
        ("debug_token, asked for as an int: FOUNDATIONS_DEBUG_TOKEN=abc", "debug_token", int, {},
         {"FOUNDATIONS_DEBUG_TOKEN": "abc"}, {}, "FOUNDATIONS_DEBUG_TOKEN", "abc", ["--debug-token"]),
    ]
    # fmt: on
    for one in cases:
        case(*one)
    for refusal in refusals:
        refused(*refusal)


# a counter's name is whatever the caller passes: the check's are drawn afresh each run, from these words
WORDS = ("reads", "writes", "errors", "retries", "timeouts", "evictions", "logins", "uploads", "renders")


def _counts_apart(answer, names: list[str]) -> None:
    """In one process, two names counted (the first twice): no count under another name, and no other names
    in their place. A ``totals()`` without any (counts not saved yet, say) is left to the checks after."""
    first, second = names
    with tempfile.TemporaryDirectory(prefix="foundations-ch11-") as tmp:
        counters = answer(Path(tmp))
        try:
            for name in (first, second, first):
                counters.count(name)
            totals = counters.totals()
        except Exception as exc:  # noqa: BLE001 - the learner's code: said with what it was asked to do
            said = f"{type(exc).__name__}: {exc}"
            if any(name in said for name in names):  # it could not take a name: say that any name goes
                said += ". A counter's name is whatever count() is given (the check picks new names each run)"
            raise Wrong(
                f"in one process, count({first!r}) twice and count({second!r}) once, then totals(): it raised {said}"
            ) from None
    expect(isinstance(totals, dict), f"totals() should return a dict {{name: count}}, got {totals!r}")
    others = {name: count for name, count in totals.items() if name not in names}
    expect(
        not any(others.values()) and not (others and totals.keys().isdisjoint(names)),
        f"in one process, count({first!r}) twice and count({second!r}) once, then totals(), gave {totals}: "
        "every name counts apart, whatever the name (the check picks new names each run)",
    )


@exercise("11.worker_counters")
def worker_counters(answer):
    expect(callable(answer), "expected a class WorkerCounters(folder) with count(name) and totals()")
    counted, other = names = [f"{word}_{random.randint(10, 99)}" for word in random.sample(WORDS, 2)]
    _counts_apart(answer, names)
    with tempfile.TemporaryDirectory(prefix="foundations-ch11-") as tmp:
        folder = Path(tmp)
        reader, seen = answer(folder), [0]
        last = random.choice(KILLED_COUNTS)
        total = (WORKERS - 1) * COUNTS + last

        def scrape():
            try:
                now = reader.totals().get(counted, 0)
            except Exception as exc:  # noqa: BLE001 - the learner's reader failed mid-load
                raise Wrong(
                    f"a scrape while the workers were counting failed: {type(exc).__name__}: {exc}. A reader "
                    "may open a worker's file at any moment, even while that worker is writing it, and a "
                    "worker may be killed in the middle of a write: a file must never be seen, or left, "
                    "half-written"
                ) from None
            expect(
                seen[-1] <= now <= total,
                f"scrapes while the workers were counting saw {counted!r} at {seen[-1]}, then {now}: a counter "
                f"only climbs, and {WORKERS} workers counting {total} in all never pass it",
            )
            seen.append(now)

        problems = run_workers(answer, folder, [counted] * WORKERS, scrape, last)
        expect(not problems, f"{''.join(problems)}: try it in one process first, then from several threads")
        totals = answer(folder).totals()
        expect(isinstance(totals, dict), f"totals() should return a dict {{name: count}}, got {totals!r}")
        got = totals.get(counted, 0)
        expect(
            got == total,
            f"{WORKERS} worker processes counted {counted!r} {total} times in all and have exited (one killed "
            f"after its last count, as a crashed worker is); a new "
            f"WorkerCounters on the same folder says {got}, not {total}"
            + (
                ": counts were lost on the way (two workers, or two threads of one, that read the same value "
                "and write it back +1 count once)"
                if 0 < got < total
                else ""
            ),
        )
        early = reader.totals().get(counted, 0)
        expect(
            early == total,
            f"the reader made before the workers started says {early} once they are done, not {total}: "
            "it reads only the workers' files that were there when it was made. Look for new ones at every scrape",
        )
        extra = random.randint(3, 9)
        busy = answer(folder)
        for _ in range(extra):
            busy.count(other)
        totals = busy.totals()
        expect(
            totals.get(other) == extra and totals.get(counted) == total,
            f"after another {extra} counts of {other!r} in this process, its totals() gave {totals!r}: every "
            "name counts apart, and what the exited workers counted stays",
        )
        fresh = answer(folder).totals()
        expect(
            fresh.get(other, 0) >= extra,
            f"another WorkerCounters made in this process after those {extra} counts says {fresh!r}: making "
            "it lost what the first one counted. A constructor must not wipe counts that are already saved",
        )
        expect(
            busy.totals() == fresh,
            "the worker that counted and a fresh reader disagree: either one may answer a scrape",
        )
        # a second instance that counts under this pid, as a new worker that gets an exited worker's pid does
        later = answer(folder)
        later.count(other)
        totals = later.totals()
        expect(
            totals.get(other) == extra + 1 and totals.get(counted) == total,
            f"another WorkerCounters made in this process after those {extra} counts of {other!r} counted it "
            f"once more, and totals() gave {totals!r}, not {extra + 1} {other!r}: its count replaced what was "
            "saved before it. A new worker may get the pid of one that exited, whose counts must stay",
        )
    kill_mid_load(answer, counted)


# the appendix's exercise, registered after the two above (the board's columns follow the notebooks)
from foundations.course.checks import ch11_appendix  # noqa: E402, F401
