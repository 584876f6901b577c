"""Send failed work back to the stage that failed, with a fresh attempt budget (``heaters retry``)."""

from __future__ import annotations

from heaters import pipeline
from heaters.db.tables import STAGE_TABLES
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.services.review import now

# failed state -> (state to resume from, stage that picks it up), per table
VIDEO_RETRY = {s.failed: (s.retry_to, s.name) for s in pipeline.stages_of("video")}
CLIP_RETRY = {s.failed: (s.retry_to, s.name) for s in pipeline.stages_of("clip")}
# A failed segment fails its video; retrying the video starts its failed segments again.
SEGMENT_RETRY = {s.failed: (s.retry_to, s.name) for s in pipeline.stages_of("segment")}
# Failed review audio leaves the video silent in review (its warning says why); retrying the video redoes it.
AUDIO_RETRY = {s.failed: (s.retry_to, s.name) for s in pipeline.stages_of("audio")}


async def retry_row(table: pipeline.Table, row_id: int, tasks: TaskQueue = OFFLINE) -> bool:
    """Re-queue one failed row of ``table``; False if it is not in a failed state."""
    t = STAGE_TABLES[table]
    row = await t.select(t.state).where(t.id == row_id).first()
    if row is None or row["state"] not in pipeline.failed_states(table):
        return False
    stage = pipeline.stage_of_failure(row["state"])
    updated = await t.update(
        {t.state: stage.retry_to, t.error: "", t.attempts: 0, t.lease_until: None, t.updated_at: now()}
    ).where((t.id == row_id) & (t.state == row["state"])).returning(t.id)
    if updated:
        await tasks.enqueue(stage.name, row_id)
    return bool(updated)


async def retry_video(video_id: int, tasks: TaskQueue = OFFLINE) -> bool:
    """Re-queue one failed video, and its review sound if that failed; False if neither had."""
    retried = await retry_row("video", video_id, tasks)
    t = STAGE_TABLES["audio"]
    track = await t.select(t.id).where((t.source_video == video_id) & (t.state.is_in(list(AUDIO_RETRY)))).first()
    if track is not None:
        retried = await retry_row("audio", track["id"], tasks) or retried
    return retried


async def retry_clip(clip_id: int, tasks: TaskQueue = OFFLINE) -> bool:
    """Re-queue one failed clip; False if it is not in a failed state."""
    return await retry_row("clip", clip_id, tasks)


async def retry_all(tasks: TaskQueue = OFFLINE) -> tuple[int, int]:
    """Re-queue every failed video (or failed review sound of a video) and clip; returns how many of each."""
    v, a, c = STAGE_TABLES["video"], STAGE_TABLES["audio"], STAGE_TABLES["clip"]
    videos = {r["id"] for r in await v.select(v.id).where(v.state.is_in(list(pipeline.failed_states("video"))))}
    videos |= {r["source_video"] for r in await a.select(a.source_video).where(a.state.is_in(list(AUDIO_RETRY)))}
    clips = await c.select(c.id).where(c.state.is_in(list(pipeline.failed_states("clip"))))
    return (
        sum([await retry_video(video_id, tasks) for video_id in sorted(videos)]),
        sum([await retry_row("clip", r["id"], tasks) for r in clips]),
    )
