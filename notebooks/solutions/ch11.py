"""Solutions to the exercises of notebook 11. The test suite runs each through its check."""

import json
import os
import threading
from pathlib import Path

PREFIX = "FOUNDATIONS_"


def resolve():
    def convert(kind, value, where):
        """``value`` as ``kind``: text as typed, or a TOML value; a ValueError that says where it was typed."""
        # a TOML value is read by its text under the same rules, as the server reads it: port = -80 has a sign,
        # and port = true is no number, though isinstance(True, int) holds in Python
        text = str(value)
        if kind is str:
            return text
        text = text.strip().lower()
        if kind is int and text.isascii() and text.isdigit():  # isdigit() alone takes "٨٠"
            return int(text)
        if kind is bool and text in ("true", "false", "1", "0"):
            return text in ("true", "1")
        raise ValueError(
            f"{where}={value!r}: expected {'a whole number' if kind is int else 'true or false'}"
        )

    def resolve(name, kind, default, flags, environ, file):
        variable = PREFIX + name.upper()
        if name in flags:
            return convert(kind, flags[name], "--" + name.replace("_", "-")), "flag"
        if variable in environ:  # set counts, even when empty
            return convert(kind, environ[variable], variable), "env"
        if name in file:
            return convert(kind, file[name], f"config file, {name}"), "file"
        return default, "default"

    return resolve


def worker_counters():
    class WorkerCounters:
        """One file per process, written by that process alone (no lock between processes); a reader adds
        every file up, so the counts of a worker that has exited stay."""

        def __init__(self, folder):
            self.folder = Path(folder)
            self.mine = self.folder / f"worker-{os.getpid()}.json"
            # counts already saved under this pid stay (another WorkerCounters of this process made it)
            self.counts = json.loads(self.mine.read_text()) if self.mine.exists() else {}
            self.lock = threading.Lock()  # a worker's threads share its counts and its file

        def count(self, name):
            with self.lock:
                self.counts[name] = self.counts.get(name, 0) + 1
                partial = self.mine.with_suffix(".tmp")
                partial.write_text(json.dumps(self.counts))
                os.replace(partial, self.mine)  # a reader sees the old file or the new one, never half of one

        def totals(self):
            total = {}
            for path in self.folder.glob("worker-*.json"):
                for name, value in json.loads(path.read_text()).items():
                    total[name] = total.get(name, 0) + value
            return total

    return WorkerCounters


def allowed():
    import hmac
    import ipaddress

    forwarded = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")  # what a proxy adds

    def allowed(environ, enabled, tokens):
        if enabled:
            return True
        sent = environ.get("HTTP_AUTHORIZATION", "").encode()  # bytes: any header compares, é included
        # every token compared, each in constant time; an empty one stands for no token, not for ""
        matches = [hmac.compare_digest(sent, f"Bearer {token}".encode()) for token in tokens if token]
        if any(matches):
            return True
        if any(header in environ for header in forwarded):
            return False
        try:
            address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return (getattr(address, "ipv4_mapped", None) or address).is_loopback  # ::ffff:127.0.0.1 too

    return allowed


SOLUTIONS = {"11.resolve": resolve, "11.worker_counters": worker_counters, "11.allowed": allowed}
