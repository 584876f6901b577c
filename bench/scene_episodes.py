"""Scene detection on random episodes: the labelled set's ingredients in combinations it does not hold.

    python bench/scene_episodes.py [--episodes 40] [--first 0] [--out DIR] [--detectors builtin,...]

Each episode is a synthetic video of 6 to 9 shots drawn at random (seeded by its number, so episode N is the
same everywhere): plain shots, dissolves and fades of any length (with or without black held in the middle),
camera flashes of 1 to 4 frames, rolling-shutter flashes, whip pans of any speed, steady pans, close-ups of
an earlier shot, very short shots and slow colour drifts, at a random size (portrait too), frame rate (24 to
50 fps), camera noise, x264 preset and quality. The labelled set (``scene_accuracy.py``) tests each kind of
transition alone; here they meet: a drift straight after a cut, a short shot between two fades, a whip next
to a dissolve (but no transition begins before the one before it has ended). The features are computed
once per episode and kept in ``--out``; the script prints precision, recall and F1 per detector, then every
miss and false cut with the shots around it.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from dataclasses import asdict, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from scene_set import Score, score

from heaters.errors import HeatersError
from heaters.media.scenes import compute_features, detector_for
from heaters.media.synthetic import ShotSpec, make_video

S = ShotSpec
SIZES = [(640, 360), (640, 360), (360, 640), (854, 480)]
RATES = [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(50)]


def _shot(rng: random.Random, earlier: int) -> ShotSpec:
    n = rng.randint(45, 90)
    kind = rng.choice(["plain", "plain", "dissolve", "fade", "fade-hold", "flash", "band", "whip", "pan",
                       "similar", "short", "drift"])
    if kind == "dissolve":
        return S(n, "dissolve", rng.choice([6, 10, 16, 24, 36]), pan=rng.choice([0, 0, 3, 8]))
    if kind == "fade":
        return S(n, "fade", rng.choice([8, 14, 20, 30]))
    if kind == "fade-hold":
        return S(n, "fade", rng.choice([10, 16, 24]), hold=rng.choice([4, 10, 20]))
    if kind == "flash":
        return S(n, flashes=(rng.randint(8, n - 12),), flash_frames=rng.choice([1, 2, 3, 4]))
    if kind == "band":
        return S(n, band_flashes=(rng.randint(8, n - 12),))
    if kind == "whip":
        frames = rng.choice([3, 5, 6, 8, 10])
        n = max(n, frames + 30)
        return S(n, whips=(rng.randint(10, n - frames - 12),), whip_frames=frames,
                 whip_speed=rng.choice([0.15, 0.25, 0.3, 0.5, 0.8]), pan=rng.choice([0, 0, 4]))
    if kind == "pan":
        return S(n, pan=rng.choice([2, 6, 12, 20]))
    if kind == "similar":
        return S(n, framing=rng.randrange(earlier), zoom=rng.choice([1.2, 1.3, 1.5, 2.0]))
    if kind == "short":
        return S(rng.randint(8, 14))
    if kind == "drift":
        return S(max(n, 150), gradient=rng.random() < 0.5, drift=rng.choice([0.5, 1.0, 2.0]))
    return S(n)


def _half(shot: ShotSpec) -> int:
    """Frames of ``shot``'s transition that fall on either side of its first frame."""
    if shot.transition == "cut":
        return 0
    return (shot.transition_frames + (shot.hold if shot.transition == "fade" else 0) + 1) // 2


def _overlaps(before: ShotSpec, shot: ShotSpec) -> bool:
    """Whether ``shot``'s transition would begin before ``before``'s own has ended (or within 4 frames of it):
    such a timeline has no answer a reviewer would agree on, so the transition becomes a cut."""
    return _half(before) + _half(shot) + 4 > before.frames


def episode(number: int, directory: Path, small: bool) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Episode ``number``'s features (and 48x27 frames with ``small``) and its description, kept in
    ``directory``."""
    stem = directory / f"episode{number}"
    meta_path = stem.with_suffix(".json")
    frames_path = stem.with_suffix(".frames.npy")
    if meta_path.exists() and (frames_path.exists() or not small):
        return (np.load(stem.with_suffix(".features.npy")), np.load(frames_path) if small else None,
                json.loads(meta_path.read_text()))
    rng = random.Random(number)
    shots = [S(rng.randint(40, 80))]
    for _ in range(rng.randint(5, 8)):
        shot = _shot(rng, len(shots))
        if _overlaps(shots[-1], shot):
            shot = replace(shot, transition="cut", transition_frames=0, hold=0)
        shots.append(shot)
    size, fps = rng.choice(SIZES), rng.choice(RATES)
    noise, preset, crf = rng.choice([1.0, 2.0, 3.0, 5.0, 7.0]), rng.choice(["ultrafast", "fast", "medium"]), \
        rng.choice([18, 23, 28])
    video = make_video(stem.with_suffix(".mp4"), shots=shots, size=size, fps=fps, noise=noise, seed=1000 + number,
                       crf=crf, preset=preset)
    features, _fps, small_frames = compute_features(video.path, small_frames=small)
    video.path.unlink()
    np.save(stem.with_suffix(".features.npy"), features)
    if small_frames is not None:
        np.save(frames_path, small_frames)
    meta = {"shots": [asdict(s) for s in shots], "windows": [list(w) for w in video.windows],
            "size": list(size), "fps": str(fps), "noise": noise, "preset": preset, "crf": crf}
    meta_path.write_text(json.dumps(meta))
    return features, small_frames, meta


def _describe(shot: dict) -> str:
    """A shot's settings that differ from a plain shot's."""
    plain = asdict(S(shot["frames"]))
    changed = [f"{f.name}={shot[f.name]}" for f in fields(S) if f.name != "frames" and shot[f.name] != plain[f.name]
               and not (isinstance(shot[f.name], list) and tuple(shot[f.name]) == plain[f.name])]
    return f"{shot['frames']} frames" + (", " + ", ".join(changed) if changed else "")


def _context(meta: dict, frame: int) -> str:
    starts = np.cumsum([0] + [s["frames"] for s in meta["shots"]]).tolist()
    i = max(j for j, start in enumerate(starts[:-1]) if start <= frame)
    around = [f"{'>' if j == i else ' '} shot {j} from {starts[j]}: {_describe(meta['shots'][j])}"
              for j in range(max(0, i - 1), min(len(meta["shots"]), i + 2))]
    return f"{meta['size'][0]}x{meta['size'][1]} {meta['fps']} fps, noise {meta['noise']}, {meta['preset']} " \
           f"crf {meta['crf']}\n      " + "\n      ".join(around)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--first", type=int, default=0, help="number of the first episode")
    parser.add_argument("--out", type=Path, default=None, help="keep (and reuse) the episodes' features here")
    parser.add_argument("--detectors", default="builtin")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scene-episodes-") as tmp:
        directory = args.out or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        detectors = {}
        for name in (d for d in args.detectors.split(",") if d):
            try:
                detectors[name] = detector_for(name)
            except HeatersError as exc:
                print(f"{name}: skipped ({exc.message})")
        small = any(n != "builtin" for n in detectors)
        if small:
            from heaters.media.learned import remember, transition_probabilities
        numbers = range(args.first, args.first + args.episodes)
        episodes = {n: episode(n, directory, small) for n in numbers}
        frames = sum(len(e[0]) for e in episodes.values())
        cuts = sum(len(e[2]["windows"]) for e in episodes.values())
        print(f"{len(episodes)} episodes ({args.first}..{numbers[-1]}), {frames} frames, {cuts} true cuts")
        totals = {name: Score() for name in detectors}
        reports: dict[str, list[str]] = {name: [] for name in detectors}
        # Per episode every detector in turn: the ensemble reuses TransNetV2's answer for the same frames.
        for n, (features, small_frames, meta) in episodes.items():
            windows = [tuple(w) for w in meta["windows"]]
            kept = directory / f"episode{n}.transnetv2.npy"  # inference is slow: keep its answer
            if small_frames is not None and kept.exists():
                remember(small_frames, np.load(kept))
            for name, detector in detectors.items():
                found = [c.frame for c in detector.detect(features, small_frames)]
                totals[name].add(score(found, windows))
                reports[name] += [f"  episode {n}: false cut at {cut} ({_context(meta, cut)})"
                                  for cut in found if not any(lo <= cut < hi for lo, hi in windows)]
                reports[name] += [f"  episode {n}: missed the cut at {lo}..{hi - 1} ({_context(meta, (lo + hi) // 2)})"
                                  for lo, hi in windows if not any(lo <= cut < hi for cut in found)]
            if small_frames is not None and "transnetv2" in detectors and not kept.exists():
                np.save(kept, transition_probabilities(small_frames))  # answered from memory
        for name, total in totals.items():
            print(f"\n{name}: P {total.precision:.3f}  R {total.recall:.3f}  F1 {total.f1:.3f}  "
                  f"({total.tp} found, {total.fp} false, {total.fn} missed)")
            print("\n".join(reports[name]))

if __name__ == "__main__":
    main()
