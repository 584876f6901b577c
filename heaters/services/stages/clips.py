"""The stages of an approved clip: export → keyframes → embed.

Export reads the master through the host's ``MasterCache`` (one local copy shared by concurrent exports). A
master in an archive storage class cannot be read: the export requests a restore, puts the clip back to
``approved`` with an error saying so, gives the attempt back and waits ``restore_poll_seconds`` — a cold master
delays an export but never fails it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import numpy as np

from heaters import pipeline
from heaters.db.engine import write_transaction
from heaters.db.tables import Artifact, Clip, Embedding, SourceVideo
from heaters.errors import ColdStorage, MediaError
from heaters.services.review import now
from heaters.services.stages import context as keys
from heaters.services.stages import segments
from heaters.services.stages.context import StageContext
from heaters.services.stages.lease import Claim
from heaters.services.stages.runner import run_stage

KEYFRAMES = 3


async def export(ctx: StageContext, clip_id: int) -> str:
    """``approved → exporting → exported``: encode the clip's frames from the master to an MP4."""
    return await run_stage(
        ctx, pipeline.stage("export"), clip_id, lambda held, scratch: _export(ctx, held, scratch)
    )


async def _export(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.export import WHOLE, MasterPiece, export_clip

    clip, settings, storage = held.row, ctx.settings, ctx.storage
    video = await SourceVideo.select(SourceVideo.id, SourceVideo.master_key, SourceVideo.original_key).where(
        SourceVideo.id == clip["source_video"]
    ).first()
    if video is None or not video["master_key"]:
        raise MediaError(f"the video of clip {held.row_id} has no master", "retry the video's encode")
    master_key = video["master_key"]
    # A video encoded in segments keeps its master as pieces: only the pieces the clip spans are read.
    needed = [(master_key, 0, WHOLE)]
    if segments.is_manifest(master_key):
        needed = [
            (key, lo, hi) for key, lo, hi in await segments.master_pieces(ctx, master_key)
            if lo < clip["end_frame"] and hi > clip["start_frame"]
        ]
    for key, _, _ in needed:
        try:
            readable = await asyncio.to_thread(storage.ensure_readable, key)
        except ColdStorage:
            readable = False
        if not readable:
            await _wait_for_restore(ctx, held, key)
            return
    out = scratch / "clip.mp4"

    def work() -> None:
        with contextlib.ExitStack() as stack:
            pieces = [MasterPiece(stack.enter_context(ctx.cache.open(storage, key)), lo, hi) for key, lo, hi in needed]
            export_clip(
                pieces, out, clip["start_frame"], clip["end_frame"], crf=settings.export_crf,
                preset=settings.export_preset, abort=held.lost.is_set,
                original=master_key == video["original_key"],  # HEATERS_MASTER=original
            )

    try:
        await asyncio.to_thread(work)
    except ColdStorage:  # archived between the check and the download
        await _wait_for_restore(ctx, held, master_key)
        return
    await held.ensure_held()
    key = keys.clip_key(clip["source_video"], held.row_id, keys.job_name())
    await asyncio.to_thread(storage.move_file, key, out, "clip")
    done = pipeline.stage("export").done
    rows = [(key, 0, clip["start_frame"])]
    if await _finish_with_artifacts(held, done, "export", rows, export_key=key):
        await ctx.tasks.enqueue_next("export", held.row_id)
    else:
        await _drop_orphans(ctx, held, rows)


async def _wait_for_restore(ctx: StageContext, held: Claim, master_key: str) -> None:
    wait = ctx.settings.restore_poll_seconds
    retry_at = now() + timedelta(seconds=wait)
    message = (
        f"waiting for the master {master_key} to be restored from archive storage (restore requested; "
        f"next check at {retry_at:%Y-%m-%d %H:%M:%S} UTC)"
    )
    # Not a failure: the attempt is given back, so waiting never uses up the retry budget.
    if await held.fail(pipeline.stage("export").ready, message, retry_at=retry_at, refund=True):
        await ctx.tasks.enqueue("export", held.row_id, delay_ms=int(wait * 1000))


async def keyframes(ctx: StageContext, clip_id: int) -> str:
    """``exported → keyframed``: three representative JPEGs of the exported clip, stored as artifacts."""
    return await run_stage(
        ctx, pipeline.stage("keyframes"), clip_id, lambda held, scratch: _keyframes(ctx, held, scratch)
    )


async def _keyframes(ctx: StageContext, held: Claim, scratch: Path) -> None:
    from heaters.media.keyframes import pick_keyframes

    clip, storage = held.row, ctx.storage
    if not clip["export_key"]:
        raise MediaError(f"clip {held.row_id} has no exported file", "retry its export")
    path = storage.local_path(clip["export_key"])
    if path is None:
        path = scratch / "clip.mp4"
        await asyncio.to_thread(storage.download, clip["export_key"], path)
    picked = await asyncio.to_thread(pick_keyframes, path, KEYFRAMES)
    if not picked:
        raise MediaError(f"no keyframe could be taken from clip {held.row_id}", "retry its export")
    await held.ensure_held()
    rows, job = [], keys.job_name()
    for n, (frame, jpeg) in enumerate(picked):
        key = keys.keyframe_key(held.row_id, job, n)
        await asyncio.to_thread(storage.put_bytes, key, jpeg, "keyframe")
        rows.append((key, n, clip["start_frame"] + frame))
    if await _finish_with_artifacts(held, pipeline.stage("keyframes").done, "keyframe", rows):
        await ctx.tasks.enqueue_next("keyframes", held.row_id)
    else:
        await _drop_orphans(ctx, held, rows)


async def embed(ctx: StageContext, clip_id: int) -> str:
    """``keyframed → embedded``: one unit vector per clip (mean of its keyframes' embeddings)."""
    return await run_stage(
        ctx, pipeline.stage("embed"), clip_id, lambda held, scratch: _embed(ctx, held)
    )


async def _embed(ctx: StageContext, held: Claim) -> None:
    import cv2

    from heaters.media.embed import make_embedder

    settings, storage = ctx.settings, ctx.storage
    frames = await Artifact.select(Artifact.key).where(
        (Artifact.clip == held.row_id) & (Artifact.kind == "keyframe")
    ).order_by(Artifact.position)
    if not frames:
        raise MediaError(f"clip {held.row_id} has no keyframes", "retry its keyframes")
    embedder = make_embedder(settings.embedder, settings.embedder_model or None)

    def compute() -> np.ndarray:
        images = []
        for row in frames:
            data = np.frombuffer(storage.get_bytes(row["key"]), np.uint8)
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if bgr is None:
                raise MediaError(f"keyframe {row['key']} is not a readable JPEG", "retry the clip's keyframes")
            images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        vectors = embedder.embed(images)
        mean = vectors.mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype("<f4")

    vector = await asyncio.to_thread(compute)
    await held.ensure_held()
    async with write_transaction(Clip._meta.db):
        if await held.finish(pipeline.stage("embed").done):
            # One vector per clip and model: replace, so a re-run never leaves two.
            await Embedding.delete().where((Embedding.clip == held.row_id) & (Embedding.model == embedder.name))
            await Embedding.insert(
                Embedding(clip=held.row_id, model=embedder.name, dim=len(vector), vector=vector.tobytes())
            )


async def _drop_orphans(ctx: StageContext, held: Claim, rows: list[tuple[str, int, int]]) -> None:
    """The clip was taken from this worker (reopened, or its lease lost): delete the files just written unless
    another worker is now making (or has made) the same ones."""
    from heaters.services.withdraw import discard

    clip = await Clip.select(Clip.state, Clip.export_key).where(Clip.id == held.row_id).first()
    if clip is not None and (clip["state"] == held.working or clip["state"] in ("keyframed", "embedded")):
        return
    await discard(ctx.storage, [key for key, _, _ in rows if clip is None or key != clip["export_key"]])


async def _finish_with_artifacts(
    held: Claim, state: str, kind: str, rows: list[tuple[str, int, int]], **fields: object
) -> bool:
    """Advance the clip and make its artifacts of ``kind`` exactly ``rows`` (key, position, frame), in one
    transaction: a re-run never leaves extras, a crash never leaves the state without its artifacts."""
    async with write_transaction(Clip._meta.db):
        if not await held.finish(state, **fields):
            return False
        await Artifact.delete().where((Artifact.clip == held.row_id) & (Artifact.kind == kind))
        await Artifact.insert(
            *(Artifact(clip=held.row_id, kind=kind, key=key, position=pos, frame=frame) for key, pos, frame in rows)
        )
    return True
