"""The stages of a video: download → encode → detect, each claiming the row, then enqueuing the next one.

Results reach storage under their final keys only whole (``Storage.put_*`` write a temporary name and rename,
or do a single PUT), and the row names a key only after the object is there, so a worker killed at any point
leaves either nothing or a complete object that the next attempt overwrites with identical content.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from heaters import pipeline
from heaters.errors import MediaError
from heaters.services.download import Fetched, copy_local, fetch_url, local_path_of
from heaters.services.source_policy import public_addresses_only
from heaters.services.stages import context as keys
from heaters.services.stages import segments
from heaters.services.stages.context import StageContext, warn_without_small_frames
from heaters.services.stages.lease import Claim
from heaters.services.stages.poster import make_poster
from heaters.services.stages.runner import run_stage
from heaters.services.videos import create_initial_clips

log = logging.getLogger(__name__)


# What a stage does once all its frames or bytes are through, so a follower does not see it stall at 100%.
FINISHING = {"encode": "verifying and indexing", "download": "storing"}


def _reporter(held: Claim, stage: str) -> Any:
    """A progress callback for a media thread: it only swaps a dict; the lease heartbeat writes it out, so the
    database sees at most one progress write per beat however fast the callback fires. It raises
    ``Abandoned`` once the lease is lost, which stops a download half-way."""
    started = time.monotonic()

    def report(done: int, total: int | None, unit: str = "frames") -> None:
        held.check(f"{stage} stopped after {done} {unit}")  # as the media loop's own check, which may come second
        percent = round(100.0 * done / total, 1) if total else None
        held.progress = {
            "stage": stage, "percent": percent, unit: done, "total": total,
            "seconds": round(time.monotonic() - started, 1),
        }
        if total and done >= total:  # the stage still has work after its last unit: say which
            held.progress["step"] = FINISHING.get(stage, "finishing")

    held.progress = {"stage": stage, "percent": 0.0}
    return report


async def download(ctx: StageContext, video_id: int) -> str:
    """``new → downloading → downloaded``: fetch the source (or check an uploaded original), store it."""
    return await run_stage(
        ctx, pipeline.stage("download"), video_id, lambda held, scratch: _download(ctx, held, scratch)
    )


async def _download(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.probe import probe
    from heaters.media.transcode import check_pixels

    video, video_id = held.row, held.row_id
    report = _reporter(held, "download")
    title = video["title"]
    key = video["original_key"]
    if key:  # uploaded or copied in by `heaters ingest FILE`: only check that it is usable
        local = ctx.storage.local_path(key)
        if local is None:
            local = scratch / keys.safe_name(key.rsplit("/", 1)[-1])
            await asyncio.to_thread(ctx.storage.download, key, local)
        path = local
    else:
        source = video["source"]
        local_source = local_path_of(source)
        if local_source is not None:
            fetched = await asyncio.to_thread(copy_local, local_source, scratch, _bytes(report))
        else:
            # Not the attempt's scratch space: a killed worker's partial download stays, and the next attempt
            # continues it instead of starting over (the janitor removes one nobody continues).
            partial = partial_download_dir(ctx, video_id)
            partial.mkdir(parents=True, exist_ok=True)
            def fetch() -> Fetched:
                with public_addresses_only(ctx.settings):
                    return fetch_url(source, partial, max_height=ctx.settings.max_height, progress=_bytes(report))

            fetched = await asyncio.to_thread(fetch)
        path, title = fetched.path, title or fetched.title
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes)", "the download or upload did not finish; try again")
    try:
        info = await asyncio.to_thread(probe, path)  # not a video, audio only, unreadable: MediaError
        check_is_video(path.name, info)
        check_pixels(path.name, info.width, info.height, ctx.settings.max_pixels)
    except MediaError as exc:
        if key or local_path_of(video["source"]) is not None:
            raise
        # Name what the person gave, not the scratch file it was saved as.
        raise MediaError(exc.message.replace(path.name, f"the download from {video['source']}"), exc.hint) from None
    await held.ensure_held()
    size = path.stat().st_size  # before the move below takes the file away
    held.progress = {"stage": "download", "percent": 100.0, "bytes": size, "total": size}
    if not key:
        key = keys.original_key(video_id, path.name)
        await asyncio.to_thread(ctx.storage.move_file, key, path, "original")
    shutil.rmtree(partial_download_dir(ctx, video_id), ignore_errors=True)
    if await held.finish(
        pipeline.stage("download").done, original_key=key, title=title or path.stem, width=info.width,
        height=info.height, has_audio=info.has_audio, progress=held.progress,
    ):
        await ctx.tasks.enqueue_next("download", video_id)


# FFmpeg renders text files as "video" (ANSI art); nobody ingesting a .txt meant that.
TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})


def partial_download_dir(ctx: StageContext, video_id: int) -> Path:
    """Where the download of a URL is written while it runs, kept across attempts so that it can resume."""
    return (ctx.settings.data_dir / "work" / f"partial-download-{video_id}").resolve()


def check_is_video(name: str, info: Any) -> None:
    """Refuse what FFmpeg can open but is not a video: text files, single still images."""
    if info.codec in TEXT_CODECS:
        raise MediaError(f"{name} is a text file, not a video", "give a video file (e.g. MP4, MKV, WebM, MOV)")
    if info.frames <= 1 and info.duration == 0:
        raise MediaError(f"{name} is a still image or holds no video frames, not a video", "give a video file")


def _bytes(report: Any) -> Any:
    return lambda done, total: report(done, total, "bytes")


async def encode(ctx: StageContext, video_id: int) -> str:
    """``downloaded → encoding → encoded``: master, proxy, frame index and features from one decode."""
    return await run_stage(
        ctx, pipeline.stage("encode"), video_id, lambda held, scratch: _encode(ctx, held, scratch)
    )


async def _encode(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.frame_index import dumps
    from heaters.media.transcode import transcode

    video_id, settings, storage = held.row_id, ctx.settings, ctx.storage
    original_key = held.row["original_key"]
    if not original_key:
        raise MediaError(f"video {video_id} has no downloaded original", "run `heaters retry` to download it")
    if await segments.plan_or_resume(ctx, held):
        return  # a long source: its segments are encoded by any free worker, see ``stages.segments``
    report = _reporter(held, "encode")
    original = storage.local_path(original_key)
    if original is None:
        original = scratch / keys.safe_name(original_key.rsplit("/", 1)[-1])
        await asyncio.to_thread(storage.download, original_key, original)
    master, proxy, features = scratch / "master.mkv", scratch / "proxy.mp4", scratch / "features.npy"
    result = await asyncio.to_thread(
        transcode, original, master, proxy, features_path=features, proxy_crf=settings.proxy_crf,
        proxy_preset=settings.proxy_preset, proxy_short_side=settings.proxy_short_side, progress=report,
        abort=held.lost.is_set, max_pixels=settings.max_pixels, accept_short=settings.accept_short_media,
        small_frames=settings.detector != "builtin",
        keep_master=settings.master == "ffv1",
    )
    if result.warning:
        log.warning("encode %s: %s", video_id, result.warning)
    index: dict[str, Any] = dict(result.index)
    if not int(index["frames"]) == result.total_frames == len(result.features):
        raise MediaError(
            f"frame counts disagree: index {index['frames']}, encode {result.total_frames}, "
            f"features {len(result.features)}", "this is a bug; keep the original and report it",
        )
    await held.ensure_held()
    held.progress = {**(held.progress or {}), "stage": "encode", "percent": 100.0, "step": "storing"}
    # Small objects first: a row names no key before every object exists in full.
    # Moved, not copied: storage gets the very files the encode wrote (a rename on local storage).
    if result.small_path is not None:
        small_key = keys.small_frames_key(keys.features_key(video_id))
        await asyncio.to_thread(storage.move_file, small_key, result.small_path, "features")
    await asyncio.to_thread(storage.move_file, keys.features_key(video_id), features, "features")
    if result.peaks_path is not None:
        await asyncio.to_thread(storage.move_file, keys.peaks_key(video_id), result.peaks_path, "proxy_index")
    await asyncio.to_thread(
        storage.put_bytes, keys.proxy_index_key(video_id), dumps(index).encode(), "proxy_index"
    )
    await asyncio.to_thread(storage.move_file, keys.proxy_key(video_id), proxy, "proxy")
    # With HEATERS_MASTER=original the downloaded file is the master: exports read it on the same grid.
    master_key = original_key
    if settings.master == "ffv1":
        master_key = keys.master_key(video_id)
        await asyncio.to_thread(storage.move_file, master_key, master, "master")
    held.progress = {"stage": "encode", "percent": 100.0, "frames": result.total_frames}
    if await held.finish(
        pipeline.stage("encode").done, fps_num=result.fps.numerator, fps_den=result.fps.denominator,
        total_frames=result.total_frames, width=result.width, height=result.height, has_audio=result.has_audio,
        master_key=master_key, proxy_key=keys.proxy_key(video_id),
        proxy_index_key=keys.proxy_index_key(video_id), features_key=keys.features_key(video_id),
        progress=held.progress, warning=result.warning,
    ):
        await ctx.tasks.enqueue_next("encode", video_id)


async def detect(ctx: StageContext, video_id: int) -> str:
    """``encoded → detecting → ready``: scene cuts from the stored features become the first clips."""
    return await run_stage(
        ctx, pipeline.stage("detect"), video_id, lambda held, scratch: _detect(ctx, held)
    )


async def _detect(ctx: StageContext, held: Claim) -> None:
    from heaters.media.scenes import detector_for

    video, video_id, settings = held.row, held.row_id, ctx.settings
    total = int(video["total_frames"])
    if not video["features_key"] or total <= 0:
        raise MediaError(f"video {video_id} has no encoded features", "run `heaters retry` to encode it again")
    data = await asyncio.to_thread(ctx.storage.get_bytes, video["features_key"])
    try:
        features = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise MediaError(f"the stored features of video {video_id} are unreadable: {exc}", "retry the encode") from None
    if features.ndim != 2 or len(features) != total:
        raise MediaError(
            f"the stored features cover {len(features)} frames, the video has {total}",
            "retry the encode (`heaters retry`)",
        )
    held.progress = {"stage": "detect", "percent": 0.0}
    detector = detector_for(settings.detector, settings.scene_threshold, settings.scene_min_frames)
    if detector.wants_small:
        found = await _detect_learned(ctx, video_id, detector, features, video["features_key"], total)
    else:
        found = await asyncio.to_thread(detector.detect, features, None)
    cuts = tuple(int(c.frame) for c in found)
    if any(not 0 < c < total for c in cuts) or list(cuts) != sorted(set(cuts)):
        raise MediaError(f"scene detection returned invalid cuts {list(cuts)[:10]}", "this is a bug; report it")
    await held.ensure_held()
    # Idempotent: after a crash between these two writes the clips exist and are found, not duplicated.
    await create_initial_clips(video_id, cuts, total, {c.frame: (c.kind, c.confidence) for c in found})
    poster = await make_poster(ctx, video)
    held.progress = {"stage": "detect", "percent": 100.0, "cuts": len(cuts)}
    await held.finish(pipeline.stage("detect").done, progress=held.progress, poster_key=poster)


async def _detect_learned(
    ctx: StageContext, video_id: int, detector: Any, features: np.ndarray, features_key: str, total: int
) -> tuple[Any, ...]:
    """A learned detector's cuts: from TransNetV2's answers kept beside the features (a video encoded in
    segments has them already), else from the 48x27 frames the encode made."""
    kept = keys.probabilities_key(features_key)
    if await asyncio.to_thread(ctx.storage.exists, kept):
        p = np.load(io.BytesIO(await asyncio.to_thread(ctx.storage.get_bytes, kept)), allow_pickle=False)
        if len(p) == total:
            return tuple(await asyncio.to_thread(detector.detect_with, features, p))
    small = await _small_frames(ctx, features_key, total)
    if small is None:
        from heaters.media.scenes import detector_for

        warn_without_small_frames(video_id, ctx.settings.detector)
        builtin = detector_for("builtin", ctx.settings.scene_threshold, ctx.settings.scene_min_frames)
        return tuple(await asyncio.to_thread(builtin.detect, features, None))
    return tuple(await asyncio.to_thread(detector.detect, features, small))


async def _small_frames(ctx: StageContext, features_key: str, total: int) -> np.ndarray | None:
    """The 48x27 frames the encode made for a learned detector, None if it made none."""
    key = keys.small_frames_key(features_key)
    if not await asyncio.to_thread(ctx.storage.exists, key):
        return None
    data = await asyncio.to_thread(ctx.storage.get_bytes, key)
    small = np.load(io.BytesIO(data), allow_pickle=False)
    if len(small) != total:
        raise MediaError(f"{key} covers {len(small)} frames, the video has {total}", "retry the encode")
    return small


def progress_json(row: dict[str, Any]) -> dict[str, Any]:
    """The progress column as a dict whatever the database driver returned."""
    value = row.get("progress") or {}
    return json.loads(value) if isinstance(value, str) else dict(value)
