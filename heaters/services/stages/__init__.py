"""Pipeline stages, one function per stage: ``await stages.encode(ctx, video_id)``.

Each claims its row with a conditional UPDATE and a lease, works, writes its results (whole objects under
final keys, then the row), advances the state and enqueues the next stage. A stage called for a row that is
not ready for it does nothing, so duplicate messages and re-runs are harmless.
"""

from __future__ import annotations

from heaters.services.stages.clips import embed, export, keyframes
from heaters.services.stages.context import StageContext
from heaters.services.stages.review_audio import encode_review_audio
from heaters.services.stages.segments import encode_segment
from heaters.services.stages.videos import detect, download, encode

# stage name (as in ``heaters.services.queue.STAGES``) -> stage function
STAGE_FUNCTIONS = {
    "download": download,
    "encode": encode,
    "segment": encode_segment,
    "audio": encode_review_audio,
    "detect": detect,
    "export": export,
    "keyframes": keyframes,
    "embed": embed,
}

__all__ = [
    "STAGE_FUNCTIONS", "StageContext", "detect", "download", "embed", "encode", "encode_review_audio",
    "encode_segment", "export", "keyframes",
]
