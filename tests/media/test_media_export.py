from __future__ import annotations

import av
import pytest

from heaters.errors import MediaError
from heaters.media.export import export_clip
from heaters.media.transcode import transcode

from .conftest import decode_numbers


@pytest.fixture(scope="module")
def master(media_dir, clip_with_audio):
    path = media_dir / "export-master.mkv"
    transcode(clip_with_audio.path, path, media_dir / "export-proxy.mp4")
    return path


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(0, 10, id="from-first-frame"),
        pytest.param(13, 47, id="middle"),
        pytest.param(61, 85, id="to-last-frame"),
        pytest.param(40, 41, id="single-frame"),
    ],
)
def test_export_holds_exactly_the_span(tmp_path, master, start, end) -> None:
    out = tmp_path / "clip.mp4"
    result = export_clip(master, out, start, end, preset="ultrafast")
    assert result.frames == end - start
    assert decode_numbers(out) == list(range(start, end))
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.pix_fmt == "yuv420p" and audio.codec_context.name == "aac"
        seconds = (end - start) / 25
        assert float(audio.duration * audio.time_base) == pytest.approx(seconds, abs=1024 / 48000 + 1e-3)
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    assert not list(tmp_path.glob("*.part"))


def test_export_reports_progress(tmp_path, master) -> None:
    seen: list[tuple[int, int]] = []
    export_clip(master, tmp_path / "c.mp4", 0, 60, preset="ultrafast", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (60, 60) and (25, 60) in seen


@pytest.mark.parametrize(("start", "end"), [(80, 90), (5, 5), (-1, 3)], ids=["past-end", "empty", "negative"])
def test_export_outside_the_video_fails_cleanly(tmp_path, master, start, end) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(MediaError):
        export_clip(master, out, start, end, preset="ultrafast")
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_export_uses_inter_frames(tmp_path, master) -> None:
    """The master is all-intra; the export must not inherit that (it would be several times larger)."""
    out = tmp_path / "clip.mp4"
    export_clip(master, out, 0, 60, preset="ultrafast")
    with av.open(str(out)) as container:
        keys = [p.is_keyframe for p in container.demux(video=0) if p.size]
    assert keys[0] and sum(keys) <= 2


def test_export_encodes_with_frame_threads(tmp_path, master) -> None:
    """PyAV's default sliced threading costs 5-10% wall time here; x264 records in the stream which one ran."""
    out = tmp_path / "clip.mp4"
    export_clip(master, out, 0, 10, preset="ultrafast")
    assert b"sliced_threads=0" in out.read_bytes()
