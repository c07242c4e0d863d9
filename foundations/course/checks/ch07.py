"""Checks for the exercises of notebook 07 (Redis: the worst case, routing keys, Redis Cluster's slots)."""

import builtins
import contextlib
import random
from collections import Counter

from redis.crc import key_slot

from foundations.course.exercises import exercise, expect


@exercise("07.requests_per_second")
def requests_per_second(answer):
    expect(callable(answer), "expected a function requests_per_second(latency_us)")
    fresh = random.uniform(100, 900)  # not in any table above: the answer must be computed
    for latency_us in (254, 21_958, 2_500_000, 0.5, fresh):
        expected = 1_000_000 / latency_us
        got = answer(latency_us)
        expect(
            isinstance(got, (int, float)),
            f"requests_per_second({latency_us}) should be a number, got {got!r}",
        )
        if abs(got * 1000 - expected) < 1e-6 * expected:
            hint = " (that is per millisecond: one second is 1,000,000 µs)"
        elif got == round(got):
            hint = " (do not round: a 2.5 s command allows 0.4 requests per second, not 0)"
        else:
            hint = ": one second is 1,000,000 µs"
        expect(
            abs(got - expected) <= expected * 1e-6,
            f"requests_per_second({latency_us:g}) gave {got:g}, expected {expected:g}{hint}",
        )


@contextlib.contextmanager
def _another_process_hash():
    """Python salts ``hash()`` of str and bytes per process (PYTHONHASHSEED): in here, pretend to be another
    process by salting it differently: a router built on ``hash()`` shows workers would disagree."""
    real = builtins.hash
    builtins.hash = lambda value: real(("another process", value))
    try:
        yield
    finally:
        builtins.hash = real


@exercise("07.key_router")
def key_router(answer):
    expect(callable(answer), "expected a function pick(key, urls)")
    two = ["redis://127.0.0.1:6391/0", "redis://127.0.0.1:6392/0"]
    three = [*two, "redis://127.0.0.1:6393/0"]
    keys = [f"user:{i}" for i in range(3000)]
    first = [answer(k, two) for k in keys]
    expect(all(u in two for u in first), f"pick must return one of the urls, got {first[0]!r}")
    expect(
        first == [answer(k, two) for k in keys],
        "the same key must always go to the same server, or a GET misses its SET (no random, no round-robin)",
    )
    with _another_process_hash():
        other = [answer(k, two) for k in keys]
    expect(
        other == first,
        "pick changes with the process: Python's hash() of a string is salted per process "
        "(PYTHONHASHSEED), so two API workers would send one key to two servers; "
        "use a hash that gives the same number in every process",
    )
    counts = Counter(first)
    expect(
        all(1200 < counts[u] < 1800 for u in two),
        f"3000 keys should spread about evenly over 2 servers, got {dict(Counter(map(two.index, first)))}",
    )
    grown = [answer(k, three) for k in keys]
    expect(len(set(grown)) == 3, "with three servers, every server should get keys")
    moved = [(old, new) for old, new in zip(first, grown) if old != new]
    between_old = sum(new != three[2] for _, new in moved)
    expect(
        between_old == 0,
        f"adding a third server moved {between_old} of 3000 keys from one old server to "
        "the other: their cached values are lost for nothing. Only keys that now belong "
        "to the new server should move",
    )
    expect(
        700 < len(moved) < 1300,
        f"adding a third server moved {len(moved)} of 3000 keys; it should take "
        "about a third of them (1000), to share the load",
    )
    shrunk = [answer(k, two) for k in keys]  # the third server goes away again
    expect(shrunk == first, "removing the third server should send its keys back where they were")


# (key, what a wrong answer for it got wrong): the hash-tag rules of the Redis Cluster specification
TAG_CASES = [
    ("{user:1}:name", "only the part between { and } is hashed"),
    ("foo{bar}{zap}", "only the first {...} counts"),
    ("foo{}{bar}", "an empty {} is no tag: then the whole key is hashed"),
    ("foo{{bar}}zap", "the tag ends at the first } after the first {"),
    ("foo{bar", "a { without a } after it is no tag"),
    ("foo}bar{", "a } before the { is no tag"),
]


@exercise("07.hash_slot")
def hash_slot(answer):
    expect(callable(answer), "expected a function hash_slot(key)")
    names = set(getattr(getattr(answer, "__code__", None), "co_names", ()))  # the names the function uses
    expect(
        not names & {"key_slot", "keyslot"},
        "hash_slot calls redis-py's own key_slot: write the computation yourself",
    )
    plain = ["nb07:name", "user:1", "", "ключ", *(f"k{random.getrandbits(40):x}" for _ in range(50))]
    for key in plain:
        got = answer(key)
        expect(
            isinstance(got, int) and 0 <= got < 16384,
            f"hash_slot({key!r}) returned {got!r}: a slot is a number from 0 to 16383",
        )
        expect(
            got == key_slot(key.encode()),
            f"hash_slot({key!r}) returned {got}, not the slot Redis Cluster computes for it: "
            "the CRC16 (XMODEM) of the key's UTF-8 bytes, modulo 16384",
        )
    for key, rule in TAG_CASES:
        got = answer(key)
        expect(got == key_slot(key.encode()), f"hash_slot({key!r}) returned {got}, a wrong slot: {rule}")
    expect(
        answer("{user:1}:name") == answer("{user:1}:email") == answer("user:1"),
        "keys with the same hash tag must share a slot",
    )
