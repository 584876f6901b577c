"""How many frames ``heaters scenes`` leaves undecoded, and whether the detector's answer stays the same.

    python bench/skim.py FILE...

For each file: its frames, how many are non-reference frames (the most the skimming decode can leave out),
how many it left out (filled in as the blend of their neighbours) and how many it left out but then decoded
after all because their neighbours differ; the CPU time of the skimming decode against a decode of every
frame (thumbnails included, best of three); and whether the built-in detector finds the same cuts, frame
and kind, on the skimmed features as on those of a decode of every frame.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import av
import numpy as np

from heaters.media.features import FeatureBuilder
from heaters.media.scenes import detect_cuts
from heaters.media.skim import Thumbnail, frame_thumbnails


def thumbnails(path: Path, skim: bool) -> list[Thumbnail]:
    with av.open(str(path)) as container:
        return list(frame_thumbnails(path, container, container.streams.video[0], skim=skim))


def cpu_seconds(path: Path, skim: bool) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        thumbnails(path, skim)
        best = min(best, time.process_time() - started)
    return best


def cuts(frames: list[Thumbnail]) -> list[tuple[int, str]]:
    builder = FeatureBuilder()
    for t in frames:
        builder.add(t.thumb, filled=t.filled)
    return [(c.frame, c.kind) for c in detect_cuts(builder.finish())]


def reference_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        container.streams.video[0].codec_context.skip_frame = "NONREF"
        return sum(1 for _ in container.decode(video=0))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    print(f"{'file':28} {'frames':>7} {'non-reference':>14} {'left out':>9} {'decoded again':>14}"
          f" {'CPU vs full':>12}  detector")
    for path in args.files:
        skimmed, whole = thumbnails(path, True), thumbnails(path, False)
        how = collections.Counter(t.how for t in skimmed)
        same = cuts(skimmed) == cuts(whole) and len(skimmed) == len(whole)
        decoded = [i for i, t in enumerate(skimmed) if not t.filled]
        exact = all(np.array_equal(skimmed[i].thumb, whole[i].thumb) for i in decoded)
        print(f"{path.name:28} {len(whole):7} {len(whole) - reference_frames(path):14} {how['filled']:9}"
              f" {how['decoded again']:14} {cpu_seconds(path, True) / cpu_seconds(path, False):11.2f}x"
              f"  {'same cuts and kinds' if same else 'DIFFERENT CUTS'}"
              f"{'' if exact else ', decoded frames differ'}")


if __name__ == "__main__":
    main()
