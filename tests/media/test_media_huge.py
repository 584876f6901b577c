"""Huge and odd sources: 8K frames, a pixel limit, RGB pictures, truncated files.

Huge-frame tests stay cheap: a few frames of flat synthetic content, encoded in a child process whose peak
memory is read back, so this process is not left holding the allocator's high-water mark.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters.errors import MediaError
from heaters.media.synthetic import make_video
from heaters.media.transcode import QUEUE_BYTES, master_slices, transcode

GIB = 2**30


def _flat_video(path: Path, width: int, height: int, frames: int) -> Path:
    """``frames`` frames of nearly flat yuv420p picture (cheap to make and to encode at any size)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        chroma = np.full((height // 2) * (width // 2) * 2, 128, np.uint8)
        for n in range(frames):
            luma = np.full((height, width), 16 + 7 * n, np.uint8)
            luma[: height // 4, : width // 4] = 200
            planes = np.concatenate([luma.ravel(), chroma]).reshape(height * 3 // 2, width)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = n, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


CHILD = """
import json, resource, sys
from heaters.media.transcode import count_frames, transcode

def peak():
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork + exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

source, out = sys.argv[1], sys.argv[2]
result = transcode(source, out + "/master.mkv", out + "/proxy.mp4", extract_features=False)
print(json.dumps({
    "frames": result.total_frames, "master_frames": count_frames(out + "/master.mkv"),
    "proxy": [result.proxy_width, result.proxy_height],
    "peak_bytes": peak() * 1024,
}))
"""


def _transcode_in_child(source: Path, out: Path) -> dict[str, object]:
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("width", "height", "pix_fmt", "slices"),
    [
        pytest.param(320, 180, "yuv420p", 4, id="small"),
        pytest.param(1920, 1080, "yuv420p", 4, id="1080p"),
        pytest.param(6144, 3456, "yuv420p", 6, id="6K"),
        pytest.param(7680, 4320, "yuv420p", 9, id="8K"),
        pytest.param(8192, 8192, "yuv420p", 16, id="8192-square"),
        pytest.param(7680, 4320, "yuv444p16le", 16, id="8K-deep"),
    ],
)
def test_ffv1_slices_follow_the_frame_size(width: int, height: int, pix_fmt: str, slices: int) -> None:
    assert master_slices(width, height, pix_fmt) == slices


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), [pytest.param(7680, 4320, id="8K"), pytest.param(6144, 3456, id="6K")])
def test_huge_frames_are_archived_in_bounded_memory(tmp_path: Path, width: int, height: int) -> None:
    short = _transcode_in_child(_flat_video(tmp_path / "short.mp4", width, height, 3), tmp_path / "short")
    long = _transcode_in_child(_flat_video(tmp_path / "long.mp4", width, height, 12), tmp_path / "long")
    assert (short["frames"], short["master_frames"]) == (3, 3)
    assert (long["frames"], long["master_frames"]) == (12, 12)
    assert long["proxy"] == [round(720 * width / height / 2) * 2, 720]
    # Memory grows with the number of frames only until the queues are full (they are bounded in bytes), and
    # stays well under what a worker can spare; most of it is the FFV1 encoder's own allocation.
    assert int(long["peak_bytes"]) - int(short["peak_bytes"]) < QUEUE_BYTES + 64 * 2**20
    assert int(long["peak_bytes"]) < 2 * GIB


def test_a_source_above_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    video = make_video(tmp_path / "src.mp4", shot_frames=(10,), size=(320, 180))
    seen: list[int] = []
    with pytest.raises(MediaError, match=r"320×180 .* larger than .*HEATERS_MAX_PIXELS"):
        transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", max_pixels=320 * 180 - 1,
                  progress=lambda done, _total: seen.append(done))
    assert seen == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.mp4"]
    assert transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", max_pixels=320 * 180).total_frames == 10


def _tiny(path: Path, width: int, height: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 40 * n, np.uint8), format="rgb24")
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(("width", "height"), [(100, 2), (2, 100)])
def test_a_picture_too_small_to_archive_is_refused_with_the_reason(tmp_path: Path, width: int, height: int) -> None:
    with pytest.raises(MediaError, match=f"{width}×{height}, too small") as caught:
        transcode(_tiny(tmp_path / "src.mp4", width, height), tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert "at least 4 pixels" in caught.value.hint
    assert transcode(_tiny(tmp_path / "ok.mp4", 4, 4), tmp_path / "m.mkv", tmp_path / "p.mp4").total_frames == 5


def test_an_rgb_source_is_archived_losslessly(tmp_path: Path) -> None:
    source = tmp_path / "rgb.mov"
    rng = np.random.default_rng(3)
    pictures = [rng.integers(0, 256, (48, 64, 3), np.uint8) for _ in range(5)]
    with av.open(str(source), "w") as out:
        stream = out.add_stream("png", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "rgb24"
        for n, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    result = transcode(source, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert result.total_frames == 5
    with av.open(str(tmp_path / "m.mkv")) as master:
        decoded = [f.to_ndarray(format="rgb24") for f in master.decode(video=0)]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, pictures, strict=True))


def _truncated(tmp_path: Path) -> Path:
    """An MKV cut to half its bytes: its header still promises 8 s, it decodes to about 4."""
    full = make_video(tmp_path / "full.mkv", shot_frames=(100, 100), size=(320, 180), audio=True)
    data = full.path.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_a_truncated_source_fails_with_a_clear_error(tmp_path: Path) -> None:
    cut = _truncated(tmp_path)
    with pytest.raises(MediaError, match=r"decodes to \d+ frames .* promises 8.0 s: the file is truncated"):
        transcode(cut, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert not (tmp_path / "m.mkv").exists() and not (tmp_path / "p.mp4").exists()


def test_a_truncated_source_can_be_kept_with_a_warning(tmp_path: Path) -> None:
    cut = _truncated(tmp_path)
    result = transcode(cut, tmp_path / "m.mkv", tmp_path / "p.mp4", accept_short=True)
    assert 0 < result.total_frames < 200
    assert "truncated" in result.warning and "promises 8.0 s" in result.warning


def test_a_whole_source_has_no_warning(tmp_path: Path) -> None:
    video = make_video(tmp_path / "whole.mkv", shot_frames=(30,), size=(160, 90), audio=True)
    assert transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4").warning == ""
