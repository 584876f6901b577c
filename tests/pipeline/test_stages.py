"""Stage functions called directly (no queue): the whole chain on a generated video, frame-exact exports,
keyframes and embeddings, idempotent re-runs, and what failures do to rows."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from heaters.db.tables import Artifact, Clip, Embedding, SourceVideo
from heaters.media.synthetic import make_video, read_frame_number
from heaters.services import stages
from heaters.services.stages import StageContext
from heaters.settings import Settings

pytestmark = pytest.mark.slow


def _ctx(settings: Settings) -> StageContext:
    from dataclasses import replace

    return StageContext.from_settings(replace(settings, export_preset="ultrafast", proxy_preset="ultrafast"))


async def _ready_video(ctx: StageContext, path: Path) -> int:
    from heaters.services.ingest import ingest

    video_id = await ingest(ctx.settings, ctx.storage, str(path))
    for stage in (stages.download, stages.encode, stages.detect):
        assert await stage(ctx, video_id) == "done"
    return video_id


def _frame_numbers(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


async def test_chain_to_embedded_with_frame_exact_export(db: Settings, tmp_path: Path) -> None:
    from heaters.services.review import approve
    from heaters.services.similar import similar_clips
    from heaters.services.videos import get_video, live_clips

    ctx = _ctx(db)
    truth = make_video(tmp_path / "v.mp4", shot_frames=(20, 26, 18), size=(160, 90), audio=True)
    video_id = await _ready_video(ctx, truth.path)
    video = await get_video(video_id)
    assert video["state"] == "ready" and video["total_frames"] == truth.frames
    clips = await live_clips(video_id)
    assert [c["start_frame"] for c in clips] == [0, *truth.cuts]
    # Each detected cut keeps its kind and confidence; the first clip starts with no cut.
    assert [c["cut_kind"] for c in clips] == ["", "hard", "hard"]
    assert clips[0]["cut_confidence"] is None and all(0 < c["cut_confidence"] <= 1 for c in clips[1:])
    # A poster from the proxy: a small JPEG 320 px wide in the video's shape.
    assert video["poster_key"] == f"proxies/{video_id}.poster.jpg"
    poster = cv2.imdecode(np.frombuffer(ctx.storage.get_bytes(video["poster_key"]), np.uint8), cv2.IMREAD_COLOR)
    assert poster.shape == (180, 320, 3) and 16 < float(poster.mean()) < 245

    # The master holds the burnt-in frame numbers 0..N-1, in order.
    master = ctx.storage.local_path(video["master_key"])
    assert master is not None
    assert _frame_numbers(master) == list(range(truth.frames))

    for clip in clips:
        await approve(clip["id"], user="alice")
        assert await stages.export(ctx, clip["id"]) == "done"
        assert await stages.keyframes(ctx, clip["id"]) == "done"
        assert await stages.embed(ctx, clip["id"]) == "done"

    middle = await Clip.select().where(Clip.id == clips[1]["id"]).first()
    assert middle["state"] == "embedded"
    assert re.fullmatch(rf"clips/{video_id}/{middle['id']}-[0-9a-f]{{8}}\.mp4", middle["export_key"])
    exported = ctx.storage.local_path(middle["export_key"])
    assert exported is not None
    assert _frame_numbers(exported) == list(range(middle["start_frame"], middle["end_frame"]))
    with av.open(str(exported)) as container:
        assert container.streams.audio, "the clip keeps its audio"

    keyframes = await Artifact.select().where((Artifact.clip == middle["id"]) & (Artifact.kind == "keyframe"))
    assert len(keyframes) == 3
    for art in keyframes:
        assert middle["start_frame"] <= art["frame"] < middle["end_frame"]
        assert ctx.storage.get_bytes(art["key"])[:2] == b"\xff\xd8"  # JPEG
    vectors = await Embedding.select().where(Embedding.clip == middle["id"])
    assert len(vectors) == 1 and vectors[0]["model"] == "colour-layout"
    vector = np.frombuffer(vectors[0]["vector"], "<f4")
    assert len(vector) == vectors[0]["dim"] and abs(float(np.linalg.norm(vector)) - 1) < 1e-4

    ranked = await similar_clips(middle["id"], k=5, model="colour-layout")
    assert {c for c, _ in ranked} == {clips[0]["id"], clips[2]["id"]}
    assert ranked[0][1] >= ranked[1][1]


async def test_the_original_as_master_writes_no_ffv1_and_exports_frame_exact(db: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    from heaters.services.review import approve
    from heaters.services.videos import get_video, live_clips

    ctx = _ctx(replace(db, master="original"))
    truth = make_video(tmp_path / "v.mp4", shot_frames=(20, 26, 18), size=(160, 90), audio=True, vfr=True)
    video_id = await _ready_video(ctx, truth.path)
    video = await get_video(video_id)
    assert video["master_key"] == video["original_key"] and video["master_key"].startswith("originals/")
    root = ctx.settings.resolved_storage_dir
    assert not (root / "masters").exists(), "no FFV1 master in storage"
    proxy = ctx.storage.local_path(video["proxy_key"])
    assert proxy is not None
    clips = await live_clips(video_id)
    middle = clips[1]
    await approve(middle["id"], user="alice")
    assert await stages.export(ctx, middle["id"]) == "done"
    row = await Clip.select().where(Clip.id == middle["id"]).first()
    exported = ctx.storage.local_path(row["export_key"])
    assert exported is not None
    assert _frame_numbers(exported) == _frame_numbers(proxy)[middle["start_frame"]:middle["end_frame"]]
    with av.open(str(exported)) as container:
        assert container.streams.audio, "the clip keeps its audio"


async def test_stages_are_idempotent(db: Settings, tmp_path: Path) -> None:
    from heaters.services.review import approve
    from heaters.services.videos import live_clips

    ctx = _ctx(db)
    truth = make_video(tmp_path / "v.mp4", shot_frames=(16, 16), size=(160, 90))
    video_id = await _ready_video(ctx, truth.path)
    # A duplicate message for each finished stage does nothing.
    for stage in (stages.download, stages.encode, stages.detect):
        assert await stage(ctx, video_id) == "skipped"
    clip = (await live_clips(video_id))[0]
    await approve(clip["id"], user="alice")
    results = await asyncio.gather(stages.export(ctx, clip["id"]), stages.export(ctx, clip["id"]))
    assert sorted(results) == ["done", "skipped"]  # two workers with the same message: one export
    assert await Clip.count().where(Clip.source_video == video_id) == 2
    assert await Artifact.count().where(Artifact.clip == clip["id"]) == 1


async def test_claim_is_exclusive_and_fenced(db: Settings) -> None:
    from heaters.services.stages.lease import claim
    from heaters.services.videos import create_video

    video_id = await create_video("x", state="downloaded")
    first = await claim(SourceVideo, video_id, ready="downloaded", working="encoding", lease_seconds=60)
    assert first is not None and first.attempts == 1
    assert await claim(SourceVideo, video_id, ready="downloaded", working="encoding", lease_seconds=60) is None
    # The lease runs out (the worker died); another worker takes the row over.
    await SourceVideo.update({SourceVideo.lease_until: first.row["created_at"]}).where(SourceVideo.id == video_id)
    second = await claim(SourceVideo, video_id, ready="downloaded", working="encoding", lease_seconds=60)
    assert second is not None and second.attempts == 2
    # The first worker wakes up: it can neither renew nor write its result.
    assert not await first.renew()
    assert not await first.finish("encoded")
    assert await second.finish("encoded", total_frames=10)
    row = await SourceVideo.select().where(SourceVideo.id == video_id).first()
    assert row["state"] == "encoded" and row["total_frames"] == 10 and row["attempts"] == 0


async def test_permanent_failures_mark_the_row_with_the_reason(db: Settings) -> None:
    from heaters.services.videos import create_video

    ctx = _ctx(db)
    # Permanent: the encode has no original to work from -> encode_failed with the reason, no exception.
    broken = await create_video("broken", state="downloaded")
    assert await stages.encode(ctx, broken) == "failed"
    row = await SourceVideo.select().where(SourceVideo.id == broken).first()
    assert row["state"] == "encode_failed" and "no downloaded original" in row["error"]
    # An object the row names is missing from storage: nothing to retry from -> detect_failed, named.
    missing = await create_video("missing", state="encoded")
    await SourceVideo.update({SourceVideo.features_key: "features/none.npy", SourceVideo.total_frames: 5}).where(
        SourceVideo.id == missing
    )
    assert await stages.detect(ctx, missing) == "failed"
    row = await SourceVideo.select().where(SourceVideo.id == missing).first()
    assert row["state"] == "detect_failed" and "features/none.npy" in row["error"]


async def test_transient_error_returns_row_then_gives_up(db: Settings, tmp_path: Path) -> None:
    from heaters import pipeline
    from heaters.services.stages.runner import run_stage
    from heaters.services.videos import create_video

    ctx = _ctx(db)
    video_id = await create_video("flaky", state="downloaded")

    async def flaky(held, scratch):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("storage went away")

    for attempt in range(1, db.max_attempts):
        with pytest.raises(ConnectionResetError):
            await run_stage(ctx, pipeline.stage("encode"), video_id, flaky)
        row = await SourceVideo.select().where(SourceVideo.id == video_id).first()
        assert (row["state"], row["attempts"]) == ("downloaded", attempt)
        assert "storage went away" in row["error"]
    outcome = await run_stage(ctx, pipeline.stage("encode"), video_id, flaky)
    assert outcome == "failed"
    row = await SourceVideo.select().where(SourceVideo.id == video_id).first()
    assert row["state"] == "encode_failed" and "ConnectionResetError" in row["error"]


async def test_detection_failure_is_detect_failed_not_one_clip(db: Settings) -> None:
    from heaters.services.videos import create_video, live_clips

    ctx = _ctx(db)
    video_id = await create_video("bad features", state="encoded", total_frames=40)
    ctx.storage.put_bytes("features/bad.npy", b"not numpy at all", "features")
    await SourceVideo.update({SourceVideo.features_key: "features/bad.npy"}).where(SourceVideo.id == video_id)
    assert await stages.detect(ctx, video_id) == "failed"
    row = await SourceVideo.select().where(SourceVideo.id == video_id).first()
    assert row["state"] == "detect_failed" and "unreadable" in row["error"]
    assert await live_clips(video_id) == []


async def test_a_late_withdrawal_never_deletes_the_export_of_a_new_approval(db: Settings, tmp_path: Path) -> None:
    """Reopen, approve again and export again before the reopen's files are deleted: the new export stays."""
    from heaters.services.review import approve, reopen
    from heaters.services.videos import live_clips
    from heaters.services.withdraw import discard

    ctx = _ctx(db)
    truth = make_video(tmp_path / "v.mp4", shot_frames=(16, 16), size=(160, 90))
    video_id = await _ready_video(ctx, truth.path)
    clip = (await live_clips(video_id))[0]
    await approve(clip["id"], user="alice")
    assert await stages.export(ctx, clip["id"]) == "done"
    assert await stages.keyframes(ctx, clip["id"]) == "done"
    withdrawn = (await reopen(clip["id"], user="alice", reason="again")).withdrawn
    await approve(clip["id"], user="alice")
    assert await stages.export(ctx, clip["id"]) == "done"
    assert await stages.keyframes(ctx, clip["id"]) == "done"
    await discard(ctx.storage, withdrawn)  # the first approval's files, deleted late
    row = await Clip.select().where(Clip.id == clip["id"]).first()
    assert row["export_key"] not in withdrawn
    assert _frame_numbers(ctx.storage.local_path(row["export_key"])) == list(range(clip["end_frame"]))
    kept = [r["key"] for r in await Artifact.select(Artifact.key).where(Artifact.clip == clip["id"])]
    assert kept and all(ctx.storage.exists(key) for key in kept)
