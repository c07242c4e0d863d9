"""Checks for the exercises of notebook 07 (Redis: the worst case, routing keys)."""

import builtins
import contextlib
import random
from collections import Counter

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
        "use a stable hash (zlib.crc32, hashlib)",
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
        "to the new server should move (rendezvous or consistent hashing, not "
        "hash % len(urls))",
    )
    expect(
        700 < len(moved) < 1300,
        f"adding a third server moved {len(moved)} of 3000 keys; it should take "
        "about a third of them (1000), to share the load",
    )
    shrunk = [answer(k, two) for k in keys]  # the third server goes away again
    expect(shrunk == first, "removing the third server should send its keys back where they were")
