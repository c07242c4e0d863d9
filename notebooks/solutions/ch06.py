"""Solutions to the exercises of notebook 06. The test suite runs each through its check."""

import time
from concurrent.futures import ThreadPoolExecutor, wait

import requests

from foundations import fetch


def fetch_all():
    def fetch_all(urls):
        http = fetch.session(pool_size=max(1, len(urls)))  # one Session, a kept connection per URL in flight
        with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:  # a thread per URL (and none is 0)
            return list(pool.map(lambda url: http.get(url, timeout=5).json(), urls))  # map keeps the order

    return fetch_all


def predicted_ms():
    def predicted_ms(delays_ms, pool_size):
        free_at = [0] * pool_size  # when each thread is free again
        for delay in delays_ms:  # in order, each call takes the thread that is free first
            thread = free_at.index(min(free_at))
            free_at[thread] += delay
        return max(free_at)

    return predicted_ms


def fetch_all_by():
    def fetch_all_by(urls, budget):
        deadline = time.monotonic() + budget  # the clock starts now, before any thread does
        http = fetch.session(pool_size=max(1, len(urls)))
        pool = ThreadPoolExecutor(max_workers=max(1, len(urls)))
        futures = [pool.submit(lambda url: http.get(url, timeout=budget).json(), url) for url in urls]
        pool.shutdown(wait=False)  # not `with`: leaving it would wait for every call, the trickling one too
        done, pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        if pending:  # the late calls' threads still read; the caller need not wait for them
            raise TimeoutError(f"{len(pending)} of {len(urls)} calls gave no answer within {budget} s")
        try:
            return [future.result() for future in futures]
        except requests.Timeout as exc:  # a call's own timeout= ran out just as the deadline came
            raise TimeoutError(f"a call gave no answer within {budget} s") from exc

    return fetch_all_by


SOLUTIONS = {"06.fetch_all": fetch_all, "06.predicted_ms": predicted_ms, "06.fetch_all_by": fetch_all_by}
