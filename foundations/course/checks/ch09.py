"""Checks for the exercises of notebook 09 (test-driven API development), against the live Redis."""

import contextlib
import itertools
import random
import types
import uuid
from typing import cast

import redis

from foundations import config, redisdb
from foundations.course.exercises import cleaning, exercise, expect, unreachable
from foundations.registry import Registry, glob_escape

COUNT_DB = 13  # 09.count's keys live here, apart from the notebook's database
COUNT_KEYS = 10_000  # what the check writes there, whatever the registry's random share: a fixed yardstick


def _cleanup(client, names):
    for start in range(0, len(names), 1000):
        client.delete(*names[start : start + 1000])


class _Watched(redis.Redis):
    """A client that notes the name of every command it sends, so the check sees *how* an answer counted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = []
        self.scan_counts = []  # the COUNT of each SCAN: how many keys one call may walk
        self.repeat = False  # hand one name out twice, in two SCAN pages, as Redis may
        self.head = ""  # ... a name that starts with this: the registry's, so a count must see it twice
        self._once = None  # that name, until it came back a second time

    def execute_command(self, *args, **options):
        name = str(args[0]).upper()
        self.sent.append(name)
        words = [(a.decode() if isinstance(a, bytes) else str(a)).upper() for a in args]
        if name == "SCAN" and "COUNT" in words:
            self.scan_counts.append(int(args[words.index("COUNT") + 1]))
        reply = super().execute_command(*args, **options)
        if name == "SCAN" and self.repeat:
            reply = self._repeated(reply)
        return reply

    def _repeated(self, reply):
        """SCAN's contract: a key present for the whole walk comes back at least once, maybe more often."""
        cursor, names = reply
        if self._once is None:  # held until a page brings one of the registry's names, whatever the pattern
            head = self.head.encode()
            self._once = next(
                (n for n in names if (n if isinstance(n, bytes) else n.encode()).startswith(head)), None
            )
        else:
            names, self._once, self.repeat = [*names, self._once], None, False
        return cursor, names


@exercise("09.test_get_all")
def test_get_all(answer):
    _catches(answer, BROKEN_GET_ALL)


@exercise("09.count")
def count(answer):
    expect(callable(answer), "expected a function count(registry) -> int")
    # a database the notebooks never use: a count made through any client but the registry's finds nothing
    client = _Watched.from_url(redisdb.on_database(config.load(argv=[]).redis_url, COUNT_DB))
    assert isinstance(client, _Watched)
    tag = uuid.uuid4().hex[:8]
    head = f"nb09-count[{tag}]"  # every glob character in the name: [ and ], then * and ?, then \\
    reg = Registry(client, prefix=head + "*?\\q")
    expect(answer(reg) == 0, "an empty registry holds 0 keys")
    total = random.randint(2000, 3000)  # not a number anyone could know in advance
    names = [reg.key(f"k{i}") for i in range(total)]
    # look-alike registries' keys, each matched only when one kind of glob character is left unescaped:
    # [tag] read as a set of one character, * read as any run, ? as any one character, \\q read as q; and a
    # name that only starts with the prefix
    neighbours = [
        f"nb09-count{tag[0]}*?\\q:other",
        head + "zz?\\q:other",
        head + "*Z\\q:other",
        head + "*?q:other",
        reg.prefix + "x:other",
    ]
    # other registries' keys, thousands of them: SCAN walks the whole database, whatever the pattern
    elsewhere = [
        f"nb09-count-elsewhere-{uuid.uuid4().hex[:8]}:k{i}"
        for i in range(COUNT_KEYS - total - len(neighbours))
    ]
    client.mset({name: "v" for name in names + neighbours + elsewhere})
    with cleaning(lambda: _cleanup(client, names + neighbours + elsewhere)):
        seen: list[str] = []
        reg.on_call = seen.append
        keys_in_db = client.dbsize()
        client.sent.clear()
        client.scan_counts.clear()
        client.repeat, client.head = True, reg.key("")
        result = answer(reg)
        scans, widest = client.sent.count("SCAN"), max(client.scan_counts, default=0)
        sent = set(client.sent)
        repeated = False  # one over: was it the name handed out twice? the same count, without that, tells
        if result == total + 1:
            client.repeat, client._once = False, None
            repeated = answer(reg) == total
    expect(
        not seen,
        f"count used the registry's own methods {sorted(set(seen))}: they fetch values, and counting "
        "names needs none",
    )
    expect(
        "KEYS" not in sent,
        "count sent KEYS, which blocks every client of the server while it walks the whole keyspace",
    )
    expect(
        not sent & {"GET", "MGET"},
        f"count fetched values ({', '.join(sorted(sent & {'GET', 'MGET'}))}); counting names needs none",
    )
    others = sorted(sent - {"SCAN", "DBSIZE"})  # DBSIZE reads one number, and blocks nobody
    expect(
        not others,
        f"count sent {', '.join(others)}: only commands that walk the keyspace a few keys at a time leave "
        "the server free for its other clients while you count",
    )
    expect(
        result == total,
        f"expected {total} keys, got {result!r}: compare the names your pattern matched with the registry's"
        + (" (one name came back in two SCAN pages: Redis may do that)" if repeated else ""),
    )
    expect(
        4 * widest < COUNT_KEYS,
        f"one of your SCANs may walk {widest} keys, a quarter or more of the {COUNT_KEYS:,} the database holds: "
        "such a SCAN holds the server for a large part of what KEYS would, and other clients wait meanwhile",
    )
    expect(
        scans <= keys_in_db / 500 + 2,
        f"your count sent {scans} SCANs for a database of {keys_in_db} keys: how many keys does one SCAN "
        "look at?",
    )


class _Unchanged(Registry):
    """The working Registry under another class, with methods of its own that call Registry's: a test must
    judge what a registry does, not what it is or whose methods it has. Every run builds these; the broken
    runs break Registry's own methods, so a registry the test builds itself is broken too."""

    def get(self, key):
        return super().get(key)

    def set(self, key, value):
        return super().set(key, value)

    def delete(self, key):
        return super().delete(key)

    def get_all(self):
        return super().get_all()


_WORKING = {name: getattr(Registry, name) for name in ("get", "set", "delete", "get_all")}
_UNSTORED: list[str] = []  # the keys the broken `set` was given in one run, and did not store


# Each broken `delete` answers what DEL would for that key (True when it was there), so no return value,
# alone, tells it from the working one: only what is stored after it does.
def _deletes_nothing(self, key):
    return bool(cast(redis.Redis, self.client).exists(self.key(key)))


def _deletes_everything(self, key):
    client = cast(redis.Redis, self.client)  # the check's registries are on redis-py
    existed = bool(client.exists(self.key(key)))
    for name in client.scan_iter(match=glob_escape(self.prefix + ":") + "*"):
        client.delete(name)
    return existed


def _stores_nothing(self, key, value):
    _UNSTORED.append(key)


def _book_get_all(self):
    return self.get_all_book()


def _leaks_neighbours(self):  # its own keys all right, plus those of registries the book's pattern matches
    client = cast(redis.Redis, self.client)
    head = self.key("")
    found = _WORKING["get_all"](self)
    for name in client.scan_iter(match=head + "*", count=1000):  # the pattern unescaped
        text = name.decode() if isinstance(name, bytes) else name
        value = client.get(name)
        if not text.startswith(head) and value is not None:
            found[text[len(head) :]] = value.decode() if isinstance(value, bytes) else value
    return found


def _one_page(self):
    return dict(itertools.islice(_WORKING["get_all"](self).items(), self.page_size))


def _redis_names(self):
    return {self.key(key): value for key, value in _WORKING["get_all"](self).items()}


def _bytes_values(self):  # the names right, the values as Redis sends them: a forgotten decode
    return {key: value.encode() for key, value in _WORKING["get_all"](self).items()}


def _values_of_other_names(
    self,
):  # the right names and the right values, each value paired with the next name
    found = _WORKING["get_all"](self)
    values = list(found.values())
    return dict(zip(found, values[1:] + values[:1], strict=True))


BROKEN_DELETE = [
    ("delete", _deletes_nothing, "a `delete` that does nothing: after deleting a key, check that it is gone"),
    ("delete", _deletes_everything, "a `delete` that empties the whole registry"),
    ("set", _stores_nothing, "a `set` that stores nothing"),
]
BROKEN_GET_ALL = [
    ("get_all", _book_get_all, "the book's `get_all`, whose KEYS pattern is not escaped"),
    (
        "get_all",
        _leaks_neighbours,
        "a `get_all` that answers another registry's keys besides all of its own",
    ),
    ("get_all", _one_page, "a `get_all` that stops after its first page (`page_size` keys)"),
    (
        "get_all",
        _redis_names,
        "a `get_all` that answers Redis' key names (`prefix:key`), not the registry's keys",
    ),
    ("get_all", _bytes_values, "a `get_all` that answers its values as bytes, not text"),
    ("get_all", _values_of_other_names, "a `get_all` that pairs each value with another key's name"),
]


def _disguised(broken, working):
    """``broken``'s code under ``working``'s name, qualified name, module and docstring."""
    code = broken.__code__.replace(co_name=working.__name__, co_qualname=working.__qualname__)
    stand_in = types.FunctionType(
        code, broken.__globals__, working.__name__, broken.__defaults__, broken.__closure__
    )
    stand_in.__qualname__, stand_in.__module__, stand_in.__doc__ = (
        working.__qualname__,
        working.__module__,
        working.__doc__,
    )
    return stand_in


@contextlib.contextmanager
def _broken(method, broken):
    """Registry's ``method`` replaced by ``broken`` for the run: every registry is broken, however it is made.
    The stand-in wears the working method's names and docstring, so only what it does tells them apart."""
    setattr(Registry, method, _disguised(broken, _WORKING[method]))
    try:
        yield
    finally:
        setattr(Registry, method, _WORKING[method])


def _outcome(test, client):
    """None when ``test`` passes against the registries it makes, else why it failed. The registries one run
    makes share a random tag: ``make_registry("t[x]")`` and ``make_registry("tx")`` are neighbours, as in the
    notebook."""
    made, tag = [], uuid.uuid4().hex[:8]

    def make_registry(name, page_size=1000):
        made.append(_Unchanged(client, prefix=f"{name}-{tag}", page_size=page_size))
        return made[-1]

    def clean():
        for reg in made:
            _cleanup(client, list(client.scan_iter(match=glob_escape(reg.prefix + ":") + "*")))

    try:
        with cleaning(clean):
            test(make_registry)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a failing test raises anything; pytest.fail a BaseException
        if unreachable(exc) is not None:  # Redis did not answer the test: not the test's failure
            raise
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _catches(answer, broken):
    expect(callable(answer), "expected a test function taking make_registry")
    client = redisdb.client(config.load(argv=[]).redis_url)
    failure = _outcome(answer, client)
    expect(
        failure is None,
        f"your test fails against the working Registry ({str(failure)[:150]}): "
        "a test must pass when the code is right",
    )
    for method, broken_method, what in broken:
        _UNSTORED.clear()
        with _broken(method, broken_method):
            caught = _outcome(answer, client) is not None
        if broken_method is _stores_nothing and not _UNSTORED:
            continue  # the test wrote its keys some other way: it does not lean on `set`
        expect(caught, f"your test passes against {what}")


@exercise("09.test_delete")
def test_delete(answer):
    _catches(answer, BROKEN_DELETE)
