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
    def connections_needed(requests_per_second, query_ms, utilisation=0.8):
        # Little's law: connections busy at once = arrival rate x time each holds one; a pool of c connections
        # is busy busy/c of the time, so the smallest c with busy <= utilisation * c, rounded up
        busy = requests_per_second * query_ms / 1000
        return math.ceil(busy / utilisation)

    return connections_needed


SOLUTIONS = {"08.query_all": query_all, "08.connections_needed": connections_needed}
