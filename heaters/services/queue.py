"""Hand work to the pipeline without importing the actors.

Services name a stage; the message is built by actor name so this layer stays below ``heaters.actors``. When no
broker is configured (tests, one-off CLI commands without Redis) nothing is sent: the dispatcher finds the row
in its ready state on its next tick, because the database, not the queue, is the source of truth.
"""

from __future__ import annotations

from typing import Any

# stage -> (actor name, queue name); queues are separate so encodes and exports scale apart.
STAGES: dict[str, tuple[str, str]] = {
    "download": ("download_video", "ingest"),
    "encode": ("encode_video", "encode"),
    "detect": ("detect_scenes", "encode"),
    "export": ("export_clip", "export"),
    "keyframes": ("extract_keyframes", "export"),
    "embed": ("embed_clip", "embed"),
}

_broker: Any = None


def set_broker(broker: Any) -> None:
    """Route ``enqueue`` to ``broker`` (a Dramatiq broker), or switch it off with ``None``."""
    global _broker
    _broker = broker


def enqueue(stage: str, row_id: int, *, delay_ms: int | None = None) -> bool:
    """Send ``row_id`` to ``stage``; return whether a message went out."""
    if _broker is None:
        return False
    import dramatiq

    actor_name, queue_name = STAGES[stage]
    options: dict[str, Any] = {}
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_name, actor_name=actor_name, args=(row_id,), kwargs={}, options=options
    )
    _broker.enqueue(message, delay=delay_ms)
    return True
