"""Size per minute and encode speed of the FFV1 master for candidate encoder settings, at 480p, 720p, 1080p.

    python bench/master_size.py [--seconds 2] [--sizes 480,720,1080]

Sources, each decoded once and scaled to every size: the real footage named by ``HEATERS_TEST_FOOTAGE``
(a lossy MPEG-2 clip, when set) and a synthetic video with camera grain, encoded lossy with H.264 as a download
would be. Every candidate encodes the same frames into an in-memory Matroska file exactly as the master is
written (level 3, CRC per slice, slice threads), then the file is decoded back and every plane compared with
its source frame: a candidate that loses a single sample is reported as LOSSY and can never win.

Reported per candidate: MB per minute of video (the whole file, at 25 fps), its size beside the settings
in ``transcode.master_options``, encode frames/s (wall) and CPU milliseconds per frame (all threads; steadier
than wall time on a shared machine).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from heaters.media.synthetic import make_video
from heaters.media.transcode import MASTER_THREADS, master_options, master_slices

FPS = Fraction(25)
WIDTHS = {480: 854, 720: 1280, 1080: 1920}
Options = Callable[[int], dict[str, str]]
# Each candidate: the master's options for a slice count (the one master_slices picks for the frame size).
CANDIDATES: dict[str, Options] = {
    "golomb-rice, small context": lambda s: {**master_options(s), "coder": "rice", "context": "0"},
    "golomb-rice, large context": lambda s: {**master_options(s), "coder": "rice", "context": "1"},
    "range coder, default table": lambda s: {**master_options(s), "coder": "range_def", "context": "0"},
    "range coder, custom table": lambda s: {**master_options(s), "coder": "range_tab", "context": "0"},
    "range, custom table, large ctx": lambda s: {**master_options(s), "coder": "range_tab", "context": "1"},
    "current defaults": master_options,
    "current defaults, 12 slices": lambda s: master_options(12),
    "current defaults, g=25 (not intra)": lambda s: {**master_options(s), "g": "25"},
}


def decode(path: str | io.BytesIO, limit: int) -> list[av.VideoFrame]:
    with av.open(path, "r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = []
        for frame in container.decode(stream):
            frames.append(frame)
            if len(frames) == limit:
                break
    return frames


def scaled(frames: list[av.VideoFrame], lines: int) -> list[av.VideoFrame]:
    out = []
    for n, frame in enumerate(frames):
        f = frame.reformat(width=WIDTHS[lines], height=lines, format="yuv420p", interpolation="BICUBIC")
        f.pts, f.time_base = n, 1 / FPS
        out.append(f)
    return out


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    widths = (frame.width, frame.width // 2, frame.width // 2)
    result = []
    for plane, width in zip(frame.planes, widths, strict=True):
        rows = np.frombuffer(bytes(plane), np.uint8).reshape(plane.height, plane.line_size)
        result.append(rows[:, :width].copy())
    return result


def encode(frames: list[av.VideoFrame], options: dict[str, str]) -> tuple[bytes, float, float]:
    """The Matroska file, wall seconds and CPU seconds of encoding it."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        stream.options = dict(options)
        stream.codec_context.thread_type = "SLICE"
        stream.codec_context.thread_count = MASTER_THREADS
        wall, cpu = time.perf_counter(), time.process_time()
        for frame in frames:
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return buffer.getvalue(), wall, cpu


def lossless(data: bytes, frames: list[av.VideoFrame]) -> bool:
    back = decode(io.BytesIO(data), len(frames) + 1)
    if len(back) != len(frames):
        return False
    return all(
        all(np.array_equal(a, b) for a, b in zip(planes(x), planes(y), strict=True))
        for x, y in zip(frames, back, strict=True)
    )


def sources(seconds: float, scratch: Path) -> dict[str, list[av.VideoFrame]]:
    count = round(seconds * FPS)
    found: dict[str, list[av.VideoFrame]] = {}
    footage = os.environ.get("HEATERS_TEST_FOOTAGE")
    if footage and Path(footage).is_file():
        found["real footage"] = decode(footage, count)
    else:
        print("HEATERS_TEST_FOOTAGE is not set: synthetic video only", file=sys.stderr)
    # Camera grain (σ 4 of 255) under H.264 at crf 23: the texture a download of real camera footage keeps.
    grain = make_video(scratch / "grain.mp4", shot_frames=(count,), size=(1920, 1080), noise=4.0, crf=23)
    found["synthetic, grain"] = decode(str(grain.path), count)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="stretch of each source to encode")
    parser.add_argument("--sizes", default="480,720,1080", help="lines of the sizes to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        found = sources(args.seconds, Path(scratch))
    per_minute = 60 * FPS
    print(f"{'source':<18}{'size':>6}  {'settings':<36}{'MB/min':>9}{'vs now':>8}{'enc fps':>9}{'CPU ms/f':>10}")
    for name, originals in found.items():
        for lines in (int(x) for x in args.sizes.split(",")):
            frames = scaled(originals, lines)
            slices = master_slices(frames[0].width, lines, "yuv420p")
            rows = {}
            for label, options in CANDIDATES.items():
                data, wall, cpu = encode(frames, options(slices))
                ok = lossless(data, frames)
                rows[label] = (len(data) / len(frames) * per_minute / 1e6, len(frames) / wall,
                               cpu / len(frames) * 1e3, ok)
            now = rows["current defaults"][0]
            for label, (mb, fps, cpu_ms, ok) in rows.items():
                verdict = f"{mb / now:>7.3f}x" if ok else "   LOSSY"
                print(f"{name:<18}{lines:>5}p  {label:<36}{mb:>9.0f}{verdict:>8}{fps:>9.1f}{cpu_ms:>10.1f}")
            print()


if __name__ == "__main__":
    main()
