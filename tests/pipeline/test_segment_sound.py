"""Sound for a video encoded in segments: one review track for the whole source, made by its own job beside
the segments, picked up by the frame index whichever finishes first, and the same track a whole-file encode
makes (packet for packet), so seams have no gap or click."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from heaters.db.tables import ReviewAudio, Segment
from heaters.media.synthetic import make_video
from heaters.media.transcode import transcode
from heaters.services import stages
from heaters.services.stages import StageContext
from heaters.settings import Settings

pytestmark = pytest.mark.slow

SHOTS = (40, 45, 50, 35, 40, 40)  # 250 frames, 10 s at 25 fps, a tone changing pitch with each shot


def _index(ctx: StageContext, key: str) -> dict[str, Any]:
    return json.loads(ctx.storage.get_bytes(key))


def _decode_packets(audio: dict[str, Any], data: list[bytes]) -> np.ndarray:
    """Decode AAC packets as the page does (one AudioDecoder, the first packet only primes it)."""
    codec = av.CodecContext.create("aac", "r")
    codec.extradata = base64.b64decode(audio["description"])
    out = []
    for chunk in data:
        for frame in codec.decode(av.Packet(chunk)):
            out.append(frame.to_ndarray().reshape(-1))
    for frame in codec.decode(None):
        out.append(frame.to_ndarray().reshape(-1))
    return np.concatenate(out)


async def test_a_segmented_video_gets_one_track_that_the_index_carries(db: Settings, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.videos import get_video

    ctx = StageContext.from_settings(replace(db, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=SHOTS, size=(160, 90), audio=True)
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    assert await stages.download(ctx, video_id) == "done"
    assert await stages.encode(ctx, video_id) == "done"
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    track = await ReviewAudio.select().where(ReviewAudio.source_video == video_id).first()
    assert track is not None and track["state"] == "pending"

    # The first clips are reviewable before the sound: the index says it is on its way.
    for row in rows[:4]:
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    video = await get_video(video_id)
    early_key = video["proxy_index_key"]
    early = _index(ctx, early_key)
    assert early["audio_pending"] is True and "audio" not in early

    # The track arrives while the rest encodes: the current index gets it at once, later ones keep it.
    assert await stages.encode_review_audio(ctx, track["id"]) == "done"
    video = await get_video(video_id)
    attached = _index(ctx, video["proxy_index_key"])
    assert "audio" in attached and "audio_pending" not in attached and attached["frames"] == early["frames"]
    assert not ctx.storage.exists(early_key)  # the index without sound is replaced, not kept beside it
    for row in rows[4:]:
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    video = await get_video(video_id)
    assert video["state"] == "encoded" and video["has_audio"] is True
    index = _index(ctx, video["proxy_index_key"])
    audio, peaks = index["audio"], index["peaks"]
    assert index["complete"] is True and index["frames"] == truth.frames

    # Packets cover the whole duration, peaks come at 100 bins a second.
    assert (audio["codec"], audio["sample_rate"]) == ("mp4a.40.2", 48000)
    seconds = truth.frames / 25
    assert audio["pts"][0] <= 0 and audio["pts"][-1] + 1024 >= seconds * 48000
    assert len(audio["offsets"]) == len(audio["sizes"]) == len(audio["pts"])
    assert peaks["rate"] == 100 and abs(peaks["bins"] - seconds * 100) <= 2
    assert len(ctx.storage.get_bytes(peaks["key"])) == peaks["bins"] * peaks["channels"] * 2
    data = ctx.storage.get_bytes(audio["key"])
    assert len(data) == audio["bytes"]

    # A seam region (frames 20..30, the seam at 25) decodes without a gap: as many samples as its packets span.
    from heaters.media.frame_index import audio_window

    window = audio_window(audio, truth.fps, 20, 30)
    packets = [data[o:o + s] for o, s in zip(window["offsets"], window["sizes"], strict=True)]
    samples = _decode_packets(audio, packets)
    spanned = window["pts"][-1] + 1024 - window["pts"][0]
    assert len(samples) == spanned >= round(10 / 25 * 48000)
    # The tone (amplitude 0.3) never drops out across the seam: every 10 ms after the priming packet sounds.
    blocks = samples[1024:][: (len(samples) - 1024) // 480 * 480].reshape(-1, 480)
    loudness = np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1))
    assert len(blocks) >= 40 and loudness.min() > 0.15, loudness.min()

    # Packet for packet what a whole-file encode of the same source muxes into its proxy.
    whole = transcode(truth.path, tmp_path / "whole.mkv", tmp_path / "whole.mp4", proxy_preset="ultrafast")
    reference = whole.index["audio"]
    proxy = (tmp_path / "whole.mp4").read_bytes()
    assert reference["pts"] == audio["pts"] and reference["description"] == audio["description"]
    assert all(
        proxy[o:o + s] == data[p:p + t]
        for o, s, p, t in zip(reference["offsets"], reference["sizes"], audio["offsets"], audio["sizes"], strict=True)
    )
    assert whole.peaks_path is not None
    assert whole.peaks_path.read_bytes() == ctx.storage.get_bytes(peaks["key"])


async def test_a_track_done_before_any_segment_is_in_the_first_index(db: Settings, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.videos import get_video

    ctx = StageContext.from_settings(replace(db, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=(60, 70), size=(160, 90), audio=True)
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    track = await ReviewAudio.select().where(ReviewAudio.source_video == video_id).first()
    assert track is not None
    assert await stages.encode_review_audio(ctx, track["id"]) == "done"
    assert await stages.encode_review_audio(ctx, track["id"]) == "skipped"  # a duplicate message does nothing
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    assert await stages.encode_segment(ctx, rows[0]["id"]) == "done"
    index = _index(ctx, (await get_video(video_id))["proxy_index_key"])
    assert "audio" in index and "audio_pending" not in index


async def test_a_silent_source_gets_no_track(db: Settings, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.videos import get_video

    ctx = StageContext.from_settings(replace(db, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=(60, 70), size=(160, 90))
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    assert not await ReviewAudio.select().where(ReviewAudio.source_video == video_id)
    rows = await Segment.select().where(Segment.source_video == video_id).order_by(Segment.position)
    assert await stages.encode_segment(ctx, rows[0]["id"]) == "done"
    index = _index(ctx, (await get_video(video_id))["proxy_index_key"])
    assert "audio" not in index and "audio_pending" not in index


async def test_retrying_a_video_redoes_its_failed_sound(db: Settings) -> None:
    from fractions import Fraction

    from heaters.services.retry import retry_all, retry_video
    from heaters.services.videos import create_video

    video_id = await create_video("Segmented", state="ready", fps=Fraction(25), total_frames=250, width=160,
                                  height=90, initial_cuts=())
    await ReviewAudio.insert(ReviewAudio(source_video=video_id, state="audio_failed", error="boom", attempts=3))
    assert await retry_video(video_id) is True  # the video itself did not fail; its sound did
    row = await ReviewAudio.select().where(ReviewAudio.source_video == video_id).first()
    assert row is not None and (row["state"], row["attempts"], row["error"]) == ("pending", 0, "")
    assert await retry_video(video_id) is False  # nothing failed any more
    await ReviewAudio.update({ReviewAudio.state: "audio_failed"}).where(ReviewAudio.source_video == video_id)
    assert await retry_all() == (1, 0)  # `heaters retry --all` finds the failed sound too
    assert await ReviewAudio.count().where(ReviewAudio.state == "pending") == 1


async def test_a_track_that_fails_leaves_the_video_silent_with_a_warning(db: Settings, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.videos import get_video

    ctx = StageContext.from_settings(replace(db, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=(60, 70), size=(160, 90), audio=True)
    video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
    for stage in (stages.download, stages.encode):
        assert await stage(ctx, video_id) == "done"
    for row in await Segment.select(Segment.id).where(Segment.source_video == video_id):
        assert await stages.encode_segment(ctx, row["id"]) == "done"
    video = await get_video(video_id)
    assert _index(ctx, video["proxy_index_key"])["audio_pending"] is True
    ctx.storage.delete(video["original_key"])  # the original is gone: its sound cannot be made
    track = await ReviewAudio.select(ReviewAudio.id).where(ReviewAudio.source_video == video_id).first()
    assert track is not None and await stages.encode_review_audio(ctx, track["id"]) == "failed"
    video = await get_video(video_id)
    assert video["warning"].startswith("its sound could not be prepared for review")
    index = _index(ctx, video["proxy_index_key"])
    assert "audio" not in index and "audio_pending" not in index  # the page stops waiting for it
    assert index["frames"] == truth.frames and video["state"] == "encoded"  # review goes on, silent
