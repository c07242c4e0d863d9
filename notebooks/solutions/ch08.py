"""Solutions to the exercises of notebook 08. The test suite runs each through its check."""

import heapq
import math
import random
from concurrent.futures import ThreadPoolExecutor


def query_all():
    def query_all(pool, queries):
        def run(sql):
            with pool.connection() as conn, conn.cursor() as cur:  # the book's SqlxGetConnection / Release
                cur.execute(sql)
                return cur.fetchall()

        # one thread per connection: more threads would only wait for the pool (and past its timeout, fail);
        # map() returns the results in the order of `queries`, whichever finishes first; a query's error comes
        # out of list(), and leaving the `with` waits for the other queries, so every connection is back first
        with ThreadPoolExecutor(max_workers=pool.status()["size"]) as threads:
            return list(threads.map(run, queries))

    return query_all


def connections_needed():
    def connections_needed(requests_per_second, query_ms, max_wait_ms):
        def mean_wait_ms(utilisation, connections, queries=50_000, seed=8):
            # the notebook's simulation: a heap of the times each connection becomes free
            rng, total, now = random.Random(seed), 0.0, 0.0
            free_at = [0.0] * connections
            for _ in range(queries):
                now += rng.expovariate(utilisation * connections / query_ms)
                start = max(now, heapq.heappop(free_at))
                heapq.heappush(free_at, start + query_ms)
                total += start - now
            return total / queries

        # Little's law: rate x query time connections are busy on average; fewer can never keep up
        busy = requests_per_second * query_ms / 1000
        connections = math.floor(busy) + 1
        while mean_wait_ms(busy / connections, connections) > max_wait_ms:
            connections += 1
        return connections

    return connections_needed


SOLUTIONS = {"08.query_all": query_all, "08.connections_needed": connections_needed}
