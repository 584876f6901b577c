"""Export of one clip from the FFV1 master: heaters vs the ffmpeg CLI doing the same encode.

    python bench/export.py [--seconds 10] [--size 1920x1080] [--preset medium]

Builds a synthetic source with audio, transcodes it to a master with heaters, then exports the whole
``--seconds`` span to H.264 (CRF 18, yuv420p, faststart) + AAC both ways and prints wall time and speed.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from heaters.media.export import export_clip
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import count_frames, transcode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--preset", default="medium")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    frames = args.seconds * 25
    source = make_video(
        work / "source.mp4", shots=[ShotSpec(frames // 2, pan=4), ShotSpec(frames - frames // 2, "dissolve", 20)],
        size=size, audio=True,  # type: ignore[arg-type]
    )
    master = work / "master.mkv"
    transcode(source.path, master, work / "proxy.mp4")
    print(f"master: {master.stat().st_size / 1e6:.1f} MB, {frames} frames at {args.size}")

    start = time.perf_counter()
    export_clip(master, work / "heaters.mp4", 0, frames, crf=18, preset=args.preset)
    ours = time.perf_counter() - start

    command = [
        "ffmpeg", "-v", "error", "-y", "-i", str(master), "-frames:v", str(frames), "-c:v", "libx264",
        "-crf", "18", "-preset", args.preset, "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
        str(work / "ffmpeg.mp4"),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    theirs = time.perf_counter() - start

    for name, seconds, path in (("heaters export_clip", ours, "heaters.mp4"), ("ffmpeg CLI", theirs, "ffmpeg.mp4")):
        out = work / path
        print(
            f"{name:20} {seconds:7.2f} s  {frames / seconds:6.1f} frames/s  "
            f"{out.stat().st_size / 1e6:6.2f} MB  {count_frames(out)} frames"
        )
    print(f"ratio heaters/ffmpeg: {ours / theirs:.2f}")
    print("command:", " ".join(command))


if __name__ == "__main__":
    main()
