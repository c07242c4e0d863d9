"""Solutions to the exercises of notebook 11. The test suite runs each through its check."""

import json
import os
from pathlib import Path

PREFIX = "FOUNDATIONS_"


def resolve():
    def resolve(name, default, flags, environ, file):
        if name in flags:
            return flags[name], "flag"
        if PREFIX + name.upper() in environ:
            return environ[PREFIX + name.upper()], "env"
        if name in file:
            return file[name], "file"
        return default, "default"

    return resolve


def worker_counters():
    class WorkerCounters:
        """One file per process, written by that process alone (no lock between processes); a reader adds
        every file up, so the counts of a worker that has exited stay."""

        def __init__(self, folder):
            self.folder = Path(folder)
            self.counts = {}

        def count(self, name):
            self.counts[name] = self.counts.get(name, 0) + 1
            mine = self.folder / f"worker-{os.getpid()}.json"
            partial = mine.with_suffix(".tmp")
            partial.write_text(json.dumps(self.counts))
            os.replace(partial, mine)  # a reader sees the old file or the new one, never half of one

        def totals(self):
            total = {}
            for path in self.folder.glob("worker-*.json"):
                for name, value in json.loads(path.read_text()).items():
                    total[name] = total.get(name, 0) + value
            return total

    return WorkerCounters


SOLUTIONS = {"11.resolve": resolve, "11.worker_counters": worker_counters}
