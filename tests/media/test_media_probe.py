from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from heaters.errors import MediaError
from heaters.media.probe import normalise_rate, probe
from heaters.media.scenes import detect_file
from heaters.media.transcode import transcode

from .conftest import write_audio_only


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
        if operation == "probe":
            probe(path)
        elif operation == "transcode":
            transcode(path, tmp_path / "m.mkv", tmp_path / "p.mp4")
        else:
            detect_file(path)
    assert message in caught.value.message
    assert path.name in caught.value.message
    assert caught.value.hint
    assert not (tmp_path / "m.mkv").exists() and not (tmp_path / "p.mp4").exists()


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
