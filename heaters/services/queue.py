"""Hand work to the pipeline without importing the actors.

Services name a stage; the message is built by actor name so this layer stays below ``heaters.actors``. A
``TaskQueue`` is made where a broker is (the worker's actors, the web app's lifespan, a CLI command, the
console) and passed to what sends work; ``OFFLINE`` sends nothing. The database, not the queue, is the source
of truth: work is committed before its message goes out, and the dispatcher resends what the queue lost.

So a send that cannot go out (no broker configured, Redis down) never fails the caller. Instead the row is
marked due: its ``updated_at`` — which the dispatcher reads as "last sent" — is set a lease period back, so
the next dispatcher tick sends it, whoever is waiting for it (a new video, an approved clip).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from heaters import pipeline
from heaters.db.tables import STAGE_TABLES

log = logging.getLogger(__name__)

# stage -> (actor name, queue name), from the pipeline table.
STAGES: dict[str, tuple[str, str]] = {s.name: (s.actor, s.queue) for s in pipeline.STAGES}


class TaskQueue:
    """Sends stage messages to a Dramatiq broker (or to nobody, with ``broker=None``)."""

    def __init__(self, broker: Any | None = None, *, lease_seconds: int = 600) -> None:
        self.broker = broker
        self.lease_seconds = lease_seconds
        self._outage = False  # whether the last send failed (log only the first failure of an outage)

    def send(self, stage: str, row_id: int, *, delay_ms: int | None = None) -> bool:
        """Send ``row_id`` to ``stage``; whether a message went out (False also when the broker failed)."""
        if self.broker is None:
            return False
        import dramatiq

        actor_name, queue_name = STAGES[stage]
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_name, actor_name=actor_name, args=(row_id,), kwargs={}, options={}
        )
        try:
            self.broker.enqueue(message, delay=delay_ms)
        except Exception as exc:  # whatever the client raises (connection, timeout, OOM): the row is committed
            if not self._outage:
                log.warning("the task queue is unreachable (%s: %s); the dispatcher will send queued work",
                            type(exc).__name__, exc)
            self._outage = True
            return False
        if self._outage:
            log.info("the task queue is reachable again")
        self._outage = False
        return True

    async def enqueue(self, stage: str, row_id: int, *, delay_ms: int | None = None) -> bool:
        """``send``, and if nothing went out, mark the row due for the dispatcher's next tick."""
        if self.send(stage, row_id, delay_ms=delay_ms):
            return True
        if delay_ms is None:  # a delayed send is a backoff: the dispatcher's lease period is soon enough
            await self._mark_due(stage, row_id)
        return False

    async def enqueue_next(self, stage: str, row_id: int) -> bool:
        """Send ``row_id`` on to the stage after ``stage`` in the pipeline table (nothing after the last)."""
        following = pipeline.stage(stage).next
        return await self.enqueue(following, row_id) if following else False

    async def _mark_due(self, stage: str, row_id: int) -> None:
        t = STAGE_TABLES[pipeline.stage(stage).table]
        backdated = datetime.now(UTC) - timedelta(seconds=self.lease_seconds + 1)
        await t.update({t.updated_at: backdated}).where((t.id == row_id) & (t.state == pipeline.stage(stage).ready))

    def close(self) -> None:
        if self.broker is not None:
            self.broker.close()


OFFLINE = TaskQueue()


@contextlib.contextmanager
def reachable_queue(settings: Any) -> Iterator[TaskQueue]:
    """A queue to the configured Redis for one command, or an offline one when none is reachable."""
    from heaters.services.broker import try_broker

    tasks = TaskQueue(try_broker(settings), lease_seconds=settings.lease_seconds)
    try:
        yield tasks
    finally:
        tasks.close()
