"""What an open dashboard or video page needs to stay current: each video's progress, and a mark that changes
whenever anything else the page shows of it changes (its state, its clips, its thumbnail).

The pages poll this (see ``heaters.server.api_live``): the progress is redrawn in place and a changed mark
makes the page fetch its own HTML again, so nothing is rendered twice in two languages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from heaters.db.tables import Clip, SourceVideo

VIDEO_COLUMNS = (
    SourceVideo.id, SourceVideo.title, SourceVideo.state, SourceVideo.progress, SourceVideo.cut_version,
    SourceVideo.total_frames, SourceVideo.fps_num, SourceVideo.fps_den, SourceVideo.proxy_index_key,
    SourceVideo.poster_key, SourceVideo.updated_at,
)


def mark(video: dict[str, Any], clips: int, clips_changed: Any) -> str:
    """Changes with the video's state, version, poster or reviewability, and with any change of its clips
    (a count or an updated clip: an export finishing changes no version)."""
    return "|".join(str(x) for x in (
        video["state"], video["cut_version"], bool(video["proxy_index_key"]), video["poster_key"], clips,
        clips_changed or "",
    ))


async def clip_changes(video_ids: Sequence[int]) -> dict[int, tuple[int, Any]]:
    """Per video: how many clip rows it has and when the last one changed (one grouped query)."""
    if not video_ids:
        return {}
    rows = await Clip.select(Clip.source_video, Count(alias="clips"), Max(Clip.updated_at, alias="changed")).where(
        Clip.source_video.is_in(list(video_ids))
    ).group_by(Clip.source_video)
    return {int(r["source_video"]): (int(r["clips"]), r["changed"]) for r in rows}


async def _marked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (of ``VIDEO_COLUMNS``), each given its ``mark``."""
    changes = await clip_changes([r["id"] for r in rows])
    for row in rows:
        row["mark"] = mark(row, *changes.get(row["id"], (0, None)))
    return rows


async def marks(video_ids: Sequence[int]) -> dict[int, str]:
    """The marks of ``video_ids`` as the pages render them (see ``mark``)."""
    rows = await SourceVideo.select(*VIDEO_COLUMNS).where(SourceVideo.id.is_in(list(video_ids))) if video_ids else []
    return {r["id"]: r["mark"] for r in await _marked(rows)}


async def live_videos(video_id: int | None = None) -> list[dict[str, Any]]:
    """Every video (or just ``video_id``), light columns only, each with its ``mark``."""
    query = SourceVideo.select(*VIDEO_COLUMNS).order_by(SourceVideo.id).output(load_json=True)
    if video_id is not None:
        query = query.where(SourceVideo.id == video_id)
    return await _marked(await query)
