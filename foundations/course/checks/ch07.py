"""Checks for the exercises of notebook 07 (Redis: the worst gap, routing keys by weight, Redis Cluster's slots,
a transfer in one transaction on one pooled connection, and one that never overdraws, with WATCH)."""

import builtins
import contextlib
import ctypes
import itertools
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import redis
from redis.crc import key_slot

from foundations import config, redisdb, redispool, redisspeed
from foundations.course.exercises import Wrong, exercise, expect


def _stall_in(after: float, seconds: float) -> threading.Thread:
    """A thread that, ``after`` seconds from now, holds the GIL for ``seconds``: a C call made through
    ``ctypes.PyDLL`` keeps it, so every other Python thread stalls, as behind a long C call or a busy host."""
    usleep = ctypes.PyDLL(None).usleep

    def hold():
        time.sleep(after)
        usleep(int(seconds * 1_000_000))

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def _copied(*args, **kwargs):
    raise Wrong("worst_gap calls redisspeed.intrinsic_latency: write the loop yourself")


@exercise("07.worst_gap")
def worst_gap(answer):
    expect(callable(answer), "expected a function worst_gap(seconds)")
    # one run length for both runs, so no formula of `seconds` can tell them apart; a long and a short stall,
    # of lengths drawn anew each time and in either order, each well inside the run
    seconds = round(random.uniform(0.6, 0.8), 2)
    stalls = [random.uniform(0.15, 0.25), random.uniform(0.03, 0.06)]
    random.shuffle(stalls)
    gaps = {}
    for stall in stalls:
        thread = _stall_in(0.1, stall)
        start = time.perf_counter()
        with mock.patch.object(redisspeed, "intrinsic_latency", _copied):
            got = answer(seconds)
        took = time.perf_counter() - start
        thread.join()
        expect(isinstance(got, (int, float)), f"worst_gap({seconds}) should be a number of µs, got {got!r}")
        expect(
            seconds * 0.95 <= took < seconds * 1.2 + 0.25,
            f"worst_gap({seconds}) ran for {took:.2f} s: it should spin for `seconds`, then return",
        )
        unit = (
            " (that looks like milliseconds: answer in µs)"
            if 0.5 * stall * 1000 <= got <= 2 * stall * 1000
            else ""
        )
        expect(
            got >= 0.8 * stall * 1_000_000,
            f"while worst_gap({seconds}) ran, another thread held the GIL for {stall * 1000:.0f} ms, so your loop "
            f"could not run for that long, but it reported a worst gap of {got:g} µs{unit}. Keep the longest "
            "gap between two reads of a wall clock, in µs",
        )
        expect(
            got < 0.6 * took * 1_000_000,
            f"worst_gap({seconds}) reported {got:g} µs, about as long as the whole run: a gap is the time "
            "between two clock reads of a loop that keeps reading the clock",
        )
        gaps[stall] = got
    short, long = sorted(gaps)
    expect(
        gaps[short] < gaps[long] / 2,
        f"your worst gap came out about the same for a {short * 1000:.0f} ms stall and a {long * 1000:.0f} ms one, "
        f"both in runs of {seconds} s: measure it, do not return a fixed figure or a formula of `seconds`",
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


def _copied_router(*args, **kwargs):
    raise Wrong("pick uses the package's KeyRouted: write the scoring yourself")


def _share(picks, name):
    return sum(p == name for p in picks) / len(picks)


@exercise("07.key_router")
def key_router(answer):
    expect(callable(answer), "expected a function pick(key, weights)")
    used = set(getattr(getattr(answer, "__code__", None), "co_names", ()))  # the names the function uses
    expect(
        not used & {"KeyRouted", "_score"}, "pick uses the package's KeyRouted: write the scoring yourself"
    )
    with (
        mock.patch.object(redisdb, "_score", _copied_router),
        mock.patch.object(redisdb.KeyRouted, "ranked", _copied_router),
    ):
        _key_router(answer)


def _key_router(answer):
    # server names change from run to run: an answer must not know them in advance
    a, b, c = (f"{name}-{random.getrandbits(24):06x}" for name in ("cache", "session", "queue"))
    keys = [f"user:{i}" for i in range(3000)]
    even = {a: 1, b: 1}
    first = [answer(k, even) for k in keys]
    expect(all(p in even for p in first), f"pick must return one of the server names, got {first[0]!r}")
    expect(
        first == [answer(k, dict(even)) for k in keys],
        "the same key must always go to the same server, or a GET misses its SET (no random, no round-robin)",
    )
    with _another_process_hash():
        other = [answer(k, even) for k in keys]
    expect(
        other == first,
        "pick changes with the process: Python's hash() of a string is salted per process "
        "(PYTHONHASHSEED), so two API workers would send one key to two servers; "
        "use a hash that gives the same number in every process",
    )
    expect(
        all(0.4 < _share(first, name) < 0.6 for name in even),
        f"3000 keys should spread about evenly over 2 servers of weight 1, got {dict(Counter(first))}",
    )
    heavy = random.randint(2, 4)  # varied: an answer cannot fit one weight
    weighted = {a: heavy, b: 1}
    got, wanted = _share([answer(k, weighted) for k in keys], a), heavy / (heavy + 1)
    expect(
        abs(got - wanted) < 0.04,
        f"with weights {{{a!r}: {heavy}, {b!r}: 1}}, {a!r} got {got:.0%} of 3000 keys; a server's share "
        f"of the keys should be its share of the total weight, {wanted:.0%}",
    )
    three = {a: 1, b: 1, c: 1}
    grown = [answer(k, three) for k in keys]
    expect(len(set(grown)) == 3, "with three servers, every server should get keys")
    between_old = sum(old != new != c for old, new in zip(first, grown))
    expect(
        between_old == 0,
        f"adding a third server moved {between_old} of 3000 keys from one old server to "
        "the other: their cached values are lost for nothing. Only keys that now belong "
        "to the new server should move",
    )
    moved = sum(old != new for old, new in zip(first, grown))
    expect(
        700 < moved < 1300,
        f"adding a third server moved {moved} of 3000 keys; it should take about a third of them (1000), "
        "to share the load",
    )
    without_first = [answer(k, {b: 1, c: 1}) for k in keys]  # the FIRST server leaves, not the last
    lost = sum(old != a and old != new for old, new in zip(grown, without_first))
    expect(
        lost == 0,
        f"removing the first of three servers moved {lost} of 3000 keys that were not on it: only the "
        "keys of the server that left should move, wherever it stood in the list",
    )
    expect(
        grown == [answer(k, dict(reversed(three.items()))) for k in keys],
        "the same servers listed in another order send keys elsewhere: the order of `weights` must not "
        "matter (two workers may read their configuration in different orders)",
    )
    raised = [answer(k, {a: 1, b: 3, c: 1}) for k in keys]
    wrong_way = sum(old != new != b for old, new in zip(grown, raised))
    expect(
        wrong_way == 0,
        f"raising one server's weight moved {wrong_way} of 3000 keys between the others: "
        "only keys that now go to the heavier server should move",
    )
    expect(
        [answer(k, even) for k in keys] == first,
        "removing the third server should send its keys back where they were",
    )


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


READS = {"GET", "MGET", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD", "PING"}  # all else writes


class _Watched(redispool.RoundRobinPool):
    """The check's pool over one Redis: it logs every command sent on each connection it hands out and the
    replies of EXEC, and counts the connections a client takes from its own internal pool beside it (redis-py's
    ``pipeline()`` does). ``slow_read``: up to how many seconds each GET waits (at random) before its reply is read, as over a slow network."""

    def __init__(self, url: str, slow_read: float = 0.0) -> None:
        self.sent: list[tuple[int, str]] = []  # (connection number, command), in the order sent
        self.exec_replies: list[Any] = []
        self.beside, self.slow_read = 0, slow_read
        self._numbers = itertools.count()
        super().__init__([url], capacity=2, max_capacity=2, timeout=0.5)

    def _dial(self):
        client, number = super()._dial(), next(self._numbers)
        connection = client.connection  # a single-connection client's own, made as it was built
        send, take = connection.send_command, client.connection_pool.get_connection  # type: ignore[union-attr]
        execute = client.execute_command

        def logged(*args, **kwargs):
            command = str(args[0]).upper()
            self.sent.append((number, command))  # list.append is atomic: no lock needed
            sent = send(*args, **kwargs)
            if command in ("GET", "MGET"):
                time.sleep(random.uniform(0, self.slow_read))
            return sent

        def counted(*args, **kwargs):
            self.beside += 1
            return take(*args, **kwargs)

        def recorded(*args, **options):
            reply = execute(*args, **options)
            if str(args[0]).upper() == "EXEC":
                self.exec_replies.append(reply)
            return reply

        setattr(connection, "send_command", logged)  # noqa: B010 - mypy refuses assigning to a method
        setattr(client.connection_pool, "get_connection", counted)  # noqa: B010
        setattr(client, "execute_command", recorded)  # noqa: B010
        return client


def _transactions(sent: list[tuple[int, str]]) -> list[list[str]]:
    """The writes of each MULTI ... EXEC, per connection; a write outside one raises ``Wrong``."""
    open_on: dict[int, list[str]] = {}
    done = []
    for number, command in sent:
        if command == "MULTI":
            open_on[number] = []
        elif command in ("EXEC", "DISCARD"):
            writes = open_on.pop(number, None)
            if writes is None:
                raise Wrong(f"{command} was sent on a connection with no MULTI open on it")
            if command == "EXEC":
                done.append(writes)
        elif command not in READS:
            expect(
                number in open_on,
                f"{command} ran on a connection with no MULTI open on it: it took effect at once, so another "
                "client could see the amount in neither account, or in both",
            )
            open_on[number].append(command)
    return done


@exercise("07.transfer")
def transfer(answer):
    expect(callable(answer), "expected a function transfer(pool, source, target, amount)")
    url = config.load(argv=[]).redis_url
    prefix = f"check07:{random.getrandbits(48):x}:"
    accounts = [prefix + name for name in ("alice", "bob", "carol")]
    start = dict(zip(accounts, random.sample(range(500, 5000), 3)))  # balances the notebook never shows
    admin, pool = redisdb.connect(url), _Watched(url)
    try:
        admin.mset(start)
        pool.warm_up()  # two idle connections, handed out in turn: a command per get lands on the other one
        _transfers(answer, pool, admin, accounts, start)
    finally:
        pool.close()
        admin.delete(*accounts)
        admin.close()


def _transfers(answer, pool, admin, accounts, start):
    balance, calls = dict(start), 0
    for source, target in ((0, 1), (1, 0), (2, 1)):  # one at a time: the answer's reply can be compared
        source, target, amount = accounts[source], accounts[target], random.randint(2, 400)
        got = _call(answer, pool, source, target, amount)
        calls += 1
        _one_transaction_each(pool, calls)
        balance[source] -= amount
        balance[target] += amount
        expect(
            isinstance(got, (list, tuple)) and [int(x) for x in got] == [balance[source], balance[target]],
            f"transfer(pool, source, target, {amount}) returned {got!r}: it should return the two new balances, "
            "the source's then the target's, as the transaction's EXEC answered them",
        )
    jobs = [(random.sample(accounts, 2), random.randint(1, 50)) for _ in range(90)]
    for (source, target), amount in jobs:
        balance[source] -= amount
        balance[target] += amount
    with ThreadPoolExecutor(6) as threads:  # more callers than the pool's two connections
        list(threads.map(lambda job: _call(answer, pool, job[0][0], job[0][1], job[1]), jobs))
    _one_transaction_each(pool, calls + len(jobs))
    final = dict(zip(accounts, (int(v) for v in admin.mget(accounts))))
    expect(
        final == balance,
        f"after {len(jobs)} transfers from 6 threads at once the balances are off by "
        f"{ {k.rsplit(':', 1)[1]: final[k] - balance[k] for k in accounts} }: a transfer must move exactly "
        "`amount` from `source` to `target`",
    )


def _one_transaction_each(pool, calls):
    _only_the_pools_connections(pool)
    transactions = _transactions(pool.sent)
    expect(
        len(transactions) == calls and all(len(writes) >= 2 for writes in transactions),
        f"after {calls} {'call' if calls == 1 else 'calls'} of transfer the server ran {len(transactions)} "
        "transactions: both changes of a transfer belong in one MULTI ... EXEC, one per transfer",
    )


def _only_the_pools_connections(pool):
    expect(
        pool.beside == 0,
        "your transfer took a connection besides the one the pool handed out (redis-py's pipeline() does): "
        "the pool no longer bounds the connections to the server. Send every command on the pool's connection",
    )


def _call(answer, pool, source, target, amount):
    try:
        return answer(pool, source, target, amount)
    except redispool.PoolExhausted:
        raise Wrong(
            "the pool ran out of connections: a transfer must give its connection back when it is done"
        ) from None
    except redis.ResponseError:  # EXEC without MULTI, MULTI nested: say which command went astray
        _transactions(pool.sent)
        raise


SCRIPTS = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}


@exercise("07.safe_transfer")
def safe_transfer(answer):
    expect(callable(answer), "expected a function safe_transfer(pool, source, target, amount)")
    url = config.load(argv=[]).redis_url
    prefix = f"check07:{random.getrandbits(48):x}:"
    rich, poor = [prefix + f"rich{i}" for i in range(3)], [prefix + f"poor{i}" for i in range(4)]
    admin, pool = redisdb.connect(url), _Watched(url, slow_read=0.006)
    try:
        pool.warm_up()
        _refuses_what_is_not_there(answer, pool, admin, rich[0], rich[1])
        _never_overdraws(answer, pool, admin, rich, poor)
    finally:
        pool.close()
        admin.delete(*rich, *poor)
        admin.close()


def _refuses_what_is_not_there(answer, pool, admin, source, target):
    """One call at a time: too much is refused, less moves, the whole balance moves, then nothing is left."""
    balance = dict(zip((source, target), random.sample(range(100, 900), 2)))
    admin.mset(balance)
    have = balance[source]
    for amount in (have + random.randint(1, 50), random.randint(1, have // 2), None, 1):
        amount = amount or balance[source]  # None: exactly what is left
        moves = amount <= balance[source]
        got = _call(answer, pool, source, target, amount)
        _played_by_the_rules(pool)
        if moves:
            balance[source] -= amount
            balance[target] += amount
            expect(
                isinstance(got, (list, tuple))
                and [int(x) for x in got] == [balance[source], balance[target]],
                f"safe_transfer(pool, source, target, {amount}) with {balance[source] + amount} in the source "
                f"returned {got!r}: it should move the amount and return the two new balances as EXEC answered them",
            )
        else:
            expect(
                got is None,
                f"safe_transfer(pool, source, target, {amount}) with {balance[source]} in the source returned "
                f"{got!r}: with too little in the source it must move nothing and return None",
            )
        now = dict(zip(balance, (int(v) for v in admin.mget(list(balance)))))
        expect(
            now == balance,
            f"after safe_transfer(pool, source, target, {amount}) the balances are {now}, not {balance}",
        )


def _never_overdraws(answer, pool, admin, rich, poor):
    """Six threads at once: the poor accounts ask for far more than they hold, the rich never run short. The
    calls begin with a burst of six per poor account (one per thread), each asking for 60 % of what it holds."""
    start = {a: random.randint(250, 400) for a in poor} | {a: 16 * 40 + random.randint(1, 500) for a in rich}
    jobs = [(source, random.choice(rich), random.randint(10, 60)) for source in poor for _ in range(10)]
    jobs += [
        (source, random.choice([r for r in rich if r != source]), random.randint(1, 40))
        for source in rich
        for _ in range(16)
    ]
    random.shuffle(jobs)
    jobs[:0] = [(source, random.choice(rich), start[source] * 6 // 10) for source in poor for _ in range(6)]
    admin.mset(start)
    with ThreadPoolExecutor(6) as threads:
        results = list(threads.map(lambda job: _call(answer, pool, *job), jobs))
    _played_by_the_rules(pool)
    final = dict(zip(start, (int(v) for v in admin.mget(list(start)))))
    overdrawn = [a for a in poor if final[a] < 0]
    expect(
        not overdrawn,
        f"{len(overdrawn)} of the accounts that ask for more than they hold ended below zero: two transfers "
        "both read enough, then both took it. What makes the server refuse an EXEC when the balance changed "
        "after you read it?",
    )
    moved = dict(start)
    for (source, target, amount), got in zip(jobs, results):
        if got is not None:
            moved[source] -= amount
            moved[target] += amount
    expect(
        final == moved,
        "the balances differ from what your answers returned: a transfer that returned None moved money, "
        "or one that returned balances moved none (or moved another amount)",
    )
    replies = {tuple(int(x) for x in reply) for reply in pool.exec_replies if reply}
    expect(
        all(tuple(int(x) for x in got) in replies for got in results if got is not None),
        "some returned balances are not what an EXEC answered: another client may have changed an account "
        "after you read it, so return EXEC's reply",
    )
    refused = [
        (source, amount)
        for (source, _, amount), got in zip(jobs, results)
        if got is None and (source in rich or amount <= final[source])
    ]
    expect(
        not refused,
        f"{len(refused)} transfers were refused though their source held enough (more than they asked for, "
        "even at the end): when does EXEC answer None, and what should a transfer do then?",
    )


def _played_by_the_rules(pool):
    """Writes in MULTI ... EXEC on the pool's connections, no script, and nothing left watched."""
    scripts = {command for _, command in pool.sent} & SCRIPTS
    expect(
        not scripts,
        f"your answer ran {min(scripts, default='')}: a Lua script is atomic too, and a fine choice in production, "
        "but this exercise is about WATCH: read, then MULTI ... EXEC, and try again if EXEC says no",
    )
    _only_the_pools_connections(pool)
    _transactions(pool.sent)  # raises on a write outside MULTI ... EXEC
    watching = set()
    for number, command in pool.sent:
        if command == "WATCH":
            watching.add(number)
        elif command in ("UNWATCH", "EXEC", "DISCARD"):
            watching.discard(number)
    expect(
        not watching,
        "a connection went back to the pool still watching a key: whoever gets it next inherits the WATCH, "
        "and their EXEC fails when your key changes. End the watch before you give the connection back",
    )
