"""Dramatiq actors: one thin actor per pipeline stage, on the queues named in ``heaters.services.queue``.

Each actor only hands its row id to the stage function (``heaters.services.stages``), which does the claiming,
the work and the bookkeeping. ``setup(settings)`` builds the broker with the middleware the stages need (an
event loop for async actors, a database connection held for the life of the worker process) and declares the
actors on it; ``heaters.actors.worker`` runs them.
"""

from __future__ import annotations

import logging
from typing import Any

from heaters.actors.policy import actor_options, retry_options
from heaters.actors.runtime import DatabaseMiddleware, context, set_context
from heaters.services import queue
from heaters.services.stages import STAGE_FUNCTIONS, StageContext
from heaters.settings import Settings

__all__ = ["declare_actors", "setup"]
log = logging.getLogger(__name__)


def setup(settings: Settings, broker: Any | None = None) -> Any:
    """A broker with every stage actor declared, also used by ``heaters.services.queue.enqueue``."""
    from dramatiq.middleware import AgeLimit, AsyncIO, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

    from heaters.services.broker import create_broker

    if broker is None:
        middleware = [
            AsyncIO(), AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
            Retries(**retry_options(settings)), DatabaseMiddleware(settings),
        ]
        broker = create_broker(settings, middleware=middleware)
    set_context(StageContext.from_settings(settings))
    declare_actors(broker, settings)
    queue.set_broker(broker)
    return broker


def declare_actors(broker: Any, settings: Settings) -> dict[str, Any]:
    """Declare one actor per stage on ``broker``; return them by stage name."""
    import dramatiq

    actors = {}
    for stage, (actor_name, queue_name) in queue.STAGES.items():
        decorate = dramatiq.actor(
            broker=broker, actor_name=actor_name, queue_name=queue_name, **actor_options(stage, settings)
        )
        actors[stage] = decorate(_stage_actor(stage))
    return actors


def _stage_actor(stage: str) -> Any:
    function = STAGE_FUNCTIONS[stage]

    async def run(row_id: int) -> None:
        outcome = await function(context(), row_id)
        log.info("%s %s: %s", stage, row_id, outcome)

    run.__name__ = run.__qualname__ = f"{stage}_actor"
    run.__doc__ = f"Run the {stage} stage for row ``row_id`` (see heaters.services.stages)."
    return run
