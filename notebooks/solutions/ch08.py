"""Solutions to the exercises of notebook 08. The test suite runs each through its check."""

import math
from concurrent.futures import ThreadPoolExecutor


def query_all():
    def query_all(pool, queries):
        def run(sql):
            with pool.connection() as conn, conn.cursor() as cur:  # the book's SqlxGetConnection / Release
                cur.execute(sql)
                return cur.fetchall()

        # one thread per connection: more threads would only wait for the pool (and past its timeout, fail);
        # map() returns the results in the order of `queries`, whichever finishes first
        with ThreadPoolExecutor(max_workers=pool.status()["size"]) as threads:
            return list(threads.map(run, queries))

    return query_all


def connections_needed():
    def connections_needed(requests_per_second, query_ms):
        # Little's law: queries in flight = arrival rate x time each holds its connection; round up
        return math.ceil(requests_per_second * query_ms / 1000)

    return connections_needed


SOLUTIONS = {"08.query_all": query_all, "08.connections_needed": connections_needed}
