"""Time limits and retry policy of the stage actors.

Time limits are sized for hours-long media on modest hardware: an encode of a three-hour 1080p source can
take several hours. They are a last resort (a stuck process); the lease, renewed while a stage runs, is how a
dead worker's work is found again.

Retries follow the exception class: permanent errors (bad input) are in ``throws`` and never retried — the
stage has already put its row in a failed state with the message. Anything else (storage, network, database)
is retried with exponential backoff, up to ``max_attempts``.
"""

from __future__ import annotations

from typing import Any

from heaters import pipeline
from heaters.services.stages.context import PERMANENT
from heaters.settings import Settings

MIN_BACKOFF_MS = 2_000
MAX_BACKOFF_MS = 10 * 60 * 1000


def retry_options(settings: Settings) -> dict[str, Any]:
    """Options of the ``Retries`` middleware (also valid per actor)."""
    return {
        "max_retries": max(0, settings.max_attempts - 1),
        "min_backoff": MIN_BACKOFF_MS,
        "max_backoff": MAX_BACKOFF_MS,
    }


def actor_options(stage: str, settings: Settings) -> dict[str, Any]:
    """Dramatiq options of the actor of ``stage``: its time limit (pipeline table) and the retry policy."""
    return {"time_limit": pipeline.stage(stage).time_limit_ms, **retry_options(settings), "throws": PERMANENT}
