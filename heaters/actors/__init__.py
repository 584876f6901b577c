"""Dramatiq actors: one thin actor per stage of the pipeline table (``heaters.pipeline``), on its queue.

Each actor only hands its row id to the stage function (``heaters.services.stages``), which does the claiming,
the work and the bookkeeping. ``setup(settings)`` builds the broker with the middleware the stages need (an
event loop for async actors, a database connection held for the life of the worker process) and declares the
actors on it; ``heaters.actors.worker`` runs them.
"""

from __future__ import annotations

import logging
from typing import Any

from heaters import pipeline
from heaters.actors.policy import actor_options, retry_options
from heaters.actors.runtime import DatabaseMiddleware
from heaters.services.queue import TaskQueue
from heaters.services.stages import STAGE_FUNCTIONS, StageContext
from heaters.settings import Settings

__all__ = ["declare_actors", "setup"]
log = logging.getLogger(__name__)


def setup(settings: Settings, broker: Any | None = None) -> Any:
    """A broker with every stage actor declared; the stages send their rows on through it."""
    from dramatiq.middleware import AgeLimit, AsyncIO, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

    from heaters.services.broker import create_broker

    if broker is None:
        middleware = [
            AsyncIO(), AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
            Retries(**retry_options(settings)), DatabaseMiddleware(settings),
        ]
        broker = create_broker(settings, middleware=middleware)
    tasks = TaskQueue(broker, lease_seconds=settings.lease_seconds)
    declare_actors(broker, settings, StageContext.from_settings(settings, tasks))
    return broker


def declare_actors(broker: Any, settings: Settings, ctx: StageContext) -> dict[str, Any]:
    """Declare one actor per stage on ``broker``, each running its stage in ``ctx``; return them by name."""
    import dramatiq

    actors = {}
    for stage in pipeline.STAGES:
        decorate = dramatiq.actor(
            broker=broker, actor_name=stage.actor, queue_name=stage.queue, **actor_options(stage.name, settings)
        )
        actors[stage.name] = decorate(_stage_actor(stage.name, ctx))
    return actors


def _stage_actor(stage: str, ctx: StageContext) -> Any:
    function = STAGE_FUNCTIONS[stage]

    async def run(row_id: int) -> None:
        outcome = await function(ctx, row_id)
        log.info("%s %s: %s", stage, row_id, outcome)

    run.__name__ = run.__qualname__ = f"{stage}_actor"
    run.__doc__ = f"Run the {stage} stage for row ``row_id`` (see heaters.services.stages)."
    return run
