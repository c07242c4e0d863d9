"""Solutions to the exercises of notebook 07. The test suite runs each through its check."""

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


SOLUTIONS = {"07.requests_per_second": requests_per_second, "07.key_router": key_router}
