"""Clip numbers: the next free one of a video (see ``Clip.number``)."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Max

from heaters.db.tables import Clip


async def highest_clip_number(video_id: int) -> int:
    """The highest number any clip of the video has had (replaced clips count: numbers are never reused).

    Call it in the transaction that holds the video, so two operations cannot hand out the same number."""
    row = await Clip.select(Max(Clip.number, alias="top")).where(Clip.source_video == video_id).first()
    return int(row["top"] or 0) if row else 0
