"""Scene detection speed: ``heaters scenes`` against a plain PyAV decode and PySceneDetect, interleaved.

    python bench/scenes.py --footage cityCC0.mpg [--repeat 5] [--sizes 1280x720,1920x1080] [--out DIR]

Makes one H.264 file per size (the real footage looped and scaled, x264 ``fast`` with B-frames and the
deblocking filter on, as internet video is; without ``--footage`` a synthetic video), then runs, in turn and
``--repeat`` times, each as its own process so start-up counts too:

* ``heaters scenes FILE --json`` — the stand-alone detector (its own decode);
* a default PyAV decode of every frame (``thread_type = "AUTO"``, nothing converted) — the floor any
  decoding detector is measured against;
* PySceneDetect's ``AdaptiveDetector`` with its defaults (``pip install --no-deps scenedetect``; skipped if
  missing).

It prints the median wall time, frames/s and CPU time (user + system, all threads) of each and the ratios.
The machine may be shared: runs are interleaved so that load hits every method alike, the median of the
repeats is reported, and CPU time, which other processes disturb far less than wall time, is shown beside.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from heaters.media.synthetic import ShotSpec, make_video

S = ShotSpec
DECODE = """
import sys, av
with av.open(sys.argv[1]) as c:
    s = c.streams.video[0]
    s.thread_type = "AUTO"
    print(sum(1 for _ in c.decode(s)))
"""
ADAPTIVE = """
import sys
from scenedetect import AdaptiveDetector, detect
print(len(detect(sys.argv[1], AdaptiveDetector())))
"""


def make_speed_file(footage: Path | None, path: Path, size: tuple[int, int], loops: int) -> int:
    """Encode the speed test file; return its frame count."""
    if footage is None:
        shots = [S(150, pan=6), S(150, "dissolve", 20), S(150), S(60, whips=(20,)), S(90, "fade", 20)]
        return make_video(path, shots=shots, size=size, noise=3.0).frames
    frames = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "20", "preset": "fast"}
        for _ in range(loops):
            with av.open(str(footage)) as source:
                for frame in source.decode(video=0):
                    scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                    scaled.pts, scaled.time_base = frames, Fraction(1, 25)
                    frames += 1
                    out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    return frames


def _has_scenedetect() -> bool:
    import importlib.util

    return importlib.util.find_spec("scenedetect") is not None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--footage", type=Path, default=None, help="real clip to loop and scale (cityCC0.mpg)")
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--loops", type=int, default=4, help="times the footage is repeated")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="keep the encoded files here (and reuse them)")
    args = parser.parse_args()
    commands = {
        "heaters scenes": [sys.executable, "-m", "heaters", "scenes", "--json"],
        "pyav decode": [sys.executable, "-c", DECODE],
    }
    if _has_scenedetect():
        commands["pyscenedetect adaptive"] = [sys.executable, "-c", ADAPTIVE]
    else:
        print("PySceneDetect not installed (pip install --no-deps scenedetect): left out")
    with tempfile.TemporaryDirectory(prefix="bench-scenes-") as tmp:
        directory = args.out or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for text in args.sizes.split(","):
            w, h = (int(x) for x in text.split("x"))
            path = directory / f"speed-{w}x{h}.mp4"
            if path.exists():
                with av.open(str(path)) as c:
                    frames = sum(1 for p in c.demux(video=0) if p.size)
            else:
                frames = make_speed_file(args.footage, path, (w, h), args.loops)
            times: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, command in commands.items():  # interleaved: load falls on every method alike
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    started = time.perf_counter()
                    subprocess.run([*command, str(path)], check=True, stdout=subprocess.DEVNULL)
                    times[name].append(time.perf_counter() - started)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            source = "real footage" if args.footage else "synthetic"
            print(f"\n{w}x{h} H.264 ({source}), {frames} frames, median of {args.repeat} interleaved runs")
            medians = {name: statistics.median(t) for name, t in times.items()}
            cpus = {name: statistics.median(t) for name, t in cpu.items()}
            for name, median in medians.items():
                spread = f"{min(times[name]):.2f}-{max(times[name]):.2f} s"
                print(f"  {name:24} {frames / median:8.1f} frames/s  {median:6.2f} s wall (runs {spread}),"
                      f" {cpus[name]:6.2f} s CPU")
            for name, median in medians.items():
                if name != "heaters scenes":
                    print(f"  heaters scenes vs {name}: {median / medians['heaters scenes']:.2f}x wall,"
                          f" {cpus[name] / cpus['heaters scenes']:.2f}x CPU")


if __name__ == "__main__":
    main()
