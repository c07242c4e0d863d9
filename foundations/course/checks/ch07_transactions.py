"""Checks for notebook 07's transaction exercises: a transfer in one MULTI ... EXEC on one pooled connection
(``07.transfer``), and one that never overdraws, with WATCH and a retry (``07.safe_transfer``). The check's pool
logs every command each connection sends, so a check can see where each one went. ``ch07`` registers both, after
its own checks, so the board's columns follow the notebook."""

import itertools
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from foundations import config, redisdb, redispool
from foundations.course.exercises import Wrong, cleaning, expect

READS = {"GET", "MGET", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD", "PING"}  # all else writes


class _Watched(redispool.RoundRobinPool):
    """The check's pool over one Redis: it logs every command sent on each connection it hands out and the
    replies of EXEC, and counts the connections a client takes from its own internal pool beside it (redis-py's
    ``pipeline()`` does). ``slow_read``: up to how many seconds each GET waits (at random) before its reply is
    read, as over a slow network; ``slow_exec``: the same for EXEC's reply (the other connection runs meanwhile).
    ``after_reads``: what another client does right after each of the next reads is answered, one per read;
    ``after_execs``: the same, right after each of the next EXECs is answered."""

    def __init__(self, url: str, slow_read: float = 0.0) -> None:
        self.sent: list[tuple[int, str]] = []  # (connection number, command), in the order sent
        self.exec_replies: list[Any] = []
        self.after_reads: list[Callable[[], None]] = []
        self.after_execs: list[Callable[[], None]] = []
        self.beside, self.slow_read, self.slow_exec = 0, slow_read, 0.0
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
            reply, command = execute(*args, **options), str(args[0]).upper()
            if command in ("GET", "MGET") and self.after_reads:
                self.after_reads.pop(0)()
            if command == "EXEC":
                self.exec_replies.append(reply)
                if self.after_execs:
                    self.after_execs.pop(0)()
                time.sleep(random.uniform(0, self.slow_exec))
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


def transfer(answer):
    expect(callable(answer), "expected a function transfer(pool, source, target, amount)")
    url = config.load(argv=[]).redis_url
    prefix = f"check07:{random.getrandbits(48):x}:"
    accounts = [prefix + name for name in ("alice", "bob", "carol")]
    start = dict(zip(accounts, random.sample(range(500, 5000), 3)))  # balances the notebook never shows
    admin, pool = redisdb.connect(url), _Watched(url)
    with cleaning(lambda: _close(pool, admin, accounts)):
        admin.mset(start)
        pool.warm_up()  # two idle connections, handed out in turn: a command per get lands on the other one
        _transfers(answer, pool, admin, accounts, start)


def _close(pool, admin, keys) -> None:
    """The check's pool and client closed, its keys deleted."""
    pool.close()
    admin.delete(*keys)
    admin.close()


def _transfers(answer, pool, admin, accounts, start):
    balance, calls = dict(start), 0
    for source, target, bump in ((0, 1, 0), (1, 0, 0), (2, 1, random.randint(1, 9))):  # one at a time
        source, target, amount = accounts[source], accounts[target], random.randint(2, 400)
        # the last call: another client adds to the source right after the answer's EXEC is answered
        pool.after_execs = [lambda key=source, by=bump: admin.incrby(key, by)] if bump else []
        got = _call(answer, pool, source, target, amount)
        pool.after_execs = []
        calls += 1
        _one_transaction_each(pool, calls)
        balance[source] -= amount
        balance[target] += amount
        expect(
            isinstance(got, (list, tuple)) and [int(x) for x in got] == [balance[source], balance[target]],
            f"transfer(pool, source, target, {amount}) returned {got!r}: it should return the two new balances, "
            "the source's then the target's, as the transaction's EXEC answered them"
            + (": another client changed the source right after your EXEC" if bump else ""),
        )
        balance[source] += bump
    jobs = [(random.sample(accounts, 2), random.randint(1, 50)) for _ in range(90)]
    for (source, target), amount in jobs:
        balance[source] -= amount
        balance[target] += amount
    pool.slow_exec = 0.003  # EXEC's reply comes late, as over a network: the other connection runs meanwhile
    with ThreadPoolExecutor(6) as threads:  # more callers than the pool's two connections
        results = list(threads.map(lambda job: _call(answer, pool, job[0][0], job[0][1], job[1]), jobs))
    _one_transaction_each(pool, calls + len(jobs))
    final = dict(zip(accounts, (int(v) for v in admin.mget(accounts))))
    expect(
        final == balance,
        f"after {len(jobs)} transfers from 6 threads at once the balances are off by "
        f"{ {k.rsplit(':', 1)[1]: final[k] - balance[k] for k in accounts} }: a transfer must move exactly "
        "`amount` from `source` to `target`",
    )
    _returned_what_exec_answered(
        pool, results, "with 6 threads at once, another client may change an account right after your EXEC"
    )


def _returned_what_exec_answered(pool, results, why):
    """Every balance pair an answer returned is one some EXEC answered."""
    replies = {tuple(int(x) for x in reply) for reply in pool.exec_replies if reply}
    expect(
        all(tuple(int(x) for x in got) in replies for got in results if got is not None),
        f"some returned balances are not what an EXEC answered: {why}, so return EXEC's reply",
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


def safe_transfer(answer):
    expect(callable(answer), "expected a function safe_transfer(pool, source, target, amount)")
    url = config.load(argv=[]).redis_url
    prefix = f"check07:{random.getrandbits(48):x}:"
    rich, poor = [prefix + f"rich{i}" for i in range(3)], [prefix + f"poor{i}" for i in range(4)]
    admin, pool = redisdb.connect(url), _Watched(url, slow_read=0.006)
    with cleaning(lambda: _close(pool, admin, [*rich, *poor])):
        pool.warm_up()
        _refuses_what_is_not_there(answer, pool, admin, rich[0], rich[1])
        _retries_after_a_conflict(answer, pool, admin, rich[2], rich[1])
        _never_overdraws(answer, pool, admin, rich, poor)


def _refuses_what_is_not_there(answer, pool, admin, source, target):
    """One call at a time: too much is refused, less moves, the whole balance moves, then nothing is left."""
    balance = dict(zip((source, target), random.sample(range(100, 900), 2)))
    admin.mset(balance)
    have = balance[source]
    for amount in (have + random.randint(1, 50), random.randint(1, have // 2), None, 1):
        amount = amount or balance[source]  # None: exactly what is left
        moves = amount <= balance[source]
        before = len(pool.exec_replies)
        got = _call(answer, pool, source, target, amount)
        _played_by_the_rules(pool)
        _wrote_once_per_transfer(pool, before, int(got is not None), f"one call with {amount}")
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


def _retries_after_a_conflict(answer, pool, admin, source, target):
    """Another client spends from the source right after a read is answered: once, and the transfer still fits;
    twice, and the second time it no longer does; once, and at once it no longer does. Each spend makes the
    answer's EXEC fail (WATCH saw it), so only a WATCH sent before the read keeps the source above zero."""
    for leaves in (["enough"], ["enough", "too little"], ["too little"]):
        have = random.randint(300, 900)
        admin.mset({source: have, target: random.randint(100, 900)})
        amount, costs, left_then = random.randint(have // 4, have // 2), [], have
        for what in leaves:  # "too little" leaves between amount - 20 and amount - 1: still not below zero
            costs.append(
                random.randint(1, 20) if what == "enough" else left_then - amount + random.randint(1, 20)
            )
            left_then -= costs[-1]
        pool.after_reads = [lambda cost=cost: admin.decrby(source, cost) for cost in costs]
        before = len(pool.exec_replies)
        got = _call(answer, pool, source, target, amount)
        spent = sum(costs[: len(costs) - len(pool.after_reads)])  # the spends that ran: one per read answered
        pool.after_reads = []
        _played_by_the_rules(pool)
        _wrote_once_per_transfer(pool, before, int(got is not None), f"one call with {amount}")
        left = int(admin.get(source))
        expect(
            left >= 0,
            f"the source ended at {left}: another client spent from it while your transfer tried again, and "
            "your retry moved the money anyway. Which of your commands still hold after an EXEC, even one that fails?"
            if leaves != ["too little"]
            else f"the source ended below zero ({left}): another client spent from it right after your read, "
            "leaving too little, and your EXEC moved the money anyway. What makes the server refuse an EXEC "
            "when the balance changed after you read it?",
        )
        fits = amount <= have - spent
        expect(
            (got is not None) == fits,
            f"safe_transfer(pool, source, target, {amount}) returned {got!r} after another client spent from the "
            f"source right after your read, leaving {have - spent}: "
            + (
                "enough still, so it should try again and move it"
                if fits
                else "too little now, so it should read again and refuse"
            ),
        )
        if fits:
            _returned_what_exec_answered(pool, [got], "another client changed the source after you read it")


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
    before = len(pool.exec_replies)
    with ThreadPoolExecutor(6) as threads:
        results = list(threads.map(lambda job: _call(answer, pool, *job), jobs))
    _played_by_the_rules(pool)
    _wrote_once_per_transfer(pool, before, sum(got is not None for got in results), f"{len(jobs)} calls")
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
    _returned_what_exec_answered(
        pool, results, "another client may have changed an account after you read it"
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


def _wrote_once_per_transfer(pool, before, transfers, calls):
    """One EXEC that wrote per transfer that returned balances, none for a refused one: a refusal that moves the
    money and moves it back ends right, but another client could read the overdrawn balance in between."""
    wrote = sum(1 for reply in pool.exec_replies[before:] if reply)  # an aborted EXEC answers None
    expect(
        wrote == transfers,
        f"{calls}: {transfers} returned balances, and {wrote} transactions wrote. A transfer writes once, "
        "and a refused one writes nothing: moving the money and moving it back leaves the source below zero "
        "for a moment, where another client can read it. Check the balance before MULTI, not after EXEC",
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
