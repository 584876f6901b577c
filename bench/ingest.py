"""The encode stage per minute of source: heaters (one decode -> master + proxy + index + features +
detection) vs the ffmpeg CLI making the master, then the proxy, then PySceneDetect, one after another.

    python bench/ingest.py [--seconds 20] [--sizes 1280x720,1920x1080]

Prints seconds of work per minute of source for each, beside each other. Needs ffmpeg and scenedetect.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from heaters.media.scenes import detect_features
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import transcode


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    frames = args.seconds * 25
    shots = [ShotSpec(frames // 4, pan=6), ShotSpec(frames // 4, "dissolve", 20), ShotSpec(frames // 4)]
    shots.append(ShotSpec(frames - 3 * (frames // 4), flashes=(10,)))
    per_minute = 60 / args.seconds
    for size_text in args.sizes.split(","):
        w, h = (int(x) for x in size_text.split("x"))
        source = make_video(work / f"src{h}.mp4", shots=shots, size=(w, h), audio=True)

        start = time.perf_counter()
        result = transcode(source.path, work / f"m{h}.mkv", work / f"p{h}.mp4")
        cuts = detect_features(result.features)
        ours = time.perf_counter() - start

        start = time.perf_counter()
        ffmpeg("-i", str(source.path), "-c:v", "ffv1", "-level", "3", "-slices", "4", "-slicecrc", "1", "-g", "1",
               "-c:a", "flac", str(work / f"fm{h}.mkv"))
        master_s = time.perf_counter() - start
        start = time.perf_counter()
        ffmpeg("-i", str(source.path), "-an", "-vf", "scale=-2:'min(720,ih)'", "-c:v", "libx264", "-preset",
               "veryfast", "-crf", "23", "-g", "1", "-bf", "0", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
               str(work / f"fp{h}.mp4"))
        proxy_s = time.perf_counter() - start
        from scenedetect import AdaptiveDetector, detect

        start = time.perf_counter()
        scenes = detect(str(source.path), AdaptiveDetector())
        detect_s = time.perf_counter() - start
        theirs = master_s + proxy_s + detect_s

        print(f"{size_text}: {frames} frames; heaters cuts {list(cuts)}, PySceneDetect {len(scenes) - 1} cuts")
        print(f"  heaters one pass        {ours * per_minute:7.1f} s per minute of source")
        print(
            f"  ffmpeg master+proxy+PySceneDetect {theirs * per_minute:7.1f} s per minute "
            f"(master {master_s * per_minute:.1f}, proxy {proxy_s * per_minute:.1f}, "
            f"detect {detect_s * per_minute:.1f})"
        )
        print(f"  ratio heaters/reference: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
