"""The review sound of a video encoded in segments (``audio`` stage): one track for the whole source.

A segmented video with sound gets one ``review_audio`` row when its segments are planned. Its job, on the
encode queue right after the first segment (so the first clip is reviewable as soon as without sound),
decodes only the source's audio and writes ``proxies/{video}/audio.m4a``, its packet index and its peaks
(``heaters.media.review_track``), aligned to frame 0 as a whole-file proxy's sound is.

The video's frame index then carries the track as a whole-file index does (``"audio"`` and ``"peaks"``),
with the storage ``key`` of the audio file and of the peaks, so the page fetches packets from that file and
plays them with the same code. Two writers meet here: ``advance`` rewrites the index as segments finish,
and this job finishes at any moment. Each of them, *after* its own write is committed, makes sure the
current index has the sound (``attach``, a compare-and-set on the video's index key), so whichever comes
last sees both. Until then an index of a video with sound says ``"audio_pending": true`` and the page asks
for it again. A failed track leaves the video silent in review, with a warning saying why, and its index
stops saying sound is on its way; retrying the video makes the track again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from heaters import pipeline
from heaters.db.tables import ReviewAudio, SourceVideo
from heaters.errors import MediaError
from heaters.services.stages.context import StageContext
from heaters.services.stages.lease import Claim
from heaters.services.stages.runner import run_stage
from heaters.services.stages.segments import source_ref, stored_timeline

log = logging.getLogger(__name__)

SILENT_WARNING = "its sound could not be prepared for review"


def audio_keys(video_id: int) -> dict[str, str]:
    return {
        "audio_key": f"proxies/{video_id}/audio.m4a",
        "index_key": f"proxies/{video_id}/audio.index.json",
        "peaks_key": f"proxies/{video_id}/audio.peaks",
    }


async def encode_review_audio(ctx: StageContext, row_id: int) -> str:
    """``pending → encoding → encoded``: the track, then the video's index is given it."""
    outcome = await run_stage(ctx, pipeline.stage("audio"), row_id, lambda held, scratch: _encode(ctx, held, scratch))
    row = await ReviewAudio.select(ReviewAudio.source_video, ReviewAudio.error).where(ReviewAudio.id == row_id).first()
    if row is None:
        return outcome
    if outcome == "done":
        await attach(ctx, row["source_video"])
        await SourceVideo.update({SourceVideo.warning: ""}).where(  # a retry that worked: the warning is over
            (SourceVideo.id == row["source_video"]) & SourceVideo.warning.like(SILENT_WARNING + "%")
        )
    elif outcome in ("failed", "gave_up"):
        await SourceVideo.update({SourceVideo.warning: f"{SILENT_WARNING}: {row['error']}"[:2000]}).where(
            (SourceVideo.id == row["source_video"]) & (SourceVideo.warning == "")
        )
        await attach(ctx, row["source_video"])  # the index stops saying sound is on its way
    return outcome


async def _encode(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.frame_index import dumps
    from heaters.media.review_track import encode_review_track

    row, storage = held.row, ctx.storage
    video_id = row["source_video"]
    video = await SourceVideo.select(SourceVideo.original_key).where(SourceVideo.id == video_id).first()
    if video is None or not video["original_key"]:
        raise MediaError(f"review audio {held.row_id} belongs to no downloaded video", "retry the video")
    original = source_ref(ctx, video["original_key"])
    audio, peaks = scratch / "audio.m4a", scratch / "audio.peaks"
    track = await asyncio.to_thread(
        encode_review_track, original, audio, peaks, audio_start=stored_timeline(row["timeline"]).audio_start,
        abort=held.lost.is_set,
    )
    await held.ensure_held()
    keys = audio_keys(video_id)
    document = {"audio": {**track.index, "key": keys["audio_key"]}, "peaks": {**track.peaks, "key": keys["peaks_key"]}}
    await asyncio.to_thread(storage.move_file, keys["audio_key"], audio, "proxy")
    await asyncio.to_thread(storage.move_file, keys["peaks_key"], peaks, "proxy_index")
    await asyncio.to_thread(storage.put_bytes, keys["index_key"], dumps(document).encode(), "proxy_index")
    await held.finish("encoded", audio_bytes=track.size, **keys)


async def track_of(ctx: StageContext, video_id: int) -> tuple[dict[str, Any] | None, bool]:
    """(the finished track's index document, or None; whether a track is still to come)."""
    row = await ReviewAudio.select(ReviewAudio.state, ReviewAudio.index_key).where(
        ReviewAudio.source_video == video_id
    ).first()
    if row is None or row["state"] == pipeline.stage("audio").failed:
        return None, False
    if row["state"] != pipeline.stage("audio").done:
        return None, True
    document: dict[str, Any] = json.loads(await asyncio.to_thread(ctx.storage.get_bytes, row["index_key"]))
    return document, False


def with_track(index: dict[str, Any], document: dict[str, Any] | None, pending: bool) -> dict[str, Any]:
    """``index`` with the track's packet index and peaks, or marked as waiting for them."""
    joined = {k: v for k, v in index.items() if k != "audio_pending"}
    if document is not None:
        joined.update(audio=document["audio"], peaks=document["peaks"])
    elif pending:
        joined["audio_pending"] = True
    return joined


async def attach(ctx: StageContext, video_id: int) -> bool:
    """Give the video's current frame index the finished track, if it lacks it (or, the track having failed,
    stop it saying one is on its way); True when the index is settled."""
    from heaters.media.frame_index import dumps

    document, pending = await track_of(ctx, video_id)
    if pending:
        return False
    storage = ctx.storage
    for _ in range(10):  # another writer may replace the index meanwhile: then look at the new one
        video = await SourceVideo.select(SourceVideo.proxy_index_key).where(SourceVideo.id == video_id).first()
        key = video["proxy_index_key"] if video else ""
        if "/index-" not in key:
            return False  # no index yet: the first one made will carry the track
        index = json.loads(await asyncio.to_thread(storage.get_bytes, key))
        if "audio" in index or (document is None and "audio_pending" not in index):
            return True
        new_key = key.removesuffix(".json") + (".audio.json" if document is not None else ".silent.json")
        await asyncio.to_thread(storage.put_bytes, new_key, dumps(with_track(index, document, False)).encode(),
                                "proxy_index")
        swapped = await SourceVideo.update({SourceVideo.proxy_index_key: new_key}).where(
            (SourceVideo.id == video_id) & (SourceVideo.proxy_index_key == key)
        ).returning(SourceVideo.id)
        stale = key if swapped else new_key
        try:
            await asyncio.to_thread(storage.delete, stale)
        except Exception:  # a leftover index costs storage, not correctness
            log.debug("could not delete %s", stale)
        if swapped:
            return True
    return False
