"""Solutions to the exercises of notebook 06. The test suite runs each through its check."""

import math
from concurrent.futures import ThreadPoolExecutor

from foundations import fetch


def fetch_all():
    def fetch_all(urls):
        http = fetch.session()  # one Session: its connections are reused, up to 20 open at once
        with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:  # a thread per URL (and none is 0)
            return list(pool.map(lambda url: http.get(url, timeout=5).json(), urls))  # map keeps the order

    return fetch_all


def predicted_ms():
    def predicted_ms(calls, delay_ms, pool_size):
        return math.ceil(calls / pool_size) * delay_ms

    return predicted_ms


SOLUTIONS = {"06.fetch_all": fetch_all, "06.predicted_ms": predicted_ms}
