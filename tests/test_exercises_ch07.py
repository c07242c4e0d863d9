"""Chapter 7's exercise checks reject plausible wrong answers, each with a message that helps."""

import binascii
import bisect
import functools
import hashlib
import math
import random
import re
import threading
import time
import zlib
from time import sleep as imported_sleep

import pytest

from foundations import redisdb, redisspeed
from foundations.course import exercises
from foundations.course.checks import ch07_transactions


def spin(seconds, clock=time.perf_counter):
    """The gaps of a loop that reads ``clock`` for ``seconds`` of wall time."""
    end = time.perf_counter() + seconds
    last = clock()
    gaps = []
    while time.perf_counter() < end:
        now = clock()
        gaps.append(now - last)
        last = now
    return gaps


def sleeps(seconds):  # no loop: one "gap", the whole run
    start = time.perf_counter()
    time.sleep(seconds)
    return (time.perf_counter() - start) * 1_000_000


def whole_run(seconds):  # spins, then reports the whole run as its gap
    start = time.perf_counter()
    spin(seconds)
    return (time.perf_counter() - start) * 1_000_000


def _naps_between_reads(nap, seconds):
    """The worst gap of a loop that calls ``nap()`` between clock reads: it measures its naps."""
    end = time.perf_counter() + seconds
    last, worst = time.perf_counter(), 0.0
    while last < end:
        nap()
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    return worst * 1_000_000


def napping(seconds):  # reads the clock between naps (and burns no CPU)
    return _naps_between_reads(lambda: time.sleep(0.01), seconds)


def waiting(seconds):  # the same naps without time.sleep: the run with nothing in the way shows them
    return _naps_between_reads(lambda: threading.Event().wait(0.05), seconds)


def napping_on_an_imported_sleep(seconds):  # `from time import sleep` keeps the real one
    return _naps_between_reads(lambda: imported_sleep(0.01), seconds)


def waiting_briefly(seconds):  # 10 ms waits: shorter than the calm run's allowance
    return _naps_between_reads(lambda: threading.Event().wait(0.01), seconds)


def fixed_run(seconds):  # ignores the argument
    return max(spin(1.5)) * 1_000_000


def one_second_run(seconds):  # ignores the argument, with a length that fits the check's stalled runs
    return max(spin(1.0)) * 1_000_000


def total_stall(seconds):  # the time the loop did not run, all of it: wall time less this thread's CPU time
    start, cpu = time.perf_counter(), time.thread_time()
    spin(seconds)
    return ((time.perf_counter() - start) - (time.thread_time() - cpu)) * 1_000_000


def summed_gaps(seconds):  # every gap over 1 ms, added up: the total of the stalls, not the worst one
    return sum(gap for gap in spin(seconds) if gap > 0.001) * 1_000_000


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda seconds: 661, "it should spin for `seconds`"),  # the notebook's output, at once
        (lambda seconds: (spin(seconds), 661)[1], "reported a worst gap of 661 µs"),
        (lambda seconds: (spin(seconds), 250_000)[1], "do not return a fixed figure"),
        (lambda seconds: (spin(seconds), 450_000 * seconds)[1], "do not return a fixed figure"),
        (lambda seconds: max(spin(seconds)) * 1000, "that looks like milliseconds"),
        (lambda seconds: (lambda g: sum(g) / len(g))(spin(seconds)) * 1_000_000, "Keep the longest gap"),
        (
            lambda seconds: max(spin(seconds, time.thread_time)) * 1_000_000,
            "Keep the longest gap",
        ),  # CPU clock
        (sleeps, "read the clock without pausing"),
        (napping, "read the clock without pausing"),
        (whole_run, "about as long as the whole run"),
        (waiting, "it pauses between clock reads"),
        (napping_on_an_imported_sleep, "it pauses between clock reads"),
        (waiting_briefly, "it pauses between clock reads"),
        (fixed_run, "it should spin for `seconds`"),
        (one_second_run, "it should spin for `seconds`"),
        (total_stall, "not a total of the time"),
        (summed_gaps, "not a total of the time"),
        (lambda seconds: redisspeed.intrinsic_latency(seconds).max_us, "write the loop yourself"),
    ],
)
def test_worst_gap_rejects(answer, message):
    assert message in exercises.verdict("07.worst_gap", answer)


def blake(text):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def crc_modulo(key, weights):  # the hint the notebook used to give
    names = list(weights)
    return names[zlib.crc32(key.encode()) % len(names)]


def python_hash_rendezvous(key, weights):  # right idea, per-process hash
    return max(weights, key=lambda name: hash((name, key)) * weights[name])


def python_hash_modulo(key, weights):
    names = list(weights)
    return names[hash(key) % len(names)]


def _salted_u(number):  # a salted hash() of a string, made uniform in (0, 1)
    return (number % 2**61 + 1) / (2**61 + 1)


def hash_as_default(
    key, weights, h=hash
):  # weighted rendezvous on hash(), bound when the function is defined
    return max(weights, key=lambda name: -weights[name] / math.log(_salted_u(h(f"{name}\0{key}"))))


def dunder_hash(key, weights):  # weighted rendezvous on hash(), called as a method
    return max(weights, key=lambda name: -weights[name] / math.log(_salted_u((name + "\0" + key).__hash__())))


salted = hash  # a module-level name for hash()


def hash_by_global_alias(key, weights):
    return max(weights, key=lambda name: -weights[name] / math.log(_salted_u(salted(f"{name}\0{key}"))))


def _router_on(scorer):
    def pick(key, weights):
        return max(weights, key=lambda name: -weights[name] / math.log(_salted_u(scorer(f"{name}\0{key}"))))

    return pick


hash_in_closure = _router_on(hash)  # hash() reaches the answer through a closure cell
hash_in_partial = functools.partial(
    hash_as_default, h=str.__hash__
)  # the slot wrapper, in a partial's keywords


def unweighted_rendezvous(key, weights):  # what KeyRouted does: the weights ignored
    return max(weights, key=lambda name: blake(f"{name}\0{key}"))


def multiplied_rendezvous(key, weights):  # weight x uniform score: favours the heavy server too much
    return max(weights, key=lambda name: weights[name] * blake(f"{name}\0{key}"))


def exponential_times_weight(
    key, weights
):  # w x Exp(1): right for two servers, too much for the heavy among five
    return max(weights, key=lambda name: -weights[name] * math.log((blake(f"{name}\0{key}") + 1) / 2**64))


def by_package_score(key, weights):  # the package's _score, behind a lambda
    return max(weights, key=lambda name: redisdb._score(name, key.encode()))


def _jump(key, buckets):
    # Lamping and Veach's jump consistent hash: even, and adding a bucket at the end moves keys only to it
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (2**31 / ((key >> 33) + 1)))
    return b


def jump_hash(key, weights):  # a bucket per unit of weight, but buckets are numbered: removing one renumbers
    buckets = [name for name, weight in weights.items() for _ in range(weight)]
    return buckets[_jump(blake(key), len(buckets))]


def sorted_jump_hash(key, weights):  # sorted, so the order does not matter: still renumbers on removal
    return jump_hash(key, dict(sorted(weights.items())))


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda key, weights: random.choice(list(weights)), "the same key must always go to the same server"),
        (lambda key, weights: next(iter(weights)), "should spread about evenly"),
        (lambda key, weights: "redis://127.0.0.1:6379/0", "pick must return one of the server names"),
        (crc_modulo, "a server's share of the keys should be its share of the total weight"),
        (python_hash_modulo, "Python's hash() of a string is salted per process"),
        (python_hash_rendezvous, "Python's hash() of a string is salted per process"),
        (hash_as_default, "Python's hash() of a string is salted per process"),
        (dunder_hash, "Python's hash() of a string is salted per process"),
        (hash_by_global_alias, "Python's hash() of a string is salted per process"),
        (hash_in_closure, "Python's hash() of a string is salted per process"),
        (hash_in_partial, "Python's hash() of a string is salted per process"),
        (unweighted_rendezvous, "a server's share of the keys should be its share of the total weight"),
        (multiplied_rendezvous, "a server's share of the keys should be its share of the total weight"),
        (exponential_times_weight, "a rule that holds for two servers may not hold for five"),
        (jump_hash, "removing the first of three servers moved"),
        # the random names may sort the new server anywhere: adding it renumbers too, or removing does
        (sorted_jump_hash, re.compile("(adding a third|removing the first of three) servers? moved", re.I)),
        (lambda key, weights: redisdb.KeyRouted(weights).server_for(key), "write the scoring yourself"),
        (by_package_score, "write the scoring yourself"),
    ],
)
def test_key_router_rejects(answer, message):
    got = exercises.verdict("07.key_router", answer)
    assert message.search(got) if isinstance(message, re.Pattern) else message.lower() in got.lower(), got


def test_key_router_accepts_a_ticket_per_unit_of_weight():
    # another right answer: a server of weight w draws w tickets, the highest ticket wins
    def tickets(key, weights):
        return max(weights, key=lambda name: max(blake(f"{name}\0{i}\0{key}") for i in range(weights[name])))

    assert exercises.verdict("07.key_router", tickets) is None


def _ring_points(name, weight):
    # ketama's points (libketama, twemproxy): 40 md5 digests per unit of weight, four 32-bit points from each
    for i in range(40 * weight):
        digest = hashlib.md5(f"{name}-{i}".encode()).digest()
        for j in range(4):
            yield int.from_bytes(digest[4 * j : 4 * j + 4], "little"), name


@functools.lru_cache(maxsize=16)
def _ring(servers):
    ring = sorted(point for name, weight in servers for point in _ring_points(name, weight))
    return [at for at, _ in ring], [name for _, name in ring]


def ketama(key, weights):
    # a consistent-hash ring, 160 points per unit of weight: a key goes to the server of the next point
    points, names = _ring(tuple(sorted(weights.items())))
    at = int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "little")
    return names[bisect.bisect(points, at) % len(points)]


def test_key_router_accepts_a_ring_of_160_points_per_unit_of_weight():
    # another right answer, whose shares stray from the weights by a few points whatever the number of keys.
    # The check makes up new server names on every run, so it must pass every time, not by luck
    failed = [verdict for _run in range(50) if (verdict := exercises.verdict("07.key_router", ketama))]
    assert not failed, f"{len(failed)} of 50 runs refused a ketama ring, first: {failed[0]}"


def slot(raw):
    return binascii.crc_hqx(raw, 0) % 16384


def no_tags(key):  # the CRC is right, the hash tags are ignored
    return slot(key.encode())


def last_brace(key):  # the tag runs to the last }, not the first
    start, end = key.find("{"), key.rfind("}")
    return slot(key[start + 1 : end].encode() if -1 < start < end - 1 else key.encode())


def empty_tag_counts(key):  # an empty {} hashes the empty string
    start = key.find("{")
    end = key.find("}", start + 1) if start != -1 else -1
    return slot(key[start + 1 : end].encode() if end != -1 else key.encode())


def first_brace_anywhere(key):  # the } looked for from the start of the key, not after the {
    start, end = key.find("{"), key.find("}")
    return slot(key[start + 1 : end].encode() if -1 < start < end - 1 else key.encode())


def crc32_slot(key):
    return zlib.crc32(key.encode()) % 16384


def uses_redis_py(key):
    from redis.crc import key_slot

    return key_slot(key.encode())


@pytest.mark.parametrize(
    "answer, message",
    [
        (crc32_slot, "the CRC16 (XMODEM)"),
        (
            lambda key: {"nb07:name": 11242}.get(key, 10778),
            "not the slot Redis Cluster computes",
        ),  # the outputs
        (lambda key: binascii.crc_hqx(key.encode(), 0), "a slot is a number from 0 to 16383"),
        (no_tags, "only the part between { and } is hashed"),
        (last_brace, "only the first {...} counts"),
        (empty_tag_counts, "an empty {} is no tag"),
        (first_brace_anywhere, "not at the first } in the key"),
        (uses_redis_py, "calls redis-py's own key_slot"),
    ],
)
def test_hash_slot_rejects(answer, message):
    assert message in exercises.verdict("07.hash_slot", answer)


# Answers that reach redis-py's key_slot by another road, each as notebook cells define them
REDIS_PY_BY_ANOTHER_NAME = {
    "an aliased import": "from redis.crc import key_slot as slot_of\n"
    "def hash_slot(key):\n    return slot_of(key.encode())",
    "redis.cluster's import of it": "from redis.cluster import key_slot as ks\n"
    "def hash_slot(key):\n    return ks(key.encode())",
    "a module-level wrapper": "from redis.crc import key_slot\n"
    "def slot(raw):\n    return key_slot(raw)\n"
    "def hash_slot(key):\n    return slot(key.encode())",
    "a name built at call time": "import importlib\n"
    "def hash_slot(key):\n    return getattr(importlib.import_module('redis.crc'), 'key_' + 'slot')(key.encode())",
    "a refusal swallowed": "import importlib\n"
    "def hash_slot(key):\n    try:\n"
    "        return getattr(importlib.import_module('redis.crc'), 'key_' + 'slot')(key.encode())\n"
    "    except Exception:\n        return 0",
}


@pytest.mark.parametrize("source", REDIS_PY_BY_ANOTHER_NAME.values(), ids=REDIS_PY_BY_ANOTHER_NAME)
def test_hash_slot_rejects_redis_py_by_another_name(source):
    namespace = {}
    exec(source, namespace)
    assert "calls redis-py's own key_slot" in exercises.verdict("07.hash_slot", namespace["hash_slot"])


def test_hash_slot_does_not_blame_an_import_it_never_calls():
    namespace = {}
    exec("from redis.crc import key_slot\ndef hash_slot(key):\n    ...", namespace)  # the notebook's stub
    assert "returned None" in exercises.verdict("07.hash_slot", namespace["hash_slot"])


# Half-solutions of 07.transfer, each as a learner might write it.
def no_transaction(pool, source, target, amount):
    with pool.resource() as conn:
        return [
            conn.execute_command("DECRBY", source, amount),
            conn.execute_command("INCRBY", target, amount),
        ]


def a_connection_per_command(pool, source, target, amount):  # the book's RedigoDo for every command
    pool.do("MULTI")
    pool.do("DECRBY", source, amount)
    pool.do("INCRBY", target, amount)
    return pool.do("EXEC")


def on_a_pipeline(pool, source, target, amount):  # atomic, on a connection the pool never handed out
    with pool.resource() as conn:
        return conn.pipeline(transaction=True).decrby(source, amount).incrby(target, amount).execute()


def two_transactions(pool, source, target, amount):
    with pool.resource() as conn:
        replies = []
        for command, key in (("DECRBY", source), ("INCRBY", target)):
            conn.execute_command("MULTI")
            conn.execute_command(command, key, amount)
            replies += conn.execute_command("EXEC")
        return replies


def transaction(conn, *commands):
    conn.execute_command("MULTI")
    for command in commands:
        conn.execute_command(*command)
    return conn.execute_command("EXEC")


def ignores_amount(pool, source, target, amount):
    with pool.resource() as conn:
        return transaction(conn, ("DECRBY", source, 1), ("INCRBY", target, 1))


def the_wrong_way_round(pool, source, target, amount):
    with pool.resource() as conn:
        return transaction(conn, ("INCRBY", source, amount), ("DECRBY", target, amount))


def keeps_the_connection(pool, source, target, amount):
    return transaction(pool.get(), ("DECRBY", source, amount), ("INCRBY", target, amount))


def returns_nothing(pool, source, target, amount):
    with pool.resource() as conn:
        transaction(conn, ("DECRBY", source, amount), ("INCRBY", target, amount))


def reads_after_exec(pool, source, target, amount):  # right when alone; others may move money in between
    with pool.resource() as conn:
        transaction(conn, ("DECRBY", source, amount), ("INCRBY", target, amount))
        return [conn.execute_command("GET", source), conn.execute_command("GET", target)]


def mgets_after_exec(pool, source, target, amount):  # one read, still after EXEC
    with pool.resource() as conn:
        transaction(conn, ("DECRBY", source, amount), ("INCRBY", target, amount))
        return conn.execute_command("MGET", source, target)


@pytest.mark.parametrize(
    "answer, message",
    [
        (no_transaction, "DECRBY ran on a connection with no MULTI open on it"),
        (a_connection_per_command, "DECRBY ran on a connection with no MULTI open on it"),
        (on_a_pipeline, "took a connection besides the one the pool handed out"),
        (two_transactions, "after 1 call of transfer the server ran 2 transactions"),
        (ignores_amount, "it should return the two new balances"),
        (the_wrong_way_round, "it should return the two new balances"),
        (lambda pool, source, target, amount: [4400, 560], "the server ran 0 transactions"),
        (keeps_the_connection, "the pool ran out of connections"),
        (returns_nothing, "returned None"),
        (reads_after_exec, "right after your EXEC"),
        (mgets_after_exec, "right after your EXEC"),
    ],
)
def test_transfer_rejects(answer, message):
    assert message in exercises.verdict("07.transfer", answer)


# Half-solutions of 07.safe_transfer, each as a learner might write it.
def balance_of(conn, key):
    return int(conn.execute_command("GET", key) or 0)


def moved(conn, source, target, amount):
    return transaction(conn, ("DECRBY", source, amount), ("INCRBY", target, amount))


def check_then_act(pool, source, target, amount):  # no WATCH: another transfer can come in between
    with pool.resource() as conn:
        return moved(conn, source, target, amount) if balance_of(conn, source) >= amount else None


def watches_after_reading(pool, source, target, amount):
    with pool.resource() as conn:
        while True:
            have = balance_of(conn, source)
            conn.execute_command("WATCH", source)
            if have < amount:
                conn.execute_command("UNWATCH")
                return None
            balances = moved(conn, source, target, amount)
            if balances is not None:
                return balances


def gives_up_when_exec_fails(pool, source, target, amount):
    with pool.resource() as conn:
        conn.execute_command("WATCH", source)
        if balance_of(conn, source) < amount:
            conn.execute_command("UNWATCH")
            return None
        return moved(conn, source, target, amount)


# EXEC ends every WATCH, a failed one too: the retry runs unguarded
def watches_once(pool, source, target, amount):
    with pool.resource() as conn:
        conn.execute_command("WATCH", source)
        while True:
            if balance_of(conn, source) < amount:
                conn.execute_command("UNWATCH")
                return None
            balances = moved(conn, source, target, amount)
            if balances is not None:
                return balances


def never_refuses(pool, source, target, amount):  # exercise 4's answer
    with pool.resource() as conn:
        return moved(conn, source, target, amount)


def keeps_watching(pool, source, target, amount):
    with pool.resource() as conn:
        while True:
            conn.execute_command("WATCH", source)
            if balance_of(conn, source) < amount:
                return None
            balances = moved(conn, source, target, amount)
            if balances is not None:
                return balances


def returns_what_it_read(pool, source, target, amount):
    with pool.resource() as conn:
        while True:
            conn.execute_command("WATCH", source)
            have, other = balance_of(conn, source), balance_of(conn, target)
            if have < amount:
                conn.execute_command("UNWATCH")
                return None
            if moved(conn, source, target, amount) is not None:
                return [have - amount, other + amount]


def moves_it_back(pool, source, target, amount):  # ends right, but another client can read the overdraft
    with pool.resource() as conn:
        balances = moved(conn, source, target, amount)
        if int(balances[0]) >= 0:
            return balances
        moved(conn, target, source, amount)
        return None


LUA = """local have = tonumber(redis.call('GET', KEYS[1]) or '0')
if have < tonumber(ARGV[1]) then return nil end
return {redis.call('DECRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[2], ARGV[1])}"""


def in_lua(pool, source, target, amount):
    with pool.resource() as conn:
        return conn.execute_command("EVAL", LUA, 2, source, target, amount)


@pytest.mark.parametrize(
    "answer, message",
    [
        (check_then_act, "ended below zero"),
        (watches_after_reading, "ended below zero"),
        (gives_up_when_exec_fails, "enough still, so it should try again"),
        (watches_once, "your retry moved the money anyway"),
        (never_refuses, "with too little in the source it must move nothing and return None"),
        (keeps_watching, "still watching a key"),
        (moves_it_back, "a refused one writes nothing"),
        (returns_what_it_read, "not what an EXEC answered"),
        (in_lua, "a Lua script is atomic too"),
        (lambda pool, source, target, amount: None, "it should move the amount"),
    ],
)
def test_safe_transfer_rejects(answer, message):
    assert message in exercises.verdict("07.safe_transfer", answer)


@pytest.mark.parametrize("answer", [check_then_act, watches_after_reading])
def test_safe_transfer_refuses_a_late_watch_without_the_race(answer, monkeypatch):
    # the six-thread phase off: the one-call case that spends right after the read must refuse these on its own
    monkeypatch.setattr(ch07_transactions, "_never_overdraws", lambda *args: None)
    assert "ended below zero" in exercises.verdict("07.safe_transfer", answer)


@pytest.mark.parametrize("answer", [reads_after_exec, mgets_after_exec])
def test_transfer_refuses_reads_after_exec_without_the_race(answer, monkeypatch):
    # the threaded phase off: the one-at-a-time call with a change right after EXEC must refuse these on its own
    monkeypatch.setattr(ch07_transactions, "ThreadPoolExecutor", None)
    assert "right after your EXEC" in exercises.verdict("07.transfer", answer)
