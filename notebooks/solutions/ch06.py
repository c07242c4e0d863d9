"""Solutions to the exercises of notebook 06. The test suite runs each through its check."""

import math

from foundations import fetch


def fetch_all():
    def fetch_all(urls):
        http = fetch.session()
        return fetch.fan_out(http, urls, pool_size=len(urls))

    return fetch_all


def predicted_ms():
    def predicted_ms(calls, delay_ms, pool_size):
        return math.ceil(calls / pool_size) * delay_ms

    return predicted_ms


SOLUTIONS = {"06.fetch_all": fetch_all, "06.predicted_ms": predicted_ms}
