"""Send failed work back to the stage that failed, with a fresh attempt budget."""

from __future__ import annotations

from heaters.db.tables import Clip, SourceVideo
from heaters.services import queue
from heaters.services.review import now

# failed state -> (state to resume from, stage that picks it up)
VIDEO_RETRY = {
    "download_failed": ("new", "download"),
    "encode_failed": ("downloaded", "encode"),
    "detect_failed": ("encoded", "detect"),
}
CLIP_RETRY = {
    "export_failed": ("approved", "export"),
    "keyframe_failed": ("exported", "keyframes"),
    "embed_failed": ("keyframed", "embed"),
}


async def retry_video(video_id: int) -> bool:
    """Re-queue one failed video; False if it is not in a failed state."""
    row = await SourceVideo.select(SourceVideo.state).where(SourceVideo.id == video_id).first()
    if row is None or row["state"] not in VIDEO_RETRY:
        return False
    state, stage = VIDEO_RETRY[row["state"]]
    updated = await SourceVideo.update(
        {SourceVideo.state: state, SourceVideo.error: "", SourceVideo.attempts: 0, SourceVideo.lease_until: None,
         SourceVideo.updated_at: now()}
    ).where((SourceVideo.id == video_id) & (SourceVideo.state == row["state"])).returning(SourceVideo.id)
    if updated:
        queue.enqueue(stage, video_id)
    return bool(updated)


async def retry_clip(clip_id: int) -> bool:
    """Re-queue one failed clip; False if it is not in a failed state."""
    row = await Clip.select(Clip.state).where(Clip.id == clip_id).first()
    if row is None or row["state"] not in CLIP_RETRY:
        return False
    state, stage = CLIP_RETRY[row["state"]]
    updated = await Clip.update(
        {Clip.state: state, Clip.error: "", Clip.attempts: 0, Clip.lease_until: None, Clip.updated_at: now()}
    ).where((Clip.id == clip_id) & (Clip.state == row["state"])).returning(Clip.id)
    if updated:
        queue.enqueue(stage, clip_id)
    return bool(updated)


async def retry_all() -> tuple[int, int]:
    """Re-queue every failed video and clip; returns how many of each."""
    videos = await SourceVideo.select(SourceVideo.id).where(SourceVideo.state.is_in(list(VIDEO_RETRY)))
    clips = await Clip.select(Clip.id).where(Clip.state.is_in(list(CLIP_RETRY)))
    v = sum([await retry_video(r["id"]) for r in videos])
    c = sum([await retry_clip(r["id"]) for r in clips])
    return v, c
