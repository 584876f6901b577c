"""The review queue: a reviewer claims a whole video and reviews its clips in frame order.

A claim is ``source_video.review_user`` plus ``review_lease_until``. Every change of hands is one conditional
``UPDATE … WHERE id = ? AND (free OR expired OR mine)``: the database applies it to one row atomically on
SQLite and on Postgres (which re-checks the condition after waiting for a concurrent writer), so two reviewers
are never handed the same video. The reviewer's page renews the lease while they work; an abandoned claim
simply expires after ``review_lease_seconds`` and the video goes back into the queue.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from heaters.db.tables import Clip, SourceVideo
from heaters.errors import Conflict, NotFound
from heaters.services.review import now


def _claimable_by(user: str, at: datetime):  # type: ignore[no-untyped-def]
    """Rows ``user`` may take: unclaimed, claimed by them already, or with an expired lease."""
    return (
        (SourceVideo.review_user == "")
        | (SourceVideo.review_user == user)
        | SourceVideo.review_lease_until.is_null()
        | (SourceVideo.review_lease_until < at)
    )


async def _take(video_id: int, user: str, lease_seconds: int) -> bool:
    """One conditional update: give ``video_id`` to ``user`` unless someone else holds a live lease."""
    at = now()
    rows = await SourceVideo.update(
        {SourceVideo.review_user: user, SourceVideo.review_lease_until: at + timedelta(seconds=lease_seconds)}
    ).where((SourceVideo.id == video_id) & _claimable_by(user, at)).returning(SourceVideo.id)
    return bool(rows)


async def _videos_with_pending_clips(user: str) -> list[int]:
    """Ready videos that still have clips to review and that ``user`` could take, oldest first."""
    at = now()
    candidates = await SourceVideo.select(SourceVideo.id).where(
        ((SourceVideo.state == "ready") | ((SourceVideo.state == "encoding") & (SourceVideo.proxy_index_key != "")))
        & _claimable_by(user, at)
    ).order_by(SourceVideo.id)
    if not candidates:
        return []
    ids = [row["id"] for row in candidates]
    pending = await Clip.select(Clip.source_video).where(
        Clip.source_video.is_in(ids) & (Clip.state == "pending_review")
    ).distinct()
    with_work = {row["source_video"] for row in pending}
    return [i for i in ids if i in with_work]


async def held_by(user: str) -> list[int]:
    """Videos on which ``user`` holds a live claim."""
    rows = await SourceVideo.select(SourceVideo.id).where(
        (SourceVideo.review_user == user) & (SourceVideo.review_lease_until >= now())
    ).order_by(SourceVideo.id)
    return [row["id"] for row in rows]


async def claim_next(user: str, lease_seconds: int) -> int | None:
    """Claim a video for ``user`` and return its id; None when nothing is left to review.

    A reviewer who already holds a video with pending clips gets that one back (renewed), so reloading the
    queue never strands a half-reviewed video.
    """
    candidates = await _videos_with_pending_clips(user)
    mine = set(await held_by(user))
    # Own claims first, then the queue in id order; a lost race just moves on to the next candidate.
    for video_id in sorted(candidates, key=lambda i: (i not in mine, i)):
        if await _take(video_id, user, lease_seconds):
            return video_id
    return None


async def claim(video_id: int, user: str, lease_seconds: int) -> dict[str, Any]:
    """Claim or renew the claim on one video; ``Conflict`` while another reviewer's lease is live."""
    if await _take(video_id, user, lease_seconds):
        return await claim_info(video_id)
    info = await claim_info(video_id)  # raises NotFound for a missing video
    until = info["review_lease_until"]
    lapses = f"at {until:%H:%M:%S} UTC" if until is not None else "soon"
    raise Conflict(
        f"video {video_id} is being reviewed by {info['review_user'] or 'another reviewer'}",
        f"their claim lapses {lapses} unless they keep working; take another video from the queue",
    )


async def try_claim(video_id: int, user: str, lease_seconds: int) -> bool:
    """Claim ``video_id`` if it is free or already ours; never raises for a claim held by someone else."""
    return await _take(video_id, user, lease_seconds)


async def renew_if_held(video_id: int, user: str, lease_seconds: int) -> bool:
    """Extend ``user``'s lease on ``video_id`` if they hold it (called on each edit: working keeps the claim)."""
    at = now()
    rows = await SourceVideo.update(
        {SourceVideo.review_lease_until: at + timedelta(seconds=lease_seconds)}
    ).where(
        (SourceVideo.id == video_id) & (SourceVideo.review_user == user) & (SourceVideo.review_lease_until >= at)
    ).returning(SourceVideo.id)
    return bool(rows)


async def release(video_id: int, user: str) -> bool:
    """Give the video back to the queue (only the holder can)."""
    rows = await SourceVideo.update(
        {SourceVideo.review_user: "", SourceVideo.review_lease_until: None}
    ).where((SourceVideo.id == video_id) & (SourceVideo.review_user == user)).returning(SourceVideo.id)
    return bool(rows)


async def claim_info(video_id: int) -> dict[str, Any]:
    """Who holds the video and until when (``review_user`` is empty when nobody does or the lease lapsed)."""
    row = await SourceVideo.select(SourceVideo.id, SourceVideo.review_user, SourceVideo.review_lease_until).where(
        SourceVideo.id == video_id
    ).first()
    if row is None:
        raise NotFound(f"video {video_id} does not exist", "list videos with `heaters videos`")
    until = row["review_lease_until"]
    if until is not None and until.tzinfo is None:  # SQLite hands back naive UTC timestamps
        until = until.replace(tzinfo=UTC)
    live = bool(row["review_user"]) and until is not None and until >= now()
    return {
        "video_id": video_id,
        "review_user": row["review_user"] if live else "",
        "review_lease_until": until if live else None,
    }


async def next_clip(video_id: int, after_frame: int | None = None) -> dict[str, Any] | None:
    """The first clip still to review in frame order (from ``after_frame`` on, wrapping to the start)."""
    base = (Clip.source_video == video_id) & (Clip.state == "pending_review")
    if after_frame is not None:
        later = await Clip.select().where(base & (Clip.start_frame >= after_frame)).order_by(
            Clip.start_frame
        ).first()
        if later is not None:
            return later
    return await Clip.select().where(base).order_by(Clip.start_frame).first()
