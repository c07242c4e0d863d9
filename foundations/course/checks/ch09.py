"""Checks for the exercises of notebook 09 (test-driven API development), against the live Redis."""

import uuid

from foundations import config, redisdb
from foundations.course.exercises import exercise, expect
from foundations.registry import Registry


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
        expect(isinstance(result, str), f"pattern({shown!r}) should return a str, got {type(result).__name__}")
        decoys = [f"tx-any-{tag}:k", f"{prefix}x:k", f"{prefix}"]  # another registry, a longer name, no colon
        mine = [f"{prefix}:a", f"{prefix}:b*"]
        client.mset({name: "1" for name in decoys + mine})
        try:
            found = {name.decode() for name in client.scan_iter(match=result, count=1000)}
        finally:
            _cleanup(client, decoys + mine)
        expect(found == set(mine), f"pattern({shown!r}) matched {len(found & set(mine))} of its {len(mine)} "
                                   f"keys and {len(found - set(mine))} other keys: escape the glob characters, "
                                   "end with ':*'")


@exercise("09.count")
def count(answer):
    expect(callable(answer), "expected a function count(registry) -> int")
    client = redisdb.client(config.load(argv=[]).redis_url)
    reg = Registry(client, prefix=f"nb09-count[{uuid.uuid4().hex[:8]}]")
    expect(answer(reg) == 0, "an empty registry holds 0 keys")
    names = [reg.key(f"k{i}") for i in range(2345)]
    client.mset({name: "v" for name in names})
    client.set(reg.prefix.replace("[", "").replace("]", "") + ":other", "not ours")
    try:
        seen = []
        reg.on_call = seen.append
        result = answer(reg)
    finally:
        _cleanup(client, names + [reg.prefix.replace("[", "").replace("]", "") + ":other"])
    expect(result == 2345, f"expected 2345 keys, got {result!r} (is the prefix escaped?)")
    expect(not seen, f"count used the registry's own methods {sorted(set(seen))}: they fetch values; "
                     "scan the client directly")
