"""Scene detection accuracy per category, frame-exact, for every detector heaters offers.

    python bench/scene_accuracy.py [--out DIR] [--footage cityCC0.mpg] [--detectors builtin,transnetv2,ensemble]
                                   [--preset fast]

Encodes the labelled set of ``scene_set.py`` (kept in ``--out`` if given, and reused there on the next
run), computes the features and the 48x27 frames in one decode per video as the encode stage does, runs
each detector on them and prints precision, recall and F1 per category and overall, with false positives
and misses. A hard cut counts only on its exact frame. ``--footage`` adds the real CC0 clip (one cut, at
frame 116). ``--preset fast`` encodes the set as internet video is (x264 ``fast``: B-frames, CABAC,
deblocking) instead of ``ultrafast``; a directory holds one preset's set. The learned detectors need
``pip install 'heaters[learned]'``; without it they are skipped.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

import numpy as np
from scene_set import CATEGORIES, Labelled, Score, make_set, score

from heaters.errors import HeatersError
from heaters.media.scenes import compute_features, detector_for
from heaters.media.synthetic import true_windows


@functools.cache
def _code_stamp() -> str:
    """A digest of the code that makes the detector's inputs: kept inputs are reused only while it is the same."""
    import hashlib

    from heaters.media import features, skim

    sources = b"".join(Path(module.__file__ or "").read_bytes() for module in (features, skim))
    return hashlib.sha256(sources).hexdigest()[:12]


def _inputs(video: Labelled, cache: Path, small: bool) -> tuple[np.ndarray, np.ndarray | None]:
    stamp = _code_stamp()
    feats = cache / f"{video.category}.{stamp}.features.npy"
    frames = cache / f"{video.category}.{stamp}.frames.npy"
    if feats.exists() and (frames.exists() or not small):
        return np.load(feats), (np.load(frames) if small else None)
    features, _fps, small_frames = compute_features(video.path, small_frames=small)
    np.save(feats, features)
    if small_frames is not None:
        np.save(frames, small_frames)
    return features, small_frames


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=None, help="keep (and reuse) the encoded set here")
    parser.add_argument("--preset", default="ultrafast", help="x264 preset of the set (fast: with B-frames)")
    parser.add_argument("--footage", type=Path, default=None, help="real clip with one cut at frame 116")
    parser.add_argument("--detectors", default="builtin,transnetv2,ensemble")
    parser.add_argument("--only", default="", help="comma-separated categories")
    parser.add_argument("--fresh", action="store_true", help="run TransNetV2 again even where its answer is kept")
    parser.add_argument("--verbose", action="store_true", help="print the cuts found beside the true ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scene-accuracy-") as tmp:
        directory = args.out or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / "preset.txt"
        if marker.exists() and marker.read_text().strip() != args.preset:
            parser.error(f"{directory} holds the set of preset {marker.read_text().strip()}: use another --out")
        marker.write_text(args.preset)
        only = [c for c in args.only.split(",") if c] or None
        missing = [c for c in (only or CATEGORIES) if not (directory / f"{c}.mp4").exists()]
        if missing:
            make_set(directory, missing, preset=args.preset)
        videos = [
            Labelled(c, directory / f"{c}.mp4", w, n)
            for c, w, n in _truths(directory, only)
        ]
        if args.footage:
            videos.append(Labelled("real", args.footage, ((116, 117),), 190))
        names = [d for d in args.detectors.split(",") if d]
        detectors = {}
        for name in names:
            try:
                detectors[name] = detector_for(name)
            except HeatersError as exc:
                print(f"{name}: skipped ({exc.message})")
        small = any(n != "builtin" for n in detectors)
        inputs = {v.category: _inputs(v, directory, small) for v in videos}
        total_frames = sum(len(inputs[v.category][0]) for v in videos)
        print(f"{len(videos)} videos, {total_frames} frames, {sum(len(v.windows) for v in videos)} true cuts")
        # Per video every detector in turn: the ensemble reuses TransNetV2's answer for the same frames.
        found: dict[str, dict[str, list]] = {name: {} for name in detectors}
        elapsed = dict.fromkeys(detectors, 0.0)
        for video in videos:
            features, frames = inputs[video.category]
            kept = directory / f"{video.category}.transnetv2.npy"  # inference is slow: keep its answer
            if frames is not None and kept.exists() and not args.fresh:
                from heaters.media.learned import remember

                remember(frames, np.load(kept))
            for name, detector in detectors.items():
                started = time.perf_counter()
                found[name][video.category] = list(detector.detect(features, frames))
                elapsed[name] += time.perf_counter() - started
            if frames is not None and "transnetv2" in detectors and not kept.exists():
                from heaters.media.learned import transition_probabilities

                np.save(kept, transition_probabilities(frames))  # answered from memory, no second inference
        for name in detectors:
            print(f"\n{name}")
            print(f"{'category':10} {'cuts':>5} {'P':>6} {'R':>6} {'F1':>6} {'FP':>4} {'FN':>4}")
            overall = Score()
            for video in videos:
                cuts = found[name][video.category]
                s = score([c.frame for c in cuts], video.windows)
                overall.add(s)
                print(f"{video.category:10} {len(video.windows):5} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}"
                      f" {s.fp:4} {s.fn:4}")
                if args.verbose:
                    print("   found", [(c.frame, c.kind, round(c.confidence, 2)) for c in cuts])
                    print("   truth", list(video.windows))
            speed = total_frames / max(elapsed[name], 1e-9)
            note = " (reusing TransNetV2's inference)" if name == "ensemble" and "transnetv2" in detectors else ""
            print(f"{'all':10} {overall.tp + overall.fn:5} {overall.precision:6.3f} {overall.recall:6.3f}"
                  f" {overall.f1:6.3f} {overall.fp:4} {overall.fn:4}   ({speed:.0f} frames/s detection after"
                  f" decoding{note})")


def _truths(directory: Path, only: list[str] | None) -> list[tuple[str, tuple[tuple[int, int], ...], int]]:
    """Ground truth from the set's definition, without encoding again."""
    return [(name, *true_windows(shots)) for name, (shots, *_rest) in CATEGORIES.items() if not only or name in only]


if __name__ == "__main__":
    main()
