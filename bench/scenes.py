"""Scene detection: accuracy and speed against PySceneDetect, on synthetic videos with known cuts.

    python bench/scenes.py [--size 640x360] [--out DIR]

Prints, for heaters and PySceneDetect's AdaptiveDetector and ContentDetector (defaults), precision, recall
and F1 with a cut counted as found when it is on the exact frame (or, for dissolves/fades, anywhere inside
the transition) and with a tolerance of one frame; then frames per second of each, beside a pure PyAV
decode of the same files (thread_type AUTO, no conversion) as the floor. Needs ``scenedetect``
(``pip install --no-deps scenedetect``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av

from heaters.media.scenes import detect_file
from heaters.media.synthetic import ShotSpec, SyntheticVideo, make_video
from heaters.media.transcode import count_frames

S = ShotSpec


def labelled_set(directory: Path, size: tuple[int, int]) -> list[SyntheticVideo]:
    sets = {
        "hard": [S(50), S(40), S(60), S(45), S(50)],
        "flash": [S(60, flashes=(15, 40)), S(60, flashes=(20,), flash_frames=3), S(50)],
        "pan": [S(70, pan=10), S(60, pan=24), S(60), S(50, pan=16)],
        "dissolve": [S(60), S(60, "dissolve", 12), S(60, "dissolve", 24), S(50, "dissolve", 8)],
        "fade": [S(60), S(60, "fade", 16), S(60, "fade", 30), S(50)],
        "short": [S(40), S(8), S(10), S(12), S(40), S(9), S(40)],
        "mixed": [S(50, pan=8), S(30, flashes=(10,)), S(60, "dissolve", 16), S(12), S(60, "fade", 20, pan=12), S(40)],
    }
    return [
        make_video(directory / f"{name}.mp4", shots=shots, size=size, seed=i + 7)
        for i, (name, shots) in enumerate(sets.items())
    ]


def score(found: list[tuple[int, ...]], videos: list[SyntheticVideo], tolerance: int) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for cuts, video in zip(found, videos, strict=True):
        unmatched = list(video.windows)
        for cut in cuts:
            hit = next((w for w in unmatched if w[0] - tolerance <= cut < w[1] + tolerance), None)
            if hit is None:
                fp += 1
            else:
                unmatched.remove(hit)
                tp += 1
        fn += len(unmatched)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def pyav_decode(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def scenedetect_cuts(path: Path, kind: str) -> tuple[int, ...]:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    detector = AdaptiveDetector() if kind == "adaptive" else ContentDetector()
    scenes = detect(str(path), detector)
    return tuple(start.get_frames() for start, _ in scenes[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--speed-size", default="1280x720", help="size of the longer video used for speed")
    parser.add_argument("--speed-file", type=Path, action="append", default=[],
                        help="also measure speed on this video (e.g. real footage); repeatable")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    speed_size = tuple(int(x) for x in args.speed_size.split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-scenes-") as tmp:  # kept only with --out
        directory = args.out or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        videos = labelled_set(directory, size)  # type: ignore[arg-type]
        methods = {
            "heaters": lambda p: detect_file(p).cuts,
            "pyscenedetect-adaptive": lambda p: scenedetect_cuts(p, "adaptive"),
            "pyscenedetect-content": lambda p: scenedetect_cuts(p, "content"),
        }
        print(f"accuracy on {len(videos)} videos, {sum(len(v.cuts) for v in videos)} true cuts, {args.size}")
        print(f"{'method':26} {'P@0':>6} {'R@0':>6} {'F1@0':>6} {'P@1':>6} {'R@1':>6} {'F1@1':>6}")
        for name, method in methods.items():
            found = [method(v.path) for v in videos]
            exact, near = score(found, videos, 0), score(found, videos, 1)
            print(f"{name:26} " + " ".join(f"{x:6.3f}" for x in (*exact, *near)))

        long = make_video(
            directory / "speed.mp4", shots=[S(150, pan=6), S(150, "dissolve", 20), S(150)] * 2, size=speed_size
        )  # type: ignore[arg-type]
        timings = {"pyav-decode-only": pyav_decode, **methods}
        for path, frames, label in [(long.path, long.frames, f"synthetic {args.speed_size}"),
                                    *((p, count_frames(p), str(p.name)) for p in args.speed_file)]:
            print(f"\nspeed on {frames} frames of {label} (H.264), best of 2")
            for name, method in timings.items():
                best = min(_timed(method, path) for _ in range(2))
                print(f"{name:26} {frames / best:8.1f} frames/s  ({best:.2f} s)")

def _timed(fn, path: Path) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(path)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
