"""Slow down password guessing: a bounded number of failed logins per client and name in a time window.

Kept in the server process's memory: enough for one web process, and the slow password hash already limits
guessing across several; a shared store would be the next step for many web processes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Allow ``limit`` failures per key within ``window`` seconds; refuse further tries until the oldest ages out."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: it may try now)."""
        failures = self._recent(key)
        if len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[0] + self.window - self.clock())

    def failed(self, key: str) -> None:
        self._recent(key).append(self.clock())
        if len(self._failures) > 10_000:  # bound memory under a spray of names
            for stale in [k for k in self._failures if not self._recent(k)]:
                del self._failures[stale]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] + self.window <= self.clock():
            failures.popleft()
        return failures
