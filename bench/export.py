"""Export of one clip from the FFV1 master: heaters vs the ffmpeg CLI doing the same encode.

    python bench/export.py [--seconds 10] [--size 1920x1080] [--preset medium] [--repeat 3]

Builds a synthetic source with audio, transcodes it to a master with heaters, then exports the whole
``--seconds`` span to H.264 (CRF 18, yuv420p, faststart) + AAC both ways, ``--repeat`` times, interleaved
(the order flips every round, so a load that rises or falls during the run hurts both sides alike).

Prints every run, then the medians side by side: wall time and CPU time (user + sys of all threads). On a
shared machine the wall time follows whatever else is running; the CPU time barely moves, so it shows whether
the two sides do the same work. The x264 settings each output was written with (read back from the stream)
are printed too, so a difference in threading or options is visible rather than guessed.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from heaters.media.export import export_clip
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import count_frames, transcode

Run = tuple[float, float]  # wall seconds, CPU seconds


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed(work: Callable[[], object], who: int) -> Run:
    wall, cpu = time.perf_counter(), cpu_seconds(who)
    work()
    return time.perf_counter() - wall, cpu_seconds(who) - cpu


def x264_settings(path: Path, keys: tuple[str, ...] = ("threads", "lookahead_threads", "sliced_threads")) -> str:
    """The named options from the x264 version string the encoder writes into the stream."""
    found = re.search(rb"x264 - core \d+.*? options: ([^\x00]*)", path.read_bytes())
    if found is None:
        return "no x264 options found"
    options = dict(item.split("=", 1) for item in found.group(1).decode().split() if "=" in item)
    return " ".join(f"{key}={options.get(key, '?')}" for key in keys)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:  # masters are large: always removed
        work = Path(tmp)
        frames = args.seconds * 25
        source = make_video(
            work / "source.mp4", shots=[ShotSpec(frames // 2, pan=4), ShotSpec(frames - frames // 2, "dissolve", 20)],
            size=size, audio=True,  # type: ignore[arg-type]
        )
        master = work / "master.mkv"
        transcode(source.path, master, work / "proxy.mp4")
        print(f"master: {master.stat().st_size / 1e6:.1f} MB, {frames} frames at {args.size}")

        command = [
            "ffmpeg", "-v", "error", "-y", "-i", str(master), "-frames:v", str(frames), "-c:v", "libx264",
            "-crf", "18", "-preset", args.preset, "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
            str(work / "ffmpeg.mp4"),
        ]
        sides: dict[str, tuple[Path, Callable[[], Run]]] = {
            "heaters export_clip": (
                work / "heaters.mp4",
                lambda: timed(
                    lambda: export_clip(master, work / "heaters.mp4", 0, frames, crf=18, preset=args.preset),
                    resource.RUSAGE_SELF,
                ),
            ),
            "ffmpeg CLI": (
                work / "ffmpeg.mp4",
                lambda: timed(lambda: subprocess.run(command, check=True), resource.RUSAGE_CHILDREN),
            ),
        }
        runs: dict[str, list[Run]] = {name: [] for name in sides}
        for round_ in range(args.repeat):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                wall, cpu = sides[name][1]()
                runs[name].append((wall, cpu))
                print(f"  run {round_ + 1} {name:20} wall {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)

        medians = {
            name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for name, got in runs.items()
        }
        print(f"medians of {args.repeat} runs each:")
        for name, (path, _) in sides.items():
            wall, cpu = medians[name]
            print(
                f"{name:20} wall {wall:7.2f} s  {frames / wall:6.1f} frames/s  cpu {cpu:7.2f} s  "
                f"{path.stat().st_size / 1e6:6.2f} MB  {count_frames(path)} frames  x264 {x264_settings(path)}"
            )
        (ours_wall, ours_cpu), (theirs_wall, theirs_cpu) = medians.values()
        print(f"ratio heaters/ffmpeg: wall {ours_wall / theirs_wall:.2f}  cpu {ours_cpu / theirs_cpu:.2f}")
        print("command:", " ".join(command))


if __name__ == "__main__":
    main()
