"""Slow down password guessing: bounded failed sign-ins per client address, and per client and name.

The per-client bound holds across all names, so spraying a new name each time is limited too. Counts live in
the database (``heaters.db.kv``), so every web process shares them. Checked before any password is hashed: a
throttled attempt costs two small queries.
"""

from __future__ import annotations

import time

from heaters.db import kv


class LoginThrottle:
    """Allow ``per_name`` failures per client and name, and ``per_client`` per client, each ``window`` seconds."""

    def __init__(self, per_name: int = 5, per_client: int = 20, window: float = 300.0) -> None:
        self.per_name = per_name
        self.per_client = per_client
        self.window = window

    def _keys(self, client: str, name: str) -> list[tuple[str, int]]:
        return [(f"signin:{client}", self.per_client), (f"signin:{client}:{name.lower()[:150]}", self.per_name)]

    async def retry_after(self, client: str, name: str) -> float:
        """Seconds until this client may try this name again (0: it may try now)."""
        wait = 0.0
        for key, limit in self._keys(client, name):
            count, ends = await kv.count(key)
            if count >= limit:
                wait = max(wait, ends - time.time())
        return max(0.0, wait)

    async def failed(self, client: str, name: str) -> None:
        for key, _ in self._keys(client, name):
            await kv.hit(key, self.window)

    async def succeeded(self, client: str, name: str) -> None:
        """Forget the failures for this name (the client's overall count stays)."""
        await kv.reset(self._keys(client, name)[1][0])
