"""Solutions to the exercises of notebook 07. The test suite runs each through its check."""

import zlib


def requests_per_second():
    def requests_per_second(latency_us):
        return 1_000_000 / latency_us

    return requests_per_second


def key_router():
    def pick(key, urls):
        return urls[zlib.crc32(key.encode()) % len(urls)]

    return pick


SOLUTIONS = {"07.requests_per_second": requests_per_second, "07.key_router": key_router}
