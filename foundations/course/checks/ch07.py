"""Checks for the exercises of notebook 07 (Redis: the worst case, routing keys)."""

from collections import Counter

from foundations.course.exercises import exercise, expect


@exercise("07.requests_per_second")
def requests_per_second(answer):
    expect(callable(answer), "expected a function requests_per_second(latency_us)")
    for latency_us, expected in ((254, 3937), (21_958, 45.5), (1_000_000, 1), (0.5, 2_000_000)):
        got = answer(latency_us)
        expect(isinstance(got, (int, float)), f"requests_per_second({latency_us}) should be a number, got {got!r}")
        expect(abs(got - expected) <= max(1, expected * 0.01),
               f"requests_per_second({latency_us}) gave {got}, expected about {expected}: "
               "one second is 1,000,000 µs")


@exercise("07.key_router")
def key_router(answer):
    expect(callable(answer), "expected a function pick(key, urls)")
    urls = ["redis://127.0.0.1:6391/0", "redis://127.0.0.1:6392/0"]
    keys = [f"user:{i}" for i in range(2000)]
    first = [answer(k, urls) for k in keys]
    expect(all(u in urls for u in first), f"pick must return one of the urls, got {first[0]!r}")
    expect(first == [answer(k, urls) for k in keys], "the same key must always go to the same server, "
                                                     "or a GET misses its SET (no random, no round-robin)")
    counts = Counter(first)
    expect(all(700 < counts[u] < 1300 for u in urls),
           f"2000 keys should spread about evenly over 2 servers, got {dict(counts)}")
    three = urls + ["redis://127.0.0.1:6393/0"]
    expect(len({answer(k, three) for k in keys}) == 3, "with three servers, every server should get keys")
