"""HEATERS_MASTER=original: exports read the downloaded file itself on the encode's frame grid, and get
exactly the frames an FFV1 master would have given, for VFR, 29.97 and long-GOP sources."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters.media.export import export_clip
from heaters.media.synthetic import make_video
from heaters.media.transcode import transcode

from .conftest import decode_numbers


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


@pytest.mark.parametrize(
    ("fps", "vfr", "shots", "spans"),
    [
        pytest.param(Fraction(25), True, (60, 60, 60), [(0, 30), (37, 101), (150, 180)], id="vfr"),
        pytest.param(Fraction(30000, 1001), False, (60, 60, 60), [(0, 30), (37, 101), (150, 180)], id="29.97"),
        # 400 frames at 29.97 with a keyframe every 250: the later clip is reached by seeking.
        pytest.param(Fraction(30000, 1001), True, (200, 200), [(330, 360), (5, 20), (249, 252)], id="seek-vfr"),
    ],
)
def test_exports_from_the_original_equal_exports_from_an_ffv1_master(
    tmp_path: Path, fps: Fraction, vfr: bool, shots: tuple[int, ...], spans: list[tuple[int, int]]
) -> None:
    source = make_video(tmp_path / "src.mp4", shot_frames=shots, size=(160, 90), audio=True, vfr=vfr, fps=fps)
    kept = transcode(source.path, tmp_path / "none.mkv", tmp_path / "proxy.mp4", keep_master=False)
    assert not (tmp_path / "none.mkv").exists(), "no master written"
    full = transcode(source.path, tmp_path / "master.mkv", tmp_path / "proxy2.mp4")
    assert (kept.total_frames, kept.fps, kept.has_audio) == (full.total_frames, full.fps, True)
    proxy = decode_numbers(tmp_path / "proxy.mp4")
    assert proxy == decode_numbers(tmp_path / "proxy2.mp4")
    for start, end in spans:
        export_clip(tmp_path / "master.mkv", tmp_path / "a.mp4", start, end, preset="ultrafast")
        export_clip(source.path, tmp_path / "b.mp4", start, end, preset="ultrafast", original=True)
        from_master, from_original = decode_numbers(tmp_path / "a.mp4"), decode_numbers(tmp_path / "b.mp4")
        assert from_original == from_master == proxy[start:end], (start, end)
        a, b = _audio(tmp_path / "a.mp4"), _audio(tmp_path / "b.mp4")
        assert a.shape == b.shape and float(np.abs(a - b).mean()) < 0.01, "the same stretch of sound"
