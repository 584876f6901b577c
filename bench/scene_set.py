"""The labelled set the scene benchmarks score against, and the frame-exact scoring.

One synthetic video per category of transition (or of thing that is *not* a transition), each with its true
cuts known: a hard cut counts only on its exact frame, a dissolve or fade anywhere inside the transition
(for fade-out, black, fade-in: anywhere from the first darkening frame to the last brightening one).
Most videos carry camera noise; the real CC0 clip is scored beside them when it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from heaters.media.synthetic import ShotSpec, SyntheticVideo, make_video

S = ShotSpec
NTSC = Fraction(30000, 1001)

# category -> (shots, size, fps, noise)
CATEGORIES: dict[str, tuple[list[ShotSpec], tuple[int, int], Fraction, float]] = {
    "hard": ([S(50), S(40), S(60), S(45), S(50), S(40, pan=8), S(50)], (640, 360), Fraction(25), 2.0),
    "dissolve": ([S(60), S(60, "dissolve", 12), S(60, "dissolve", 24), S(50, "dissolve", 8),
                  S(60, "dissolve", 30, pan=6), S(50)], (640, 360), Fraction(25), 2.0),
    "fade": ([S(60), S(60, "fade", 16), S(60, "fade", 30), S(60, "fade", 20, hold=12),
              S(60, "fade", 12, hold=25), S(50)], (640, 360), Fraction(25), 2.0),
    "flash": ([S(60, flashes=(15, 40)), S(60, flashes=(20,), flash_frames=3), S(60, band_flashes=(20,)),
               S(60, band_flashes=(10, 35)), S(50)], (640, 360), Fraction(25), 2.0),
    "whip": ([S(80, whips=(30,)), S(80, whips=(20, 50), pan=4), S(70, whips=(25,), whip_frames=4, whip_speed=0.5),
              S(70, whips=(30,), whip_frames=8, whip_speed=0.2), S(50)], (640, 360), Fraction(25), 2.0),
    "similar": ([S(60), S(50, framing=0, zoom=1.3), S(60, gradient=True), S(50, framing=2, zoom=1.6),
                 S(50, framing=3, zoom=1.25), S(60), S(50, framing=5, zoom=1.2), S(50)], (640, 360), Fraction(25), 2.0),
    "short": ([S(40), S(8), S(10), S(12), S(40), S(9), S(11), S(40)], (640, 360), Fraction(25), 2.0),
    "drift": ([S(400, gradient=True, drift=0.6), S(60), S(250, drift=0.5), S(300, gradient=True, drift=1.5),
               S(200, gradient=True, drift=3.0)], (640, 360), Fraction(25), 2.0),
    "portrait": ([S(50), S(50, "dissolve", 16), S(40, pan=6), S(40, whips=(15,)), S(50)], (360, 640),
                 Fraction(25), 2.0),
    "ntsc": ([S(60), S(45, flashes=(20,)), S(60, "fade", 20), S(50, whips=(20,)), S(12), S(50)], (640, 360),
             NTSC, 2.0),
    "noisy": ([S(60, pan=3), S(60), S(60, "dissolve", 20), S(50, framing=1), S(60, flashes=(30,)), S(50)],
              (640, 360), Fraction(25), 7.0),
    # Colour drifts straight after hard cuts: beside a cut the uneven rate of a drift can look like a dissolve.
    "drift-cut": ([S(79), S(150, drift=2.0), S(79), S(150, gradient=True, drift=2.0), S(60), S(150, drift=1.0),
                   S(60), S(150, drift=0.5), S(50)], (640, 360), Fraction(30), 2.0),
}


@dataclass(frozen=True)
class Labelled:
    category: str
    path: Path
    windows: tuple[tuple[int, int], ...]
    frames: int


def make_set(directory: Path, only: Iterable[str] | None = None, preset: str = "ultrafast") -> list[Labelled]:
    """Encode every category's video into ``directory`` (seeded, so the set is the same each run) with x264's
    ``preset``."""
    chosen = set(only) if only else set(CATEGORIES)
    out = []
    for i, (name, (shots, size, fps, noise)) in enumerate(CATEGORIES.items()):
        if name not in chosen:
            continue
        video: SyntheticVideo = make_video(
            directory / f"{name}.mp4", shots=shots, size=size, fps=fps, noise=noise, seed=i + 11, crf=20,
            preset=preset,
        )
        out.append(Labelled(name, video.path, video.windows, video.frames))
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(cuts: Iterable[int], windows: Iterable[tuple[int, int]], tolerance: int = 0) -> Score:
    """Match found cuts to true windows one to one; a cut outside every unmatched window is a false positive."""
    unmatched = list(windows)
    result = Score()
    for cut in sorted(cuts):
        hit = next((w for w in unmatched if w[0] - tolerance <= cut < w[1] + tolerance), None)
        if hit is None:
            result.fp += 1
        else:
            unmatched.remove(hit)
            result.tp += 1
    result.fn = len(unmatched)
    return result
