"""Sign-in throttling: at most ``limit`` failed attempts per ``window`` seconds for each key (a participant
name, a client address), so that guessing the workshop code or a password goes at a few tries a minute
instead of hundreds a second."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class Throttle:
    def __init__(self, limit: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def wait(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` may try again; 0: now."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            failures = self._failures[key]
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.limit:
                longest = max(longest, failures[0] + self.window - now)
        return longest

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._failures[key].append(now)
