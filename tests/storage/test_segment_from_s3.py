"""A segment job reads its part of an original in S3 through a presigned URL (HTTP ranges), no download."""

from __future__ import annotations

from pathlib import Path

import av

from heaters import segments
from heaters.media.segment import encode_segment, source_timeline
from heaters.media.synthetic import make_video, read_frame_number


def _numbers(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def test_a_segment_of_an_s3_original_holds_exactly_its_frames(make_s3, tmp_path: Path) -> None:
    storage = make_s3()
    video = make_video(tmp_path / "source.mp4", shot_frames=(40, 45), size=(160, 90), audio=True)
    storage.put_file("originals/1/source.mp4", video.path, "original")
    url = storage.url("originals/1/source.mp4", "original")
    assert url and url.startswith("http")
    timeline = source_timeline(url)
    assert timeline == source_timeline(video.path)
    planned = segments.plan(timeline.estimated_frames, timeline.fps, 1.0)
    middle = planned[1]
    assert middle.end is not None
    result = encode_segment(
        url, tmp_path / "m.mkv", tmp_path / "p.mp4", tmp_path / "t.npy", start=middle.start, end=middle.end,
        timeline=timeline, proxy_preset="ultrafast",
    )
    assert result.frames == middle.end - middle.start
    assert _numbers(tmp_path / "m.mkv") == _numbers(tmp_path / "p.mp4") == list(range(middle.start, middle.end))
    with av.open(str(tmp_path / "m.mkv")) as container:
        assert container.streams.audio[0].codec_context.name == "flac"


def test_the_review_track_of_an_s3_original_is_read_through_its_url(make_s3, tmp_path: Path) -> None:
    from fractions import Fraction

    from heaters.media.review_track import encode_review_track

    storage = make_s3()
    video = make_video(tmp_path / "source.mp4", shot_frames=(40, 45), size=(160, 90), audio=True)
    storage.put_file("originals/1/source.mp4", video.path, "original")
    url = storage.url("originals/1/source.mp4", "original")
    assert url
    remote = encode_review_track(url, tmp_path / "r.m4a", tmp_path / "r.peaks", audio_start=Fraction(0))
    local = encode_review_track(video.path, tmp_path / "l.m4a", tmp_path / "l.peaks", audio_start=Fraction(0))
    assert remote.index["pts"] == local.index["pts"] and remote.samples == local.samples >= 85 / 25 * 48000
    assert (tmp_path / "r.m4a").read_bytes() == (tmp_path / "l.m4a").read_bytes()
