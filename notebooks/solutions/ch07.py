"""Solutions to the exercises of notebook 07. The test suite runs each through its check."""

import binascii
import hashlib
import math
import time


def worst_gap():
    def worst_gap(seconds):
        # spin on an elapsed-time clock (perf_counter counts on while this thread cannot run; a CPU-time
        # clock would not): the longest gap between two reads is the longest time the loop could not run
        end = time.perf_counter() + seconds
        last = time.perf_counter()
        worst = 0.0
        while last < end:
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now
        return worst * 1_000_000

    return worst_gap


def key_router():
    def pick(key, weights):
        # weighted rendezvous hashing: every server scores the key and the highest score wins. A stable hash
        # (not hash(), salted per process) of server name and key gives u, uniform in (0, 1); -weight / ln(u)
        # is the highest for a server with probability weight / total weight (a server of weight 2 wins as
        # often as two of weight 1 would). Scores depend on the server's own name and weight only, so a new
        # server only takes keys, a leaving one only gives its own, and the order of `weights` is irrelevant.
        def score(name):
            digest = hashlib.blake2b(f"{name}\0{key}".encode(), digest_size=8).digest()
            u = (int.from_bytes(digest, "big") + 1) / (2**64 + 1)
            return -weights[name] / math.log(u)

        return max(weights, key=score)

    return pick


def hash_slot():
    def hash_slot(key):
        raw = key.encode()
        start = raw.find(b"{")
        end = raw.find(b"}", start + 1) if start != -1 else -1
        if end > start + 1:  # a tag, and not an empty one: hash only what is inside
            raw = raw[start + 1 : end]
        return binascii.crc_hqx(raw, 0) % 16384  # crc_hqx is the CRC16 (XMODEM) Redis uses

    return hash_slot


def transfer():
    def transfer(pool, source, target, amount):
        with pool.resource() as conn:  # one connection for the whole transaction, given back after
            conn.execute_command("MULTI")
            conn.execute_command("DECRBY", source, amount)  # queued: the server answers QUEUED
            conn.execute_command("INCRBY", target, amount)
            return conn.execute_command("EXEC")  # both changes at once: the two new balances

    return transfer


def safe_transfer():
    def safe_transfer(pool, source, target, amount):
        with pool.resource() as conn:
            while True:
                conn.execute_command("WATCH", source)  # EXEC fails if the source changes from here on
                if int(conn.execute_command("GET", source) or 0) < amount:
                    conn.execute_command(
                        "UNWATCH"
                    )  # the next user of this connection watches nothing of ours
                    return None
                conn.execute_command("MULTI")
                conn.execute_command("DECRBY", source, amount)
                conn.execute_command("INCRBY", target, amount)
                balances = conn.execute_command("EXEC")
                if balances is not None:  # None: the source changed after we read it; read it again
                    return balances

    return safe_transfer


SOLUTIONS = {
    "07.worst_gap": worst_gap,
    "07.key_router": key_router,
    "07.hash_slot": hash_slot,
    "07.transfer": transfer,
    "07.safe_transfer": safe_transfer,
}
