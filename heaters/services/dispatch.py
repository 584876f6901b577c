"""The dispatcher tick: find work the queue may have lost and send it again.

Messages are only hints; the database says what is to be done. One tick:

* **ready rows** (in a stage's ready state, see ``heaters.pipeline``) untouched for a lease period are sent to
  their stage: their message was lost (Redis restarted, enqueued while no broker was reachable) or is still
  waiting behind a long queue;
* **working rows whose lease expired** belonged to a worker that died; they are sent again and the stage
  claims them back;
* **failed rows of backoff stages** (clips) whose backoff has passed and that have attempts left go back to
  their ready state.

Due rows are taken in pages of ``BATCH`` (by id): each page is sent and only the rows of that page are
marked, so a backlog larger than a page is sent whole in one tick and no row is marked without its message.
``updated_at`` is touched on every row sent, so a row waiting in a long queue is sent again at most once per
lease period, not on every tick. A row whose first message could not go out was dated a lease period back by
``TaskQueue.enqueue``, so it is due on the very next tick. Duplicates are harmless: a stage that cannot claim
its row does nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from heaters import pipeline
from heaters.db.tables import STAGE_TABLES
from heaters.services.queue import TaskQueue
from heaters.services.review import now
from heaters.settings import Settings

BATCH = 500


async def tick(settings: Settings, tasks: TaskQueue) -> dict[str, list[int]]:
    """Run one dispatcher pass sending to ``tasks``; return the row ids sent, by stage (plus ``revived``)."""
    sent: dict[str, list[int]] = {}
    stamp = now()
    quiet_since = stamp - timedelta(seconds=settings.lease_seconds)
    revived = await _revive_failed_clips(settings, tasks, stamp)
    if revived:
        sent["revived"] = revived
    for name, table in STAGE_TABLES.items():
        for state, stage in pipeline.dispatch_states(name):
            ids = await _send_due(tasks, table, state, stage.name, stamp, quiet_since)
            if ids:
                sent.setdefault(stage.name, []).extend(ids)
    return sent


async def _send_due(
    tasks: TaskQueue, table: Any, state: str, stage: str, stamp: object, quiet_since: object
) -> list[int]:
    """Send every due row in ``state`` to ``stage``, a page at a time; return the ids sent."""
    sent: list[int] = []
    after = 0
    while True:
        page = await _due_page(table, state, stamp, quiet_since, after)
        if not page:
            return sent
        after = page[-1]
        # Send first, then mark only what went out: what the queue refused is due again next tick.
        went = [row_id for row_id in page if tasks.send(stage, row_id)]
        if went:
            await _mark(table, went, stamp)
        sent.extend(went)
        if len(went) < len(page) or len(page) < BATCH:
            return sent


def _is_due(t: Any, state: str, stamp: object, quiet_since: object) -> Any:
    """No live lease and no change for a lease period."""
    return (
        (t.state == state) & (t.lease_until.is_null() | (t.lease_until < stamp)) & (t.updated_at < quiet_since)
    )


async def _due_page(table: Any, state: str, stamp: object, quiet_since: object, after: int) -> list[int]:
    t = table
    rows = await t.select(t.id).where(_is_due(t, state, stamp, quiet_since) & (t.id > after)).order_by(
        t.id
    ).limit(BATCH)
    return [int(row["id"]) for row in rows]


async def _mark(table: Any, ids: list[int], stamp: object) -> None:
    """Touch the rows just sent, so they wait a lease period before being sent again."""
    t = table
    await t.update({t.updated_at: stamp}).where(t.id.is_in(ids))


async def _revive_failed_clips(settings: Settings, tasks: TaskQueue, stamp: object) -> list[int]:
    """Failed rows of stages with ``retry="backoff"`` whose backoff has passed go back to ``retry_to``."""
    revived: list[int] = []
    for stage in pipeline.STAGES:
        if stage.retry != "backoff":
            continue
        t = STAGE_TABLES[stage.table]
        rows = await t.update({t.state: stage.retry_to, t.lease_until: None, t.updated_at: stamp}).where(
            (t.state == stage.failed)
            & (t.attempts < settings.max_attempts)
            & t.lease_until.is_not_null()
            & (t.lease_until < stamp)
        ).returning(t.id)
        ids = [row["id"] for row in rows]
        for row_id in ids:
            await tasks.enqueue(stage.name, row_id)
        revived.extend(ids)
    return revived
