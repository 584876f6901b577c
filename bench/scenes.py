"""Scene detection speed: ``heaters scenes`` against a plain PyAV decode and PySceneDetect, interleaved.

    python bench/scenes.py --footage cityCC0.mpg [--repeat 5] [--sizes 1280x720,1920x1080] [--crf 20]
                           [--one-part] [--pyav-defaults] [--callgrind] [--out DIR]

Makes one H.264 file per size (the real footage looped and scaled, x264 ``fast`` at ``--crf`` with B-frames
and the deblocking filter on, as internet video is; without ``--footage`` a synthetic video), then runs, in
turn and ``--repeat`` times, each as its own process so start-up counts too:

* ``heaters scenes FILE --json`` — the stand-alone detector (its own decode);
* a plain PyAV decode of every frame on frame threads (``thread_type = "AUTO"``, nothing converted) — the
  reference any decoding detector is measured against;
* the same decode with the options ``heaters scenes`` decodes with (no H.264 loop filter on non-reference
  frames, ``flags2=+fast``, its number of frame threads) and nothing else — the floor of a detector that
  decodes every frame;
* the floor's decode of the reference frames only (``skip_frame = "NONREF"``: the B-frames no other frame
  predicts from are left out) — the floor of ``heaters scenes``, which leaves such frames out where the
  picture is quiet (``heaters.media.skim``); the header says how many of the frames that decode holds;
* with ``--one-part``, ``heaters scenes`` skimming the file in one part (``skim.PARTS = 1``), not in parts
  from its keyframes on every core at once;
* with ``--pyav-defaults``, a decode with PyAV's own defaults (slice threads only, which a single-slice
  x264 stream cannot use: one thread);
* PySceneDetect's ``AdaptiveDetector`` with its defaults (``pip install --no-deps scenedetect``; skipped if
  missing).

It prints the load average, then for each method the median wall time and the median CPU time (user +
system, all threads) with their ranges, and heaters' ratios to each of the others, wall and CPU. The machine
may be shared: runs are interleaved so that load hits every method alike, and each ratio is also taken
within each round (the methods ran back to back) and shown with its range over the rounds. CPU time, which
other processes disturb far less than wall time, is the steadier figure; wall time is what a user on an
idle multi-core machine sees. ``--callgrind`` instead runs each method once under ``valgrind
--tool=callgrind`` and prints the instructions it executed (all threads): slow, but the same on a loaded
machine as on an idle one.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

from heaters.media.skim import DECODE_OPTIONS, FRAME_THREADS
from heaters.media.synthetic import ShotSpec, make_video

S = ShotSpec


def decode_script(*settings: str) -> str:
    """A program that decodes every frame of argv[1] on frame threads with these stream ``settings`` and prints
    how many frames came out."""
    lines = "".join(f"    {line}\n" for line in ('s.thread_type = "AUTO"', *settings))
    return f"import sys, av\nwith av.open(sys.argv[1]) as c:\n    s = c.streams.video[0]\n{lines}" \
        "    print(sum(1 for _ in c.decode(s)))\n"


HEATERS_OPTIONS = (f"s.codec_context.thread_count = {FRAME_THREADS}", f"s.codec_context.options = {DECODE_OPTIONS!r}")
DECODE = decode_script()
FLOOR = decode_script(*HEATERS_OPTIONS)
REFERENCES = decode_script(*HEATERS_OPTIONS, 's.codec_context.skip_frame = "NONREF"')
PYAV_DEFAULTS = """
import sys, av
with av.open(sys.argv[1]) as c:
    print(sum(1 for _ in c.decode(c.streams.video[0])))
"""
ONE_PART = """
import sys
from heaters.media import skim
skim.PARTS = 1
from heaters.cli import main
sys.argv = ["heaters", "scenes", "--json", sys.argv[1]]
main()
"""
ADAPTIVE = """
import sys
from scenedetect import AdaptiveDetector, detect
print(len(detect(sys.argv[1], AdaptiveDetector())))
"""


def make_speed_file(footage: Path | None, path: Path, size: tuple[int, int], loops: int, crf: int = 20) -> int:
    """Encode the speed test file; return its frame count."""
    if footage is None:
        shots = [S(150, pan=6), S(150, "dissolve", 20), S(150), S(60, whips=(20,)), S(90, "fade", 20)]
        return make_video(path, shots=shots, size=size, noise=3.0).frames
    frames = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": str(crf), "preset": "fast"}
        # x264 on frame threads, as the x264 and ffmpeg command lines run it: one slice per frame, as in
        # internet video. (PyAV's default, slice threads, makes a slice per thread, which a decoder's slice
        # threads then share out: not what a downloaded video offers.)
        stream.thread_type = "FRAME"
        for _ in range(loops):
            with av.open(str(footage)) as source:
                for frame in source.decode(video=0):
                    scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                    scaled.pts, scaled.time_base = frames, Fraction(1, 25)
                    scaled.pict_type = PictureType.NONE  # else x264 keeps the source's frame types: no B-frames
                    frames += 1
                    out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    return frames


def _has_scenedetect() -> bool:
    import importlib.util

    return importlib.util.find_spec("scenedetect") is not None


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}-{max(values):.2f})"


def report(frames: int, times: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    ours = "heaters scenes"
    for name in times:
        print(f"  {name:28} {frames / statistics.median(times[name]):7.1f} frames/s   wall {spread(times[name])} s"
              f"   CPU {spread(cpu[name])} s")
    for name in times:
        if name == ours:
            continue
        walls = [theirs / mine for theirs, mine in zip(times[name], times[ours], strict=True)]
        cpus = [theirs / mine for theirs, mine in zip(cpu[name], cpu[ours], strict=True)]
        print(f"  heaters scenes vs {name:28} {statistics.median(times[name]) / statistics.median(times[ours]):.2f}x"
              f" wall (per round {min(walls):.2f}-{max(walls):.2f}),"
              f" {statistics.median(cpu[name]) / statistics.median(cpu[ours]):.2f}x CPU"
              f" (per round {min(cpus):.2f}-{max(cpus):.2f})")
    plain, floor = statistics.median(cpu["pyav decode"]), statistics.median(cpu["decode as heaters does"])
    references = statistics.median(cpu["reference frames only"])
    print(f"  in CPU time the floor is {plain / floor:.2f}x a plain decode and the reference frames alone"
          f" {plain / references:.2f}x; heaters scenes lies between: it leaves out the B-frames of quiet stretches")


def instructions(command: list[str]) -> int:
    """Instructions executed by ``command`` (all its threads) under callgrind."""
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                         check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(re.findall(r"Collected : (\d+)", run.stderr)[-1])


def report_instructions(frames: int, commands: dict[str, list[str]], path: Path) -> None:
    counts = {name: instructions([*command, str(path)]) for name, command in commands.items()}
    for name, count in counts.items():
        ratio = counts[name] / counts["heaters scenes"]
        print(f"  {name:28} {count / 1e9:7.2f} G instructions  {count / frames / 1e6:6.1f} M per frame"
              f"  ({ratio:.2f}x heaters scenes)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--footage", type=Path, default=None, help="real clip to loop and scale (cityCC0.mpg)")
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--loops", type=int, default=4, help="times the footage is repeated")
    parser.add_argument("--crf", type=int, default=20, help="x264 quality of the test files (lower: more bits)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pyav-defaults", action="store_true", help="also time a decode with PyAV's defaults")
    parser.add_argument("--one-part", action="store_true", help="also time heaters scenes skimming in one part")
    parser.add_argument("--callgrind", action="store_true", help="count instructions once instead of timing")
    parser.add_argument("--out", type=Path, default=None, help="keep the encoded files here (and reuse them)")
    args = parser.parse_args()
    commands = {
        "heaters scenes": [sys.executable, "-m", "heaters", "scenes", "--json"],
        "pyav decode": [sys.executable, "-c", DECODE],
        "decode as heaters does": [sys.executable, "-c", FLOOR],
        "reference frames only": [sys.executable, "-c", REFERENCES],
    }
    if args.one_part:
        commands["heaters scenes in one part"] = [sys.executable, "-c", ONE_PART]
    if args.pyav_defaults:
        commands["pyav decode, PyAV defaults"] = [sys.executable, "-c", PYAV_DEFAULTS]
    if _has_scenedetect():
        commands["pyscenedetect adaptive"] = [sys.executable, "-c", ADAPTIVE]
    else:
        print("PySceneDetect not installed (pip install --no-deps scenedetect): left out")
    with tempfile.TemporaryDirectory(prefix="bench-scenes-") as tmp:
        directory = args.out or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for text in args.sizes.split(","):
            w, h = (int(x) for x in text.split("x"))
            path = directory / (f"speed-{w}x{h}.mp4" if args.crf == 20 else f"speed-{w}x{h}-crf{args.crf}.mp4")
            if path.exists():
                with av.open(str(path)) as c:
                    frames = sum(1 for p in c.demux(video=0) if p.size)
            else:
                frames = make_speed_file(args.footage, path, (w, h), args.loops, args.crf)
            size_mb = path.stat().st_size / 1e6
            source = "real footage" if args.footage else "synthetic"
            references = subprocess.run([sys.executable, "-c", REFERENCES, str(path)], check=True,
                                        capture_output=True, text=True).stdout.strip()
            source += f", {references} of the {frames} frames are reference frames"
            if args.callgrind:
                print(f"\n{w}x{h} H.264 ({source}, crf {args.crf}, {size_mb * 8 / (frames / 25):.1f} Mbit/s),"
                      f" {frames} frames, instructions under callgrind")
                report_instructions(frames, commands, path)
                continue
            before_load = load()
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
            print(f"\n{w}x{h} H.264 ({source}, crf {args.crf}, {size_mb * 8 / (frames / 25):.1f} Mbit/s), {frames}"
                  f" frames, median (range) of {args.repeat} interleaved runs; {before_load} before, {load()} after")
            report(frames, times, cpu)


if __name__ == "__main__":
    main()
