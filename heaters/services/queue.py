"""Hand work to the pipeline without importing the actors.

Services name a stage; the message is built by actor name so this layer stays below ``heaters.actors``. When no
broker is configured (tests, one-off CLI commands without Redis) nothing is sent: the dispatcher finds the row
in its ready state on its next tick, because the database, not the queue, is the source of truth.

For the same reason a broker that fails (Redis down) never fails the caller: the work is already committed, so
the failure is logged once per outage and the dispatcher delivers the message later.
"""

from __future__ import annotations

import logging
from typing import Any

from heaters import pipeline

log = logging.getLogger(__name__)

# stage -> (actor name, queue name), from the pipeline table.
STAGES: dict[str, tuple[str, str]] = {s.name: (s.actor, s.queue) for s in pipeline.STAGES}

_broker: Any = None
_outage = False  # whether the last send failed (log only the first failure of an outage)


def set_broker(broker: Any) -> None:
    """Route ``enqueue`` to ``broker`` (a Dramatiq broker), or switch it off with ``None``."""
    global _broker
    _broker = broker


def enqueue(stage: str, row_id: int, *, delay_ms: int | None = None) -> bool:
    """Send ``row_id`` to ``stage``; return whether a message went out (False also when the broker failed)."""
    global _outage
    if _broker is None:
        return False
    import dramatiq

    actor_name, queue_name = STAGES[stage]
    options: dict[str, Any] = {}
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_name, actor_name=actor_name, args=(row_id,), kwargs={}, options=options
    )
    try:
        _broker.enqueue(message, delay=delay_ms)
    except Exception as exc:  # whatever the client raises (connection, timeout, OOM): the row is committed
        if not _outage:
            log.warning("the task queue is unreachable (%s: %s); the dispatcher will send queued work",
                        type(exc).__name__, exc)
        _outage = True
        return False
    if _outage:
        log.info("the task queue is reachable again")
    _outage = False
    return True


def enqueue_next(stage: str, row_id: int) -> bool:
    """Send ``row_id`` on to the stage after ``stage`` in the pipeline table (nothing after the last)."""
    following = pipeline.stage(stage).next
    return enqueue(following, row_id) if following else False
