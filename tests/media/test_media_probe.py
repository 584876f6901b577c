from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters.errors import MediaError
from heaters.media.probe import normalise_rate, probe, refuse_references
from heaters.media.scenes import detect_file
from heaters.media.transcode import transcode

from .conftest import decode_numbers, remux, write_audio_only


def test_probe_reads_a_real_video(clip_with_audio) -> None:
    info = probe(clip_with_audio.path)
    assert (info.width, info.height, info.fps) == (320, 180, Fraction(25))
    assert info.frames == clip_with_audio.frames
    assert info.has_audio and info.has_video and info.rotation == 0
    assert info.duration == pytest.approx(clip_with_audio.frames / 25, abs=0.05)


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.mp4"
    path.write_bytes(b"")
    return path


def _text(tmp: Path) -> Path:
    path = tmp / "notes.mp4"
    path.write_text("these are meeting notes, not a video\n" * 20)
    return path


def _audio_only(tmp: Path) -> Path:
    path = tmp / "song.m4a"
    write_audio_only(path)
    return path


def _truncated(tmp: Path, source: Path) -> Path:
    path = tmp / "truncated.mp4"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_INPUTS = [
    pytest.param(_empty, "is empty", id="empty-file"),
    pytest.param(_text, "not a video file", id="text-renamed-mp4"),
    pytest.param(_audio_only, "only audio", id="audio-only"),
    pytest.param(lambda tmp: _truncated(tmp, Path("")), "not a video file", id="truncated"),
]


@pytest.mark.parametrize(("make", "message"), BAD_INPUTS)
@pytest.mark.parametrize("operation", ["probe", "transcode", "scenes"])
def test_bad_inputs_raise_a_clear_media_error(tmp_path, clip_with_audio, make, message, operation) -> None:
    path = _truncated(tmp_path, clip_with_audio.path) if make.__name__ == "<lambda>" else make(tmp_path)
    with pytest.raises(MediaError) as caught:
        _run(operation, path, tmp_path)
    assert message in caught.value.message
    assert path.name in caught.value.message
    assert caught.value.hint
    assert not (tmp_path / "m.mkv").exists() and not (tmp_path / "p.mp4").exists()


def _run(operation: str, path: Path, tmp: Path) -> None:
    if operation == "probe":
        probe(path)
    elif operation == "transcode":
        transcode(path, tmp / "m.mkv", tmp / "p.mp4")
    else:
        detect_file(path)


@pytest.mark.parametrize("operation", ["probe", "transcode", "scenes"])
def test_a_playlist_naming_files_of_this_machine_is_refused(tmp_path, clip_with_audio, operation) -> None:
    # An uploaded HLS playlist would make the worker read (and ingest) any file it names.
    secret = remux(clip_with_audio.path, tmp_path / "elsewhere.ts", "mpegts")
    playlist = tmp_path / "upload.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n{secret}\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError, match="playlist or manifest") as caught:
        _run(operation, playlist, tmp_path)
    assert caught.value.hint and not (tmp_path / "m.mkv").exists()
    assert refuse_references("x", av.open(str(secret))).format.name == "mpegts"  # a plain stream opens


def _cover_art_song(path: Path) -> Path:
    """Sound with a cover picture: a one-frame MJPEG stream marked as an attached picture."""
    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac", rate=48000, layout="mono")
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        for packet in [*cover.encode(picture.reformat(format="yuvj420p")), *cover.encode(None)]:
            out.mux(packet)
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 1024, Fraction(1, 48000)
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def _unknown_codec(path: Path, source: Path) -> Path:
    """An MKV whose video codec id FFmpeg does not know (the stream has no decoder)."""
    data = remux(source, path.with_suffix(".tmp.mkv"), "matroska").read_bytes()
    assert b"V_MPEG4/ISO/AVC" in data
    path.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_ZZZZZ/ISO/AVC"))
    return path


@pytest.mark.parametrize("operation", ["probe", "transcode", "scenes"])
def test_a_song_with_cover_art_is_audio_and_an_unknown_codec_says_so(tmp_path, clip_with_audio, operation) -> None:
    with pytest.raises(MediaError, match="only audio"):
        _run(operation, _cover_art_song(tmp_path / "song.mp4"), tmp_path)
    with pytest.raises(MediaError, match="codec is not one this tool can decode") as caught:
        _run(operation, _unknown_codec(tmp_path / "odd.mkv", clip_with_audio.path), tmp_path)
    assert "odd.mkv" in caught.value.message and caught.value.hint


def _unflagged_cover_before(source: Path, path: Path, container_format: str) -> Path:
    """``source``'s video behind a one-frame MJPEG picture that is not marked as a cover (some taggers and
    muxers leave the flag out)."""
    with av.open(str(source)) as src, av.open(str(path), "w", format=container_format) as out:
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 48, "yuvj420p"
        video = out.add_stream_from_template(src.streams.video[0])
        picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 200, np.uint8), format="rgb24")
        for packet in [*cover.encode(picture.reformat(format="yuvj420p")), *cover.encode(None)]:
            out.mux(packet)
        for packet in src.demux(src.streams.video[0]):
            if packet.size:
                packet.stream = video
                out.mux(packet)
    with av.open(str(path)) as check:  # the picture really comes first and is not flagged
        first = check.streams.video[0]
        assert first.codec_context.name == "mjpeg" and not first.disposition & av.stream.Disposition.attached_pic
    return path


@pytest.mark.parametrize("container_format", ["mp4", "matroska"])
def test_an_unflagged_picture_before_the_video_does_not_hide_it(tmp_path, clip_with_audio, container_format) -> None:
    path = _unflagged_cover_before(clip_with_audio.path, tmp_path / f"covered.{container_format}", container_format)
    info = probe(path)
    assert (info.width, info.height, info.frames) == (320, 180, clip_with_audio.frames)
    transcode(path, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert decode_numbers(tmp_path / "m.mkv") == list(range(clip_with_audio.frames))  # the video, frame-exact
    assert detect_file(path).frames == clip_with_audio.frames


def test_a_bare_h264_stream_is_refused_with_the_reason(tmp_path, clip_with_audio) -> None:
    bare = remux(clip_with_audio.path, tmp_path / "plain.h264", "h264")
    with pytest.raises(MediaError, match="bare H264 stream") as caught:
        probe(bare)
    assert "MP4 or MKV" in caught.value.hint


def test_missing_file(tmp_path) -> None:
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "nope.mp4")


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        pytest.param(Fraction(2997, 100), Fraction(30000, 1001), id="ntsc"),
        pytest.param(Fraction(248, 10), Fraction(25), id="vfr-near-25"),
        pytest.param(Fraction(12), Fraction(12), id="exact"),
        pytest.param(None, Fraction(25), id="unknown"),
    ],
)
def test_normalise_rate(rate, expected) -> None:
    assert normalise_rate(rate) == expected
