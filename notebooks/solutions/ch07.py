"""Solutions to the exercises of notebook 07. The test suite runs each through its check."""

import binascii
import hashlib


def requests_per_second():
    def requests_per_second(latency_us):
        return 1_000_000 / latency_us

    return requests_per_second


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
    "07.requests_per_second": requests_per_second,
    "07.key_router": key_router,
    "07.hash_slot": hash_slot,
}
