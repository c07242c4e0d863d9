"""Checks for the exercises of notebook 09 (test-driven API development), against the live Redis."""

import random
import uuid

import redis

from foundations import config, redisdb
from foundations.course.exercises import exercise, expect
from foundations.registry import NotFound, Registry, glob_escape


def _cleanup(client, names):
    for name in names:
        client.delete(name)


@exercise("09.pattern")
def pattern(answer):
    expect(callable(answer), "expected a function pattern(prefix) -> str")
    client = redisdb.client(config.load(argv=[]).redis_url)
    tag = uuid.uuid4().hex[:8]
    for shown in ("plain", "t[x]*?", "back\\slash"):
        prefix = f"{shown}-{tag}"
        shown += "-…"  # messages leave out the random part, so they read the same every run
        result = answer(prefix)
        expect(
            isinstance(result, str), f"pattern({shown!r}) should return a str, got {type(result).__name__}"
        )
        decoys = [f"tx-any-{tag}:k", f"{prefix}x:k", f"{prefix}"]  # another registry, a longer name, no colon
        mine = [f"{prefix}:a", f"{prefix}:b*"]
        client.mset({name: "1" for name in decoys + mine})
        try:
            found = {name.decode() for name in client.scan_iter(match=result, count=1000)}
        finally:
            _cleanup(client, decoys + mine)
        expect(
            found == set(mine),
            f"pattern({shown!r}) matched {len(found & set(mine))} of its {len(mine)} "
            f"keys and {len(found - set(mine))} other keys: escape the glob characters, "
            "end with ':*'",
        )


class _Watched(redis.Redis):
    """A client that notes the name of every command it sends, so the check sees *how* an answer counted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = []

    def execute_command(self, *args, **options):
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


@exercise("09.count")
def count(answer):
    expect(callable(answer), "expected a function count(registry) -> int")
    client = _Watched.from_url(config.load(argv=[]).redis_url)
    reg = Registry(client, prefix=f"nb09-count[{uuid.uuid4().hex[:8]}]")
    expect(answer(reg) == 0, "an empty registry holds 0 keys")
    total = random.randint(2000, 3000)  # not a number anyone could know in advance
    names = [reg.key(f"k{i}") for i in range(total)]
    neighbour = reg.prefix.replace("[", "").replace("]", "") + ":other"  # a look-alike registry's key
    client.mset({name: "v" for name in names})
    client.set(neighbour, "not ours")
    try:
        seen = []
        reg.on_call = seen.append
        client.sent.clear()
        result = answer(reg)
        sent = set(client.sent)
    finally:
        _cleanup(client, names + [neighbour])
    expect(
        not seen,
        f"count used the registry's own methods {sorted(set(seen))}: they fetch values; "
        "scan the client directly",
    )
    expect(
        "KEYS" not in sent,
        "count sent KEYS, which walks the whole keyspace while Redis serves nobody "
        "else; page through with SCAN (client.scan_iter)",
    )
    expect(
        not sent & {"GET", "MGET"},
        f"count fetched values ({', '.join(sorted(sent & {'GET', 'MGET'}))}); counting names needs none",
    )
    expect(
        result == total,
        f"expected {total} keys, got {result!r}: is the prefix escaped? It holds [ and "
        "], which a glob pattern reads as a set of characters",
    )


class _DeletesNothing(Registry):
    def delete(self, key):
        return True


class _DeletesEverything(Registry):
    def delete(self, key):
        for name in self.client.scan_iter(match=glob_escape(self.prefix + ":") + "*"):
            self.client.delete(name)
        return True


class _FindsNothing(Registry):
    def get(self, key):
        raise NotFound(f"no key {key!r} in registry {self.prefix!r}")


BROKEN = {
    _DeletesNothing: "a `delete` that does nothing: after deleting a key, check it is gone "
    "(`with pytest.raises(NotFound): reg.get(key)`)",
    _DeletesEverything: "a `delete` that empties the whole registry: check that another key survives",
    _FindsNothing: "a `get` that never finds anything: check the value is there before you delete it",
}


def _outcome(test, registry_class, client):
    """None when ``test`` passes against registries of ``registry_class``, else why it failed."""
    made = []

    def make_registry(name):
        made.append(registry_class(client, prefix=f"{name}-{uuid.uuid4().hex[:8]}"))
        return made[-1]

    try:
        test(make_registry)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a failing test raises anything; pytest.fail a BaseException
        return f"{type(exc).__name__}: {exc}".strip()
    finally:
        for reg in made:
            _cleanup(client, list(client.scan_iter(match=glob_escape(reg.prefix + ":") + "*")))
    return None


@exercise("09.test_delete")
def test_delete(answer):
    expect(callable(answer), "expected a test function test_delete(make_registry)")
    client = redisdb.client(config.load(argv=[]).redis_url)
    failure = _outcome(answer, Registry, client)
    expect(
        failure is None,
        f"your test fails against the working Registry ({str(failure)[:150]}): "
        "a test must pass when the code is right",
    )
    for broken, what in BROKEN.items():
        expect(_outcome(answer, broken, client) is not None, f"your test passes against {what}")
