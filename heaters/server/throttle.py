"""Slow down password guessing: bounded failed sign-ins per client address, per client and name, and per name.

The per-client bound holds across all names, so spraying a new name each time is limited too; the per-name
bound holds across all clients, so guessing one account's password from many addresses is limited as well.
It is set well above the per-client-and-name bound: its price is that someone sending that many wrong
passwords from several addresses keeps the account from signing in anew until the window ends (sessions
already signed in are untouched), a lesser evil than an unbounded guessing rate. Counts live in
the database (``heaters.db.kv``), so every web process shares them. An attempt is counted before its password
is hashed (and taken back if it succeeds), so a burst of guesses sent at once is held to the bounds too. A
block, once seen, is remembered in this process until it ends (a block is never lifted early), so a flood of
attempts from a throttled client is answered from memory and costs the database nothing.
"""

from __future__ import annotations

import time

from heaters.db import kv

BLOCKS_REMEMBERED = 10_000  # bounds the memory a spray of client addresses can take


class LoginThrottle:
    """Allow ``per_name`` failures per client and name, ``per_client`` per client and ``per_account`` per name
    from all clients, each ``window`` seconds."""

    def __init__(self, per_name: int = 5, per_client: int = 20, per_account: int = 50, window: float = 300.0) -> None:
        self.per_name = per_name
        self.per_client = per_client
        self.per_account = per_account
        self.window = window
        self._blocked: dict[str, float] = {}  # key -> when its block ends (time.time())

    def _keys(self, client: str, name: str) -> list[tuple[str, int]]:
        name = name.lower()[:150]
        return [
            (f"signin:{client}", self.per_client), (f"signin:{client}:{name}", self.per_name),
            (f"signin-account:{name}", self.per_account),
        ]

    async def retry_after(self, client: str, name: str) -> float:
        """Seconds until this client may try this name again (0: it may try now)."""
        now = time.time()
        keys = self._keys(client, name)
        known = max((self._blocked.get(key, 0.0) for key, _ in keys), default=0.0)
        if known > now:
            return known - now
        wait = 0.0
        for key, limit in keys:
            count, ends = await kv.count(key)
            if count >= limit and ends > now:
                self._remember(key, ends, now)
                wait = max(wait, ends - now)
        return wait

    def _remember(self, key: str, ends: float, now: float) -> None:
        if len(self._blocked) >= BLOCKS_REMEMBERED:
            self._blocked = {k: v for k, v in self._blocked.items() if v > now}
        if len(self._blocked) < BLOCKS_REMEMBERED:
            self._blocked[key] = ends

    async def attempt(self, client: str, name: str) -> float:
        """Count a sign-in attempt before its password is checked: the seconds to wait if it is over a bound
        (0: check the password)."""
        wait = await self.retry_after(client, name)  # a block already reached costs no count
        if wait:
            return wait
        now = time.time()
        for key, limit in self._keys(client, name):
            count, ends = await kv.hit(key, self.window)
            if count > limit and ends > now:  # others got in first
                self._remember(key, ends, now)
                wait = max(wait, ends - now)
        return wait

    async def succeeded(self, client: str, name: str) -> None:
        """Forget this client's failures for this name, and take this attempt back from the client's and the
        name's counts (their other failures stay: a success does not clear what others tried)."""
        per_client, per_name, per_account = self._keys(client, name)
        await kv.reset(per_name[0])
        await kv.take_back(per_client[0])
        await kv.take_back(per_account[0])
