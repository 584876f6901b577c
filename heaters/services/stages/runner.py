"""The frame every stage runs in: claim, scratch space, lease heartbeat, and what a failure does to the row.

* Not claimable (already done, taken by a live worker, superseded, deleted): nothing happens. This is what
  makes duplicate messages harmless and every stage idempotent.
* Claimed more than ``max_attempts`` times (workers keep dying on it): the row goes to its failed state.
* A permanent error (bad input, see ``context.PERMANENT``): the row goes to its failed state with the message.
  Failed clips carry a backoff time in ``lease_until``; the dispatcher sends them again until the cap.
* Any other error (storage, network, database): the row goes back to its ready state and the exception
  propagates, so the actor's retry policy sends the message again with backoff.
* The lease was taken over (``Abandoned``, or any error once ``held.lost`` is set): the work stops, nothing
  is written, the row is left to its new owner and the message is not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from heaters.db.tables import STAGE_TABLES
from heaters.errors import Abandoned, HeatersError
from heaters.pipeline import Stage
from heaters.services.review import now
from heaters.services.stages.context import StageContext, is_permanent
from heaters.services.stages.lease import Claim, claim, heartbeat

log = logging.getLogger(__name__)

Work = Callable[[Claim, Path], Awaitable[None]]
MAX_BACKOFF_SECONDS = 3600.0


def backoff_seconds(ctx: StageContext, attempts: int) -> float:
    """Exponential backoff for failed clips, starting at one dispatcher interval."""
    return min(MAX_BACKOFF_SECONDS, max(1.0, ctx.settings.dispatch_seconds) * 2 ** max(0, attempts - 1))


def describe(exc: BaseException) -> str:
    if isinstance(exc, HeatersError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def run_stage(ctx: StageContext, step: Stage, row_id: int, work: Work) -> str:
    """Run ``work`` on the row ``row_id`` of ``step``'s table once it is claimed; return what happened: done,
    skipped, abandoned, failed or gave_up. ``work`` writes the results and moves the row to ``step.done``."""
    settings = ctx.settings
    stage, ready, failed = step.name, step.ready, step.failed
    retry_failed = step.retry == "backoff"
    held = await claim(
        STAGE_TABLES[step.table], row_id, ready=ready, working=step.working, lease_seconds=settings.lease_seconds
    )
    if held is None:
        log.debug("%s %s: not claimable, nothing to do", stage, row_id)
        return "skipped"
    if held.attempts > settings.max_attempts:
        last = held.row.get("error") or "the worker stopped before finishing"
        await held.fail(failed, f"gave up after {held.attempts - 1} attempts; last error: {last}")
        log.warning("%s %s: gave up after %d attempts", stage, row_id, held.attempts - 1)
        return "gave_up"
    log.info("%s %s: attempt %d", stage, row_id, held.attempts)
    try:
        with ctx.scratch(stage, row_id, held.attempts) as scratch:
            async with heartbeat(held):
                await work(held, scratch)
    except Exception as exc:
        message = describe(exc)
        if isinstance(exc, Abandoned) or held.lost.is_set():
            log.warning("%s %s: lease lost, abandoned attempt %d: %s", stage, row_id, held.attempts, message)
            return "abandoned"
        if is_permanent(exc) or held.attempts >= settings.max_attempts:
            retry_at = now() + timedelta(seconds=backoff_seconds(ctx, held.attempts)) if retry_failed else None
            await held.fail(failed, message, retry_at=retry_at)
            log.warning("%s %s failed: %s", stage, row_id, message)
            return "failed"
        await held.fail(ready, message)
        log.warning("%s %s: transient error, will retry: %s", stage, row_id, message)
        raise
    return "done"
