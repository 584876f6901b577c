"""Claiming a row for one stage: a conditional UPDATE with a lease, fenced by the attempt counter.

A stage claims its row by moving it from the *ready* state to the *working* state (or keeping the state, for
stages without a working state of their own) with ``lease_until`` in the future and ``attempts + 1``. The
UPDATE's WHERE clause makes the claim atomic in every database: of two workers holding the same message, one
gets the row back and the other gets nothing and stops. A working row whose lease has expired belonged to a
worker that died; it can be claimed again.

The attempt number taken by the claim is the fencing token: every later write (lease renewal, progress,
result) is conditional on ``attempts`` still being that number, so a worker that lost its lease to another one
can no longer change the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from heaters.errors import Abandoned
from heaters.services.review import now


@dataclass
class Claim:
    """A row held by this worker: ``row`` is its content right after the claim."""

    table: Any  # SourceVideo or Clip: both have state, attempts, lease_until, updated_at, error
    row_id: int
    ready: str
    working: str
    attempts: int
    lease_seconds: float
    row: dict[str, Any]
    progress: dict[str, Any] | None = field(default=None)
    # Set once this worker learns the row is no longer its own; read by media threads between frames.
    lost: threading.Event = field(default_factory=threading.Event)

    def _mine(self) -> Any:
        t = self.table
        return (t.id == self.row_id) & (t.state == self.working) & (t.attempts == self.attempts)

    async def renew(self) -> bool:
        """Extend the lease (and write the latest progress, for videos); False if the row is no longer ours."""
        t = self.table
        values: dict[Any, Any] = {t.lease_until: now() + timedelta(seconds=self.lease_seconds)}
        if self.progress is not None and hasattr(t, "progress"):
            values[t.progress] = dict(self.progress)
        return bool(await t.update(values).where(self._mine()).returning(t.id))

    def check(self, stopped: str | None = None) -> None:
        """Raise ``Abandoned`` if the heartbeat found the lease gone (callable from any thread); ``stopped``
        says how far the work got ("encode stopped after N frames"), in the media loops' own words."""
        if self.lost.is_set():
            where = f"{self.table._meta.tablename} {self.row_id}"
            raise Abandoned(
                f"{stopped} ({where}): another worker took the lease over" if stopped
                else f"{where}: another worker took the lease over",
                "nothing to do: the other worker carries on",
            )

    async def ensure_held(self) -> None:
        """Renew the lease now and raise ``Abandoned`` if it is gone: called before every write of results,
        so a worker that lost its row never writes anything."""
        self.check()
        if not await self.renew():
            self.lost.set()
            self.check()

    async def finish(self, state: str, **fields: Any) -> bool:
        """Write the result and move to ``state``, releasing the lease; False if the row is no longer ours."""
        t = self.table
        # The next stage starts with a fresh attempt budget.
        values: dict[Any, Any] = {
            t.state: state, t.lease_until: None, t.updated_at: now(), t.error: "", t.attempts: 0,
        }
        for name, value in fields.items():
            values[getattr(t, name)] = value
        return bool(await t.update(values).where(self._mine()).returning(t.id))

    async def fail(self, state: str, error: str, *, retry_at: datetime | None = None, refund: bool = False) -> bool:
        """Leave the row in ``state`` with ``error``; ``retry_at`` is the earliest time the dispatcher may
        send it again; ``refund`` gives the attempt back (waiting on something that is not a failure)."""
        t = self.table
        values: dict[Any, Any] = {t.state: state, t.error: error[:2000], t.lease_until: retry_at, t.updated_at: now()}
        if refund:
            values[t.attempts] = self.attempts - 1
        return bool(await t.update(values).where(self._mine()).returning(t.id))


async def claim(
    table: Any, row_id: int, *, ready: str, working: str, lease_seconds: float
) -> Claim | None:
    """Take ``row_id`` for a stage, or return None if it is not ready (done, taken, superseded, gone)."""
    t = table
    stamp = now()
    if ready == working:
        # No working state of its own: the lease alone says the row is taken.
        available = (t.state == ready) & (t.lease_until.is_null() | (t.lease_until < stamp))
    else:
        expired = (t.state == working) & (t.lease_until.is_null() | (t.lease_until < stamp))
        available = (t.state == ready) | expired
    rows = await t.update(
        {t.state: working, t.lease_until: stamp + timedelta(seconds=lease_seconds), t.attempts: t.attempts + 1,
         t.updated_at: stamp}
    ).where((t.id == row_id) & available).returning(*t._meta.columns)
    if not rows:
        return None
    row = rows[0]
    return Claim(t, row_id, ready, working, int(row["attempts"]), lease_seconds, row)


@contextlib.asynccontextmanager
async def heartbeat(held: Claim, interval: float | None = None) -> AsyncIterator[Callable[[], bool]]:
    """Renew the lease in the background while the block runs (hours-long encodes outlive any fixed lease).

    When a renewal finds the row taken over by another worker, ``held.lost`` is set: media work checks it
    between frames and stops with ``Abandoned``, and ``held.ensure_held`` refuses every later write.
    Yields a function telling whether the lease is still held.
    """
    period = interval if interval is not None else max(0.2, min(1.0, held.lease_seconds / 3))
    state = {"held": True}

    async def beat() -> None:
        while True:
            await asyncio.sleep(period)
            try:
                state["held"] = await held.renew()
            except Exception:  # a missed beat is not fatal: the lease has slack for a few
                continue
            if not state["held"]:
                held.lost.set()
                return

    task = asyncio.create_task(beat())
    try:
        yield lambda: state["held"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
