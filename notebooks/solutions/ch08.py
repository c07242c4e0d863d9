"""Solutions to the exercises of notebook 08. The test suite runs each through its check."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


def setting():
    @dataclass
    class Setting:
        name: str = field(metadata={"db": "Variable_name"})
        value: int = field(metadata={"db": "Value"})

    return Setting


def parallel_sleeps():
    def parallel_sleeps(pool):
        def sleep(seconds):
            with pool.connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT SLEEP(%s)", (seconds,))
                return cur.fetchone()[0]

        with ThreadPoolExecutor(2) as threads:
            return list(threads.map(sleep, [0.1, 0.2]))

    return parallel_sleeps


SOLUTIONS = {"08.setting": setting, "08.parallel_sleeps": parallel_sleeps}
