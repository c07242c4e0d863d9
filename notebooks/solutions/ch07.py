"""Solutions to the exercises of notebook 07. The test suite runs each through its check."""

import binascii
import hashlib
import time


def worst_gap():
    def worst_gap(seconds):
        # spin on the wall clock; the longest gap between two reads is the longest time the loop could not run
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
    def pick(key, urls):
        # rendezvous hashing: every server scores the key, the highest wins; a new server only takes the keys
        # it now scores highest, and a stable hash gives the same answer in every process
        def score(url):
            return hashlib.blake2b(f"{url}\0{key}".encode(), digest_size=8).digest()

        return max(urls, key=score)

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


SOLUTIONS = {
    "07.worst_gap": worst_gap,
    "07.key_router": key_router,
    "07.hash_slot": hash_slot,
}
