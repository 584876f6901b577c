"""Segment-parallel encode: a long video is encoded as independent segments by every free worker at once.

* **Plan** (the video's encode stage): a source longer than two ``HEATERS_SEGMENT_SECONDS`` gets one
  ``segment`` row per frame range of its CFR grid, each claimed, leased and retried on its own by any worker
  of the encode queue; the video stays ``encoding`` meanwhile. The dispatcher sends the video back to its
  encode stage every lease period, which re-sends segments whose message was lost or whose worker died.
* **Segment** (``segment`` stage): one segment's master piece, proxy piece, proxy piece index and thumbnails
  from one decode of just that part of the original (``heaters.media.segment``), then ``advance``.
* **Advance**: how far the video is encoded without a gap decides what reviewers see. The proxy pieces get
  one frame index over their virtual concatenation (``heaters.media.pieces``); features are extended over
  the new frames; scene detection decides the cuts up to the committed edge (the encoded part minus the
  detector's context, so no cut is missed or moved); the rest of the video is one locked ``encoding`` tail
  clip, split at the new cuts and resized as segments finish. Every change of clips happens in one
  transaction with ``total_frames``, so the clips partition the video at every moment.
* **Sound**: a source with audio also gets one ``review_audio`` row, the whole track made once by its own job
  right after the first segment (``heaters.services.stages.review_audio``); every index made here carries it
  once it is in, or says ``audio_pending``.
* **Join**: once every segment is encoded the pieces *are* the master and proxy — nothing is copied. The
  master is a manifest of pieces (``masters/{video}/pieces.json``) that exports read across; the frame count
  is the sum of the pieces', checked against every piece's own count. The video moves to ``encoded`` and
  detection finishes as for any video.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from heaters import cuts as cut_algebra
from heaters import pipeline
from heaters import segments as plan_math
from heaters.db import kv
from heaters.db.engine import write_transaction
from heaters.db.numbers import highest_clip_number
from heaters.db.tables import Clip, ReviewAudio, Segment, SourceVideo
from heaters.errors import MediaError
from heaters.services.review import now
from heaters.services.stages.context import (
    StageContext,
    probabilities_key,
    small_frames_key,
    warn_without_small_frames,
)
from heaters.services.stages.lease import Claim
from heaters.services.stages.runner import run_stage

log = logging.getLogger(__name__)

MANIFEST_NAME = "pieces.json"
PROXY_NAME = "pieces.mp4"  # not an object: the media server answers it from the proxy pieces
# Features of frame t read thumbnails t-11..t+10 (``heaters.media.features``): rows are final 10 frames
# before the encoded edge and need 11 frames of thumbnails before them.
FEATURE_BEHIND, FEATURE_AHEAD = 11, 10
# Piece indexes by (key, when the segment finished): a re-encoded segment writes the same key again.
_piece_indexes: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()


def manifest_key(video_id: int) -> str:
    return f"masters/{video_id}/{MANIFEST_NAME}"


def pieces_proxy_key(video_id: int) -> str:
    return f"proxies/{video_id}/{PROXY_NAME}"


def is_manifest(master_key: str) -> bool:
    return master_key.endswith("/" + MANIFEST_NAME)


def _piece_keys(video_id: int, position: int) -> dict[str, str]:
    n = f"{position:05d}"
    return {
        "master_key": f"masters/{video_id}/{n}.mkv",
        "proxy_key": f"proxies/{video_id}/{n}.mp4",
        "index_key": f"proxies/{video_id}/{n}.index.json",
        "thumbs_key": f"features/{video_id}/{n}.thumbs.npy",
    }


def source_ref(ctx: StageContext, key: str) -> str:
    """Where a worker reads the original: the file itself (local storage) or a URL FFmpeg reads by ranges."""
    local = ctx.storage.local_path(key)
    if local is not None:
        return str(local)
    url = ctx.storage.url(key, "original")
    if not url:
        raise MediaError(f"the original {key} has no readable URL", "check the storage settings")
    return url


# --- plan -----------------------------------------------------------------------------------------------


async def plan_or_resume(ctx: StageContext, held: Claim) -> bool:
    """The video's encode stage for a long source: make (or resume) its segments. False: encode it whole."""
    from heaters.media.segment import source_timeline

    video_id, settings = held.row_id, ctx.settings
    if settings.segment_seconds <= 0:
        return False
    rows = await Segment.select(Segment.id).where(Segment.source_video == video_id)
    if not rows:
        original = source_ref(ctx, held.row["original_key"])
        timeline = await asyncio.to_thread(source_timeline, original)
        planned = plan_math.plan(timeline.estimated_frames, timeline.fps, settings.segment_seconds)
        if len(planned) < 2:
            return False
        stored = {
            "fps": f"{timeline.fps.numerator}/{timeline.fps.denominator}",
            "origin": str(timeline.origin), "audio_start": str(timeline.audio_start),
            "estimated_frames": timeline.estimated_frames, "has_audio": timeline.has_audio,
        }
        await held.ensure_held()
        async with write_transaction(Segment._meta.db):
            if not await Segment.select(Segment.id).where(Segment.source_video == video_id):
                await Segment.insert(
                    *(Segment(source_video=video_id, position=p.index, start_frame=p.start, end_frame=p.end,
                              timeline=stored) for p in planned)
                )
                if timeline.has_audio:
                    await ReviewAudio.insert(ReviewAudio(source_video=video_id, timeline=stored))
    else:  # `heaters retry` of a failed video, or the dispatcher's periodic visit: failed segments start again
        await Segment.update(
            {Segment.state: "pending", Segment.attempts: 0, Segment.error: "", Segment.lease_until: None}
        ).where((Segment.source_video == video_id) & (Segment.state == "failed"))
        await _resume_audio(video_id)
    stamp = now()
    waiting = await Segment.select(Segment.id).where(
        (Segment.source_video == video_id)
        & ((Segment.state == "pending") | ((Segment.state == "encoding") & (Segment.lease_until < stamp)))
    ).order_by(Segment.position)
    sound = await ReviewAudio.select(ReviewAudio.id).where(
        (ReviewAudio.source_video == video_id)
        & ((ReviewAudio.state == "pending") | ((ReviewAudio.state == "encoding") & (ReviewAudio.lease_until < stamp)))
    )
    # The sound right after the first segment: the first clip is not kept waiting for it, nor it for the rest.
    for n, row in enumerate(waiting):
        await ctx.tasks.enqueue("segment", row["id"])
        if n == 0:
            for track in sound:
                await ctx.tasks.enqueue("audio", track["id"])
    if not waiting:
        for track in sound:
            await ctx.tasks.enqueue("audio", track["id"])
    await held.finish("encoding", progress=held.row.get("progress") or {})
    await advance(ctx, video_id)
    return True


async def _resume_audio(video_id: int) -> None:
    """A failed track starts again; a video planned before tracks existed gets one."""
    await ReviewAudio.update(
        {ReviewAudio.state: "pending", ReviewAudio.attempts: 0, ReviewAudio.error: "", ReviewAudio.lease_until: None}
    ).where((ReviewAudio.source_video == video_id) & (ReviewAudio.state == pipeline.stage("audio").failed))
    first = await Segment.select(Segment.timeline).where(Segment.source_video == video_id).first()
    if first is None or not stored_timeline(first["timeline"]).has_audio:
        return
    if not await ReviewAudio.select(ReviewAudio.id).where(ReviewAudio.source_video == video_id):
        await ReviewAudio.insert(ReviewAudio(source_video=video_id, timeline=first["timeline"]))


# --- one segment ----------------------------------------------------------------------------------------


async def encode_segment(ctx: StageContext, segment_id: int) -> str:
    """``pending → encoding → encoded``: one segment's pieces, then the video's review state moves on."""
    outcome = await run_stage(
        ctx, pipeline.stage("segment"), segment_id, lambda held, scratch: _encode_segment(ctx, held, scratch)
    )
    if outcome != "skipped":
        row = await Segment.select(Segment.source_video).where(Segment.id == segment_id).first()
        if row is not None:
            await advance(ctx, row["source_video"])
    return outcome


def stored_timeline(stored: Any) -> Any:
    """The ``Timeline`` a segment (or review audio) row stores."""
    from heaters.media.segment import Timeline

    data = json.loads(stored) if isinstance(stored, str) else stored
    return Timeline(
        Fraction(data["fps"]), Fraction(data["origin"]), Fraction(data["audio_start"]),
        int(data["estimated_frames"]), bool(data["has_audio"]),
    )


async def _encode_segment(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.frame_index import dumps
    from heaters.media.segment import encode_segment as encode_piece

    seg, settings, storage = held.row, ctx.settings, ctx.storage
    video = await SourceVideo.select(SourceVideo.original_key).where(SourceVideo.id == seg["source_video"]).first()
    if video is None or not video["original_key"]:
        raise MediaError(f"segment {held.row_id} belongs to no downloaded video", "retry the video")
    original = source_ref(ctx, video["original_key"])
    master, proxy, thumbs = scratch / "piece.mkv", scratch / "piece.mp4", scratch / "thumbs.npy"
    small = scratch / "small.npy" if settings.detector != "builtin" else None
    result = await asyncio.to_thread(
        encode_piece, original, master, proxy, thumbs, start=seg["start_frame"], end=seg["end_frame"],
        timeline=stored_timeline(seg["timeline"]), proxy_crf=settings.proxy_crf, proxy_preset=settings.proxy_preset,
        proxy_short_side=settings.proxy_short_side, abort=held.lost.is_set, max_pixels=settings.max_pixels,
        keep_master=settings.master == "ffv1", small_path=small,
    )
    await held.ensure_held()
    names = _piece_keys(seg["source_video"], seg["position"])
    fields: dict[str, Any] = {"frames": result.frames, "reached_end": result.reached_end}
    if result.frames:
        assert result.index is not None
        proxy_bytes = proxy.stat().st_size
        if small is not None:  # first: a row names its thumbnails only once everything beside them exists
            await asyncio.to_thread(storage.move_file, small_frames_key(names["thumbs_key"]), small, "features")
        await asyncio.to_thread(storage.move_file, names["thumbs_key"], thumbs, "features")
        await asyncio.to_thread(storage.put_bytes, names["index_key"], dumps(result.index).encode(), "proxy_index")
        await asyncio.to_thread(storage.move_file, names["proxy_key"], proxy, "proxy")
        fields.update(names, proxy_bytes=proxy_bytes)
        if settings.master == "ffv1":
            await asyncio.to_thread(storage.move_file, names["master_key"], master, "master")
        else:  # HEATERS_MASTER=original: the downloaded file is the master, read on the same grid
            fields["master_key"] = ""
    await held.finish("encoded", **fields)


# --- advance --------------------------------------------------------------------------------------------


async def advance(ctx: StageContext, video_id: int) -> None:
    """Bring the video's clips, index and features up to its encoded prefix (idempotent, any worker)."""
    video = await SourceVideo.select().where(SourceVideo.id == video_id).first()
    if video is None or video["state"] != "encoding":
        return
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    if not rows:
        return
    failed = [r for r in rows if r["state"] == "failed"]
    if failed:
        first = failed[0]
        where = f"segment {first['position']} (frames from {first['start_frame']})"
        await _fail(video_id, f"{where} failed: {first['error']}")
        return
    done = [
        plan_math.Done(r["position"], r["start_frame"], r["end_frame"], r["frames"], r["reached_end"])
        for r in rows if r["state"] == "encoded"
    ]
    try:
        prefix, complete, count = plan_math.encoded_prefix(done, len(rows))
    except ValueError as exc:
        await _fail(video_id, f"the segments do not fit together: {exc}")
        return
    if count == 0 or prefix == _committed_prefix(video):
        return
    # Segments that finish out of order bring several workers here for the same prefix at once (its features
    # and, with a learned detector, a model run over the new frames): one works on it, the others leave it to
    # that one. Should its worker die, the mark lapses and the dispatcher's next pass advances the video.
    busy = f"advance:{video_id}:{prefix}:{int(complete)}"
    if (await kv.hit(busy, ctx.settings.lease_seconds / 2))[0] > 1:
        log.debug("video %s: prefix %s is being advanced by another worker", video_id, prefix)
        return
    try:
        await _advance_to(ctx, video_id, video, rows, prefix, complete, count, len(done))
    finally:
        await kv.reset(busy)


async def _advance_to(
    ctx: StageContext, video_id: int, video: dict[str, Any], rows: list[dict[str, Any]], prefix: int,
    complete: bool, count: int, done: int,
) -> None:
    pieces = [r for r in rows[:count] if r["frames"]]
    try:
        work = await _prepare(ctx, video, pieces, prefix, complete)
    except MediaError as exc:
        await _fail(video_id, str(exc))
        return
    from heaters.services.stages import review_audio

    applied = await _apply(ctx, video_id, work, rows[0], prefix, complete, done, len(rows))
    if not work["has_track"]:
        # The track may have finished while this index was made without it (see ``review_audio``).
        await review_audio.attach(ctx, video_id)
    if applied and complete:
        await ctx.tasks.enqueue("detect", video_id)


def _committed_prefix(video: dict[str, Any]) -> int:
    """The encoded prefix the video's clips already reflect (it is part of its index key)."""
    key = video["proxy_index_key"]
    if "/index-" not in key:
        return -1
    return int(key.rsplit("/index-", 1)[1].split(".", 1)[0])


async def _fail(video_id: int, message: str) -> None:
    await SourceVideo.update(
        {SourceVideo.state: "encode_failed", SourceVideo.error: message[:2000], SourceVideo.updated_at: now()}
    ).where((SourceVideo.id == video_id) & (SourceVideo.state == "encoding"))
    log.warning("encode %s failed: %s", video_id, message)


async def _piece_index(ctx: StageContext, segment: dict[str, Any]) -> dict[str, Any]:
    key = segment["index_key"]
    cached = (key, str(segment["updated_at"]))
    if cached in _piece_indexes:
        _piece_indexes.move_to_end(cached)
        return _piece_indexes[cached]
    index: dict[str, Any] = json.loads(await asyncio.to_thread(ctx.storage.get_bytes, key))
    _piece_indexes[cached] = index
    while len(_piece_indexes) > 512:
        _piece_indexes.popitem(last=False)
    return index


async def _prepare(
    ctx: StageContext, video: dict[str, Any], pieces: list[dict[str, Any]], prefix: int, complete: bool
) -> dict[str, Any]:
    """Everything ``_apply`` writes, computed outside any transaction: index, features, cuts."""
    from heaters.media.features import FeatureBuilder
    from heaters.media.frame_index import dumps
    from heaters.media.pieces import ProxyPiece, join_indexes
    from heaters.media.scenes import detector_for

    video_id, storage, settings = video["id"], ctx.storage, ctx.settings
    proxies = [
        ProxyPiece(p["proxy_key"], p["start_frame"], await _piece_index(ctx, p), p["proxy_bytes"])
        for p in pieces
    ]
    index = join_indexes(proxies, complete=complete)
    if index["frames"] != prefix:
        raise MediaError(f"the proxy pieces hold {index['frames']} frames, the segments {prefix}", "retry the video")
    from heaters.services.stages import review_audio

    track, pending = await review_audio.track_of(ctx, video_id)
    index = review_audio.with_track(index, track, pending)
    # Features: keep the final rows already made, add rows for the new frames from the thumbnails around them.
    old = np.zeros((0, 0), np.float32)
    if video["features_key"]:
        old = np.load(io.BytesIO(await asyncio.to_thread(storage.get_bytes, video["features_key"])))
    have = len(old)
    target = prefix if complete else max(0, prefix - FEATURE_AHEAD)
    base = max(0, have - FEATURE_BEHIND)
    thumbs = []
    for p in pieces:
        lo, hi = p["start_frame"], p["start_frame"] + p["frames"]
        if hi <= base:
            continue
        data = np.load(io.BytesIO(await asyncio.to_thread(storage.get_bytes, p["thumbs_key"])))
        thumbs.append(data[max(0, base - lo):])

    detector = detector_for(settings.detector, settings.scene_threshold, settings.scene_min_frames)
    features_key = f"features/{video_id}/upto-{prefix}.npy"
    learned = None
    if detector.wants_small:
        learned = await _learned_probabilities(ctx, video_id, video["features_key"], features_key, pieces, prefix,
                                               complete)
        if learned is None:
            detector = detector_for("builtin", settings.scene_threshold, settings.scene_min_frames)

    def compute() -> tuple[np.ndarray, tuple[int, ...]]:
        builder = FeatureBuilder()
        builder.add_many(np.concatenate(thumbs) if thumbs else np.zeros((0,)))
        rows = builder.finish()[have - base: target - base]
        features = np.concatenate([old, rows]) if len(old) else rows
        if not len(features):
            return features.astype(np.float32), ()
        if learned is None:
            found = detector.detect(features)
        else:  # the frames whose TransNetV2 answer is final (the committed edge lies well inside them)
            known = min(len(features), len(learned))
            found = detector.detect_with(features[:known], learned[:known])  # type: ignore[attr-defined]
        return features.astype(np.float32), tuple(int(c.frame) for c in found)

    features, found = await asyncio.to_thread(compute)
    if len(features) != target:
        raise MediaError(f"features cover {len(features)} frames, expected {target}", "retry the video")
    index_key = f"proxies/{video_id}/index-{prefix}.json"
    buffer = io.BytesIO()
    np.save(buffer, features)
    await asyncio.to_thread(storage.put_bytes, features_key, buffer.getvalue(), "features")
    await asyncio.to_thread(storage.put_bytes, index_key, dumps(index).encode(), "proxy_index")
    manifest = ""
    if complete and ctx.settings.master != "ffv1":
        manifest = video["original_key"]
    elif complete:
        manifest = manifest_key(video_id)
        listed = [{"key": p["master_key"], "start": p["start_frame"], "end": p["start_frame"] + p["frames"]}
                  for p in pieces]
        await asyncio.to_thread(storage.put_bytes, manifest, json.dumps({"pieces": listed}).encode(), "master")
    return {
        "index": index, "index_key": index_key, "features_key": features_key, "cuts": found,
        "manifest": manifest, "has_track": track is not None,
    }


async def _learned_probabilities(
    ctx: StageContext, video_id: int, old_features_key: str, features_key: str, pieces: list[dict[str, Any]],
    prefix: int, complete: bool,
) -> np.ndarray | None:
    """TransNetV2's answers for the encoded prefix, stored beside ``features_key``: the answers kept beside the
    previous features, extended by the windows the new segments complete (``learned.window_probabilities``).
    None if a segment was encoded without the 48x27 frames (``HEATERS_DETECTOR`` was changed meanwhile)."""
    from heaters.media.learned import CONTEXT, window_probabilities

    storage = ctx.storage
    done = np.zeros(0, np.float32)
    kept = probabilities_key(old_features_key) if old_features_key else None
    if kept is not None and await asyncio.to_thread(storage.exists, kept):
        done = np.load(io.BytesIO(await asyncio.to_thread(storage.get_bytes, kept)))
    offset = max(0, len(done) - CONTEXT)
    small = []
    for p in pieces:
        lo, hi = p["start_frame"], p["start_frame"] + p["frames"]
        if hi <= offset:
            continue
        key = small_frames_key(p["thumbs_key"])
        if not await asyncio.to_thread(storage.exists, key):
            warn_without_small_frames(video_id, ctx.settings.detector)
            return None
        data = np.load(io.BytesIO(await asyncio.to_thread(storage.get_bytes, key)))
        small.append(data[max(0, offset - lo):])
    frames = np.concatenate(small) if small else np.zeros((0, 27, 48, 3), np.uint8)
    if len(frames) != prefix - offset:
        raise MediaError(f"the segments' small frames cover {len(frames)} frames, expected {prefix - offset}",
                         "run `heaters retry` on the video")
    new = await asyncio.to_thread(window_probabilities, frames, offset=offset, start=len(done),
                                  total=prefix if complete else None)
    probabilities = np.concatenate([done, new]).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, probabilities)
    await asyncio.to_thread(storage.put_bytes, probabilities_key(features_key), buffer.getvalue(), "features")
    return probabilities


async def _apply(
    ctx: StageContext, video_id: int, work: dict[str, Any], first: dict[str, Any], prefix: int, complete: bool,
    finished: int, planned: int,
) -> bool:
    """Resize and split the tail, point the video at the new index and features: one transaction."""
    timeline = stored_timeline(first["timeline"])
    total = prefix if complete else max(timeline.estimated_frames, prefix + 1)
    edge = plan_math.committed_edge(prefix, complete)
    stamp = now()
    async with write_transaction(SourceVideo._meta.db):
        query = SourceVideo.select().where(SourceVideo.id == video_id)
        if SourceVideo._meta.db.engine_type == "postgres":
            query = query.lock_rows("UPDATE")
        video = await query.first()
        if video is None or video["state"] != "encoding" or _committed_prefix(video) >= prefix:
            return False  # another worker got further meanwhile
        work["old_keys"] = (video["proxy_index_key"], video["features_key"])  # as they are now, not as read
        clips = await Clip.select().where(
            (Clip.source_video == video_id) & (Clip.state != "superseded")
        ).order_by(Clip.start_frame)
        tail = next((c for c in clips if c["state"] == "encoding"), None)
        tail_state = "pending_review" if complete else "encoding"
        if not clips:
            starts = [0, *plan_math.split_tail(0, work["cuts"], edge)]
            await _insert_spans(video_id, starts, total, tail_state, stamp)
        elif tail is not None:
            new = plan_math.split_tail(tail["start_frame"], work["cuts"], edge)
            if new:
                await Clip.update({Clip.end_frame: new[0], Clip.state: "pending_review", Clip.updated_at: stamp}).where(
                    Clip.id == tail["id"]
                )
                await _insert_spans(video_id, list(new), total, tail_state, stamp)
            else:
                await Clip.update({Clip.end_frame: total, Clip.state: tail_state, Clip.updated_at: stamp}).where(
                    Clip.id == tail["id"]
                )
        live = await Clip.select(Clip.start_frame, Clip.end_frame).where(
            (Clip.source_video == video_id) & (Clip.state != "superseded")
        ).order_by(Clip.start_frame)
        problems = cut_algebra.mece_problems([cut_algebra.Span(c["start_frame"], c["end_frame"]) for c in live], total)
        if problems:
            raise MediaError(f"video {video_id}: the clips would not partition it: {problems[:3]}", "report this bug")
        index = work["index"]
        values: dict[Any, Any] = {
            SourceVideo.total_frames: total,
            SourceVideo.fps_num: timeline.fps.numerator, SourceVideo.fps_den: timeline.fps.denominator,
            SourceVideo.proxy_key: pieces_proxy_key(video_id), SourceVideo.proxy_index_key: work["index_key"],
            SourceVideo.features_key: work["features_key"], SourceVideo.cut_version: video["cut_version"] + 1,
            SourceVideo.updated_at: stamp,
            SourceVideo.progress: {
                "stage": "encode", "percent": round(100.0 * prefix / total, 1), "frames": prefix, "total": total,
                "segments": planned, "segments_done": finished,
                # Since the plan (segment 0's row): the pace so far, from which the pages estimate the time left.
                "seconds": _seconds_since(first["created_at"], stamp),
            },
        }
        if not video["width"]:
            values[SourceVideo.width], values[SourceVideo.height] = index["width"], index["height"]
        if complete:
            values.update({SourceVideo.state: "encoded", SourceVideo.master_key: work["manifest"],
                           SourceVideo.has_audio: timeline.has_audio, SourceVideo.lease_until: None,
                           SourceVideo.attempts: 0})
        await SourceVideo.update(values).where(SourceVideo.id == video_id)
    old_features = work["old_keys"][1]
    for old in (*work["old_keys"], probabilities_key(old_features) if old_features else ""):
        if old and old not in (work["index_key"], work["features_key"], probabilities_key(work["features_key"])):
            try:
                await asyncio.to_thread(ctx.storage.delete, old)
            except Exception:  # a leftover costs a few kB; the janitor's business, not a failure
                log.debug("could not delete %s", old)
    return True


def _seconds_since(then: Any, stamp: Any) -> float | None:
    if then is None:
        return None
    if then.tzinfo is None:  # SQLite hands timestamps back without their zone; they are stored in UTC
        then = then.replace(tzinfo=stamp.tzinfo)
    return round((stamp - then).total_seconds(), 1)


async def _insert_spans(video_id: int, starts: list[int], total: int, tail_state: str, stamp: Any) -> None:
    """Clips from each start to the next (the last to ``total``, in ``tail_state``), numbered on from the
    video's highest number (the tail, resized, keeps its own)."""
    ends = [*starts[1:], total]
    top = await highest_clip_number(video_id)
    await Clip.insert(
        *(Clip(source_video=video_id, start_frame=s, end_frame=e,
               state=tail_state if e == total else "pending_review", created_at=stamp, updated_at=stamp,
               number=top + n + 1)
          for n, (s, e) in enumerate(zip(starts, ends, strict=True)))
    )


async def master_pieces(ctx: StageContext, master_key: str) -> list[tuple[str, int, int]]:
    """The pieces a master manifest lists: (key, start frame, end frame)."""
    data = json.loads(await asyncio.to_thread(ctx.storage.get_bytes, master_key))
    return [(p["key"], int(p["start"]), int(p["end"])) for p in data["pieces"]]
