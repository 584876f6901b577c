"""The dispatcher tick: find work the queue may have lost and send it again.

Messages are only hints; the database says what is to be done. One tick:

* **ready rows** (a video in ``new``/``downloaded``/``encoded``, a clip in ``approved``/``exported``/
  ``keyframed``) untouched for a lease period are sent to their stage: their message was lost (Redis
  restarted, enqueued while no broker was reachable) or is still waiting behind a long queue;
* **working rows whose lease expired** belonged to a worker that died; they are sent again and the stage
  claims them back;
* **failed clips** whose backoff has passed and that have attempts left go back to their ready state.

``updated_at`` is touched on every row sent, so a row waiting in a long queue is sent again at most once per
lease period (approved clips: every two ticks), not on every tick. Duplicates are harmless: a stage that
cannot claim its row does nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from heaters.db.tables import Clip, SourceVideo
from heaters.services import queue
from heaters.services.review import now
from heaters.settings import Settings

# (table, state, stage): rows in ``state`` belong to ``stage``, ready or (if leased) in progress.
VIDEO_WORK = (
    ("new", "download"), ("downloading", "download"), ("downloaded", "encode"), ("encoding", "encode"),
    ("encoded", "detect"), ("detecting", "detect"),
)
CLIP_WORK = (
    ("approved", "export"), ("exporting", "export"), ("exported", "keyframes"), ("keyframed", "embed"),
)
# failed clip state -> state it is retried from
CLIP_RETRY = {"export_failed": "approved", "keyframe_failed": "exported", "embed_failed": "keyframed"}
BATCH = 500


async def tick(settings: Settings) -> dict[str, list[int]]:
    """Run one dispatcher pass; return the row ids sent, by stage (plus ``revived`` failed clips)."""
    sent: dict[str, list[int]] = {}
    stamp = now()
    quiet_since = stamp - timedelta(seconds=settings.lease_seconds)
    revived = await _revive_failed_clips(settings, stamp)
    if revived:
        sent["revived"] = revived
    for table, work in ((SourceVideo, VIDEO_WORK), (Clip, CLIP_WORK)):
        for state, stage in work:
            quiet = quiet_since
            if state == "approved":
                # A person is waiting for this one: if the approving process had no queue to send to, the
                # export should still start within a few ticks, not a lease period later.
                quiet = max(quiet_since, stamp - timedelta(seconds=2 * settings.dispatch_seconds))
            ids = await _due(table, state, stamp, quiet)
            for row_id in ids:
                queue.enqueue(stage, row_id)
            if ids:
                sent.setdefault(stage, []).extend(ids)
    return sent


async def _due(table: Any, state: str, stamp: object, quiet_since: object) -> list[int]:
    """Rows in ``state`` with no live lease and no change for a lease period; touched so they wait again."""
    t = table
    rows = await t.update({t.updated_at: stamp}).where(
        (t.state == state)
        & (t.lease_until.is_null() | (t.lease_until < stamp))
        & (t.updated_at < quiet_since)
    ).returning(t.id)
    return sorted(row["id"] for row in rows)[:BATCH]


async def _revive_failed_clips(settings: Settings, stamp: object) -> list[int]:
    revived: list[int] = []
    for failed, ready in CLIP_RETRY.items():
        rows = await Clip.update(
            {Clip.state: ready, Clip.lease_until: None, Clip.updated_at: stamp}
        ).where(
            (Clip.state == failed)
            & (Clip.attempts < settings.max_attempts)
            & Clip.lease_until.is_not_null()
            & (Clip.lease_until < stamp)
        ).returning(Clip.id)
        ids = [row["id"] for row in rows]
        for clip_id in ids:
            queue.enqueue(_stage_of(ready), clip_id)
        revived.extend(ids)
    return revived


def _stage_of(state: str) -> str:
    return dict(CLIP_WORK)[state]
