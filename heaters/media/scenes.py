"""Scene detection: propose the frames where shots begin.

A detector is anything with ``detect(features) -> cuts`` over the per-frame table of ``heaters.media.features``
(so detection re-runs on stored features without decoding). ``ContentDetector`` here combines two passes:

* **Hard cuts.** The change into frame t (``diff``) must stand out against its neighbours (ratio to the mean of
  the two frames either side, like an adaptive threshold, so steady motion and fast pans do not cut) and be
  large in absolute terms. A camera flash looks like a cut into the flash and another out of it; it is
  rejected because the picture from before comes back within a few frames (``fwd``/``back`` columns).
* **Gradual transitions** (dissolves, fades). Consecutive frames barely differ, but the mean of the K frames
  before t differs from the mean of the K frames after; that ``window`` signal peaks once, mid-transition.
  A peak counts if it stands out from the surrounding baseline and the pictures outside the window differ too
  (``span``), and no hard cut already explains it.

Cuts closer than ``min_frames`` to another cut or to either end are dropped, weaker first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from heaters.errors import MediaError
from heaters.media.features import FLASH, WINDOW, FeatureBuilder, thumbnail
from heaters.media.probe import normalise_rate, open_media, require_video


class SceneDetector(Protocol):
    """Turns a feature table (one row per frame) into sorted cut frames (each the first frame of a shot)."""

    def detect(self, features: np.ndarray) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class SceneResult:
    cuts: tuple[int, ...]
    frames: int
    fps: Fraction

    def as_json(self) -> dict[str, object]:
        return {"cuts": list(self.cuts), "frames": self.frames, "fps": f"{self.fps.numerator}/{self.fps.denominator}"}


def _neighbour_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Mean of x over [t-width, t+width] excluding t itself, ignoring NaN and the ends."""
    v = np.nan_to_num(x, nan=0.0).astype(np.float64)
    c = (~np.isnan(x)).astype(np.float64)
    kernel = np.ones(2 * width + 1)
    kernel[width] = 0
    sums = np.convolve(v, kernel, mode="same")
    counts = np.convolve(c, kernel, mode="same")
    return sums / np.maximum(counts, 1)


@dataclass(frozen=True)
class ContentDetector:
    """Hard cuts plus dissolves/fades over HSV thumbnails. ``threshold``: how many times larger than its
    surroundings a change must be (lower finds more cuts); ``min_content``: smallest change that can be a cut
    (mean HSV difference, 0..255); ``min_frames``: shortest shot kept."""

    threshold: float = 3.0
    min_frames: int = 8
    min_content: float = 12.0
    hard_window: int = 2
    flash_return: float = 0.5  # picture "comes back" if within this fraction of the cut's change
    gradual_min: float = 10.0  # histogram distance (0..100) a transition must reach
    gradual_ratio: float = 2.0  # ... and how far above its surroundings, at the default threshold 3.0

    def detect(self, features: np.ndarray) -> tuple[int, ...]:
        n = len(features)
        if n < 2:
            return ()
        strength: dict[int, float] = {}
        for t, s in self._hard_cuts(features):
            strength[t] = s
        for t, s in self._gradual(features, set(strength)):
            strength[t] = s
        return self._enforce_min_length(strength, n)

    def _hard_cuts(self, f: np.ndarray) -> list[tuple[int, float]]:
        diff = np.nan_to_num(f[:, 0], nan=0.0)
        ratio = diff / (_neighbour_mean(f[:, 0], self.hard_window) + 1.0)
        candidates = np.flatnonzero((diff >= self.min_content) & (ratio >= self.threshold))
        cuts = []
        for t in candidates.tolist():
            # The picture from just before t reappears (flash starting at t), or t's picture was on screen
            # just before (flash ending at t): not a new shot.
            returns = np.nanmin(np.concatenate([f[t, 1 : 1 + FLASH], f[t, 1 + FLASH : 1 + 2 * FLASH], [np.inf]]))
            if returns < self.flash_return * diff[t]:
                continue
            cuts.append((t, float(ratio[t])))
        return cuts

    def _gradual(self, f: np.ndarray, hard: set[int]) -> list[tuple[int, float]]:
        window = np.nan_to_num(f[:, 9], nan=0.0)
        span = np.nan_to_num(f[:, 10], nan=0.0)
        n = len(span)
        # Baseline: the colour change between frames 2K+1 apart, measured 2K..4K frames away on each side
        # (a low percentile per side, so a neighbouring transition does not inflate it), averaged over both
        # sides so that a lasting change such as a pan starting is a step, not a bump, and does not count.
        side = 2 * WINDOW + 1
        # A hard cut raises ``span`` for the 2K+1 frames around it; those frames are explained already, so
        # they neither count as a transition nor inflate the baseline of a transition next to them.
        explained = np.zeros(n, bool)
        for h in hard:
            explained[max(0, h - WINDOW - 1) : h + WINDOW + 1] = True
        measured = np.where(explained, np.nan, f[:, 10])
        padded = np.pad(measured, (4 * WINDOW, 4 * WINDOW), constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(padded, side)
        with warnings.catch_warnings():  # near the ends one side is all NaN: use the other
            warnings.simplefilter("ignore", RuntimeWarning)
            quiet = np.nanpercentile(windows, 30, axis=1)
            base = np.nan_to_num(np.nanmean(np.stack([quiet[:n], quiet[6 * WINDOW : 6 * WINDOW + n]]), axis=0))
        ratio = self.gradual_ratio * self.threshold / 3.0  # one sensitivity knob for both passes
        raised = (span >= self.gradual_min) & (span >= ratio * (base + 1.0)) & ~explained
        found = []
        for lo, hi in _runs(raised, gap=WINDOW // 2):
            # A flash raises ``span`` for only as many frames as it lasts; a transition for 2K+ frames.
            if hi - lo < WINDOW:
                continue
            t = lo + int(np.argmax(window[lo:hi]))  # the window signal peaks mid-transition
            found.append((t, float(span[lo:hi].max() / (base[t] + 1.0))))
        return found

    def _enforce_min_length(self, strength: dict[int, float], n: int) -> tuple[int, ...]:
        kept: list[int] = []
        for t, _ in sorted(strength.items(), key=lambda kv: -kv[1]):
            if t < self.min_frames or n - t < self.min_frames:
                continue
            if all(abs(t - k) >= self.min_frames for k in kept):
                kept.append(t)
        return tuple(sorted(kept))


def _runs(mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Half-open runs of True in ``mask``, joining runs separated by at most ``gap`` False frames."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def compute_features(path: str | Path) -> tuple[np.ndarray, Fraction]:
    """Decode ``path`` once at low resolution and return (feature table, frame rate).

    Speed matters here: decoding runs on the codec's own threads, each frame's planes are shrunk in place to
    a 32x18 thumbnail (no full-size conversion), and everything else is batched numpy.
    """
    name = Path(path).name
    builder = FeatureBuilder()
    with open_media(path) as container:
        stream = require_video(container, name)
        stream.thread_type = "AUTO"
        fps = normalise_rate(stream.average_rate, stream.guessed_rate)
        try:
            for frame in container.decode(stream):
                builder.add(thumbnail(frame))
        except av.error.FFmpegError as exc:
            if builder.frames == 0:
                raise MediaError(f"{name}: no frame could be decoded ({exc})", "the file is corrupt") from None
            # A damaged tail: keep what decoded, as a player would.
    if builder.frames == 0:
        raise MediaError(f"{name}: the video stream holds no frames", "the file is empty or truncated")
    return builder.finish(), fps


def detect_file(
    path: str | Path, threshold: float = 3.0, min_frames: int = 8, detector: SceneDetector | None = None
) -> SceneResult:
    """Detect cuts in any video file: what ``heaters scenes FILE --json`` prints."""
    features, fps = compute_features(path)
    chosen = detector or ContentDetector(threshold=threshold, min_frames=min_frames)
    return SceneResult(cuts=chosen.detect(features), frames=len(features), fps=fps)


def detect_features(features: np.ndarray, threshold: float = 3.0, min_frames: int = 8) -> tuple[int, ...]:
    """Re-run detection on a stored feature table (e.g. loaded with ``numpy.load``)."""
    return ContentDetector(threshold=threshold, min_frames=min_frames).detect(features)
