"""The encode stage per minute of source: heaters (one decode -> master + proxy + index + features +
detection) vs the ffmpeg CLI making the master, then the proxy, then PySceneDetect, one after another.

    python bench/ingest.py [--seconds 20] [--sizes 1280x720,1920x1080] [--repeat 3]

Each side runs ``--repeat`` times per size, interleaved (the order flips every round, so a changing load on a
shared machine hurts both alike). Prints seconds of work per minute of source beside each other, as medians
of wall time and of CPU time (user + sys of all threads; steady when the wall time is not). Needs ffmpeg and
scenedetect.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from heaters.media.scenes import detect_features
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import transcode

Run = dict[str, tuple[float, float]]  # step -> (wall seconds, CPU seconds)


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def measured(steps: Run, name: str) -> Iterator[None]:
    """Record the wall and CPU time of the ``with`` body as ``steps[name]``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    steps[name] = (time.perf_counter() - wall, cpu_seconds() - cpu)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def run_heaters(source: Path, work: Path, h: int) -> tuple[Run, list[int]]:
    steps: Run = {}
    with measured(steps, "total"):
        result = transcode(source, work / f"m{h}.mkv", work / f"p{h}.mp4")
        cuts = detect_features(result.features)
    return steps, list(cuts)


def run_reference(source: Path, work: Path, h: int) -> tuple[Run, int]:
    from scenedetect import AdaptiveDetector, detect

    steps: Run = {}
    with measured(steps, "master"):
        ffmpeg("-i", str(source), "-c:v", "ffv1", "-level", "3", "-slices", "4", "-slicecrc", "1", "-g", "1",
               "-c:a", "flac", str(work / f"fm{h}.mkv"))
    with measured(steps, "proxy"):
        ffmpeg("-i", str(source), "-an", "-vf", "scale=-2:'min(720,ih)'", "-c:v", "libx264", "-preset",
               "veryfast", "-crf", "23", "-g", "1", "-bf", "0", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
               str(work / f"fp{h}.mp4"))
    with measured(steps, "detect"):
        scenes = detect(str(source), AdaptiveDetector())
    steps["total"] = (sum(wall for wall, _ in steps.values()), sum(cpu for _, cpu in steps.values()))
    return steps, len(scenes) - 1


def median_of(runs: list[Run], step: str) -> tuple[float, float]:
    return statistics.median(r[step][0] for r in runs), statistics.median(r[step][1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per size, interleaved")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    frames = args.seconds * 25
    shots = [ShotSpec(frames // 4, pan=6), ShotSpec(frames // 4, "dissolve", 20), ShotSpec(frames // 4)]
    shots.append(ShotSpec(frames - 3 * (frames // 4), flashes=(10,)))
    per_minute = 60 / args.seconds
    for size_text in args.sizes.split(","):
        w, h = (int(x) for x in size_text.split("x"))
        source = make_video(work / f"src{h}.mp4", shots=shots, size=(w, h), audio=True).path
        ours: list[Run] = []
        theirs: list[Run] = []
        cuts: list[int] = []
        scene_cuts = 0
        for round_ in range(args.repeat):
            for side in ("heaters", "reference") if round_ % 2 == 0 else ("reference", "heaters"):
                if side == "heaters":
                    run, cuts = run_heaters(source, work, h)
                    ours.append(run)
                else:
                    run, scene_cuts = run_reference(source, work, h)
                    theirs.append(run)
                wall, cpu = run["total"]
                print(f"  run {round_ + 1} {side:9} wall {wall * per_minute:7.1f}  cpu {cpu * per_minute:7.1f}"
                      " s per minute of source", flush=True)

        (our_wall, our_cpu), (their_wall, their_cpu) = median_of(ours, "total"), median_of(theirs, "total")
        steps = ", ".join(
            f"{step} {median_of(theirs, step)[0] * per_minute:.1f}" for step in ("master", "proxy", "detect")
        )
        print(f"{size_text}: {frames} frames; heaters cuts {cuts}, PySceneDetect {scene_cuts} cuts; "
              f"medians of {args.repeat} runs, seconds per minute of source")
        print(f"  heaters one pass                  wall {our_wall * per_minute:7.1f}  cpu {our_cpu * per_minute:7.1f}")
        print(f"  ffmpeg master+proxy+PySceneDetect wall {their_wall * per_minute:7.1f}  "
              f"cpu {their_cpu * per_minute:7.1f}  ({steps})")
        print(f"  ratio heaters/reference: wall {our_wall / their_wall:.2f}  cpu {our_cpu / their_cpu:.2f}")


if __name__ == "__main__":
    main()
