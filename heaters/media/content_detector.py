"""The built-in scene detector: rules over the feature table of ``heaters.media.features``.

``ContentDetector`` combines two passes:

* **Hard cuts.** The change into frame t (``diff``) must stand out against its neighbours (ratio to the mean of
  the two frames either side, like an adaptive threshold, so steady motion and fast pans do not cut) and be
  large in absolute terms. A camera flash looks like a cut into the flash and another out of it; it is
  rejected because the picture from before comes back within a few frames (``fwd``/``back`` columns), and
  left out of the neighbourhood a cut beside it is measured against.
* **Gradual transitions** (dissolves, fades). Consecutive frames barely differ, but the mean of the K frames
  before t differs from the mean of the K frames after; that ``window`` signal peaks once, mid-transition.
  A peak counts if it stands out from the surrounding baseline, the pictures outside the window differ too
  (``span``), the mean picture changes about as much as the colours do, and no hard cut already explains it.
  A weak one after which the same scene is on screen, only recoloured (``recolour``), is a drift of light.

Cuts closer than ``min_frames`` to another cut or to either end are dropped, weaker first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from heaters.media.features import FLASH, WINDOW
from heaters.media.scenes import LOW_CONFIDENCE, Cut, Kind


def _neighbour_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Mean of x over [t-width, t+width] excluding t itself, ignoring NaN and the ends."""
    v = np.nan_to_num(x, nan=0.0).astype(np.float64)
    c = (~np.isnan(x)).astype(np.float64)
    kernel = np.ones(2 * width + 1)
    kernel[width] = 0
    # The centre of the full convolution: mode="same" returns the kernel's length when x is shorter.
    sums = np.convolve(v, kernel)[width : width + len(x)]
    counts = np.convolve(c, kernel)[width : width + len(x)]
    return sums / np.maximum(counts, 1)


def _side_means(x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of x over the ``width`` frames before t and over the ``width`` frames after t (ends clipped)."""
    v = np.nan_to_num(x, nan=0.0).astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(v)])
    n = len(v)
    t = np.arange(n)
    lo, hi = np.maximum(t - width, 0), np.minimum(t + 1 + width, n)
    left = (c[t] - c[lo]) / np.maximum(t - lo, 1)
    right = (c[hi] - c[t + 1]) / np.maximum(hi - t - 1, 1)
    return left, right


def _local_median(x: np.ndarray, width: int) -> np.ndarray:
    """Median of x over [t-width, t+width] (NaN ignored): the ordinary level of change around t."""
    padded = np.pad(np.nan_to_num(x, nan=0.0), width, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * width + 1), axis=1)


def _window_percentile(windows: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(windows, q, axis=1)`` (its default, linear method, bit for bit), in one sort: with NaN
    present NumPy takes each row on its own in Python, 100x slower on the thousands of rows of a long video."""
    ordered = np.sort(windows, axis=1)  # NaN sorts last
    counts = np.count_nonzero(~np.isnan(windows), axis=1)
    share = q / 100
    position = counts * share + (1 - share) - 1  # NumPy's virtual index, computed as NumPy does
    below = np.floor(position)
    gamma = position - below
    last = np.maximum(counts - 1, 0)
    lo = np.clip(below.astype(np.intp), 0, last)
    rows = np.arange(len(ordered))
    a, b = ordered[rows, lo], ordered[rows, np.minimum(lo + 1, last)]
    step = b - a
    # NumPy's interpolation, in the windows' own precision (it weights with a Python float per row)
    out = a + step * gamma.astype(windows.dtype)
    np.subtract(b, step * (1 - gamma).astype(windows.dtype), out=out, where=gamma >= 0.5)
    out[counts == 0] = np.nan
    return out


def _near_median(f: np.ndarray, t: int, column: int) -> float:
    """Median of ``column`` over the 7 frames centred on t (NaN ignored; NaN if all are)."""
    with warnings.catch_warnings():  # all NaN near the ends
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmedian(f[max(0, t - 3) : t + 4, column]))


def _strength(ratio: float, at_threshold: float, full: float) -> float:
    """0..1 on a log scale: 0.5 where ``ratio`` is ``at_threshold``, 1 from ``full`` up."""
    if ratio <= 0:
        return 0.0
    x = 0.5 + 0.5 * np.log(ratio / at_threshold) / np.log(full / at_threshold)
    return float(np.clip(x, 0.02, 1.0))


@dataclass(frozen=True)
class ContentDetector:
    """Hard cuts plus dissolves/fades over HSV thumbnails. ``threshold``: how many times larger than its
    surroundings a change must be (lower finds more cuts); ``min_content``: smallest change that can be a cut
    on its own (mean HSV difference, 0..255), lower changes count when they spike far above their
    neighbourhood; ``min_frames``: shortest shot kept."""

    threshold: float = 3.0
    min_frames: int = 8
    min_content: float = 12.0
    low_content: float = 3.0  # a low-contrast cut must still reach this ...
    spike: float = 3.0  # ... and this many times the ordinary change around it
    side_ratio: float = 2.0  # the change must stand out against each side on its own, not just on average
    hard_window: int = 2
    flash_return: float = 0.5  # picture "comes back" if within this fraction of the cut's change
    gradual_min: float = 10.0  # histogram distance (0..100) a transition must reach
    gradual_ratio: float = 2.0  # ... and how far above its surroundings, at the default threshold 3.0
    picture_share: float = 0.35  # the window's change (0..255) at least this times the span's (0..100)
    blend_max: float = 0.65  # mid-transition frames must be this close to a mix of the two ends
    settle: float = 0.7  # the picture before or after changes at most this fraction of the rate during
    recolour_min: float = 0.45  # a weak dissolve must leave this much of its end unexplained by its start
    weak: float = LOW_CONFIDENCE  # a gradual find below this confidence is weak
    dark: float = 32.0  # mean brightness (0..255) below which a frame counts as black

    wants_small = False

    def __post_init__(self) -> None:
        if not self.threshold > 0 or self.min_frames < 1:  # 0 divides by zero, NaN compares false
            raise ValueError(f"threshold must be above 0 and min_frames at least 1, not {self.threshold}, "
                             f"{self.min_frames}")

    def detect(self, features: np.ndarray, small: np.ndarray | None = None) -> tuple[Cut, ...]:
        n = len(features)
        if n < 2:
            return ()
        found: dict[int, Cut] = {c.frame: c for c in self._hard_cuts(features)}
        for cut in self._gradual(features, set(found)):
            found[cut.frame] = cut
        merged = self._through_black(sorted(found.values()), features)
        return self._enforce_min_length(merged, n)

    def _hard_cuts(self, f: np.ndarray) -> list[Cut]:
        diff = np.nan_to_num(f[:, 0], nan=0.0)
        around = self._without_transients(f, diff)
        # The small constant keeps a calm shot's noise from making ratios of nothing.
        ratio = diff / (_neighbour_mean(around, self.hard_window) + 0.25)
        left, right = _side_means(around, self.hard_window)
        one_side = diff / (np.maximum(left, right) + 0.25)
        ordinary = _local_median(around, 3 * WINDOW)
        floor = np.minimum(self.min_content, np.maximum(self.low_content, self.spike * (ordinary + 0.2)))
        candidates = np.flatnonzero(
            (diff >= floor) & (ratio >= self.threshold) & (one_side >= self.side_ratio * self.threshold / 3.0)
        )
        cuts = []
        for t in candidates.tolist():
            # The picture from just before t reappears (flash starting at t), or t's picture was on screen
            # just before (flash ending at t): not a new shot.
            staged = f[t, 15:16] if f.shape[1] > 15 else np.zeros(0, np.float32)
            returns = np.nanmin(np.concatenate([f[t, 1 : 1 + 2 * FLASH], staged, [np.inf]]))
            if returns < self.flash_return * diff[t]:
                continue
            sure = min(_strength(float(ratio[t]), self.threshold, 5 * self.threshold),
                       _strength(float(diff[t] / floor[t]), 1.0, 3.0))
            cuts.append(Cut(t, "hard", sure))
        return cuts

    def _without_transients(self, f: np.ndarray, diff: np.ndarray) -> np.ndarray:
        """``diff`` as a cut's neighbourhood should see it: the changes into and out of a picture that lasts
        at most FLASH frames before the one from before it returns (a flash, a damaged frame) are replaced by
        the change across it, shared out. A cut beside a flash then still stands out from its calm
        surroundings rather than from the flash."""
        clean = diff.copy()
        for j in range(1, FLASH + 1):
            across = np.nan_to_num(f[:, j], nan=np.inf)  # d(t-1, t+j)
            starts = np.flatnonzero((diff >= self.low_content) & (across < self.flash_return * diff))
            for t in starts.tolist():
                clean[t : t + j + 1] = np.minimum(clean[t : t + j + 1], across[t] / (j + 1))
        return clean

    def _gradual(self, f: np.ndarray, hard: set[int]) -> list[Cut]:
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
        quiet = _window_percentile(windows, 30)
        with warnings.catch_warnings():  # near the ends one side is all NaN: use the other
            warnings.simplefilter("ignore", RuntimeWarning)
            base = np.nan_to_num(np.nanmean(np.stack([quiet[:n], quiet[6 * WINDOW : 6 * WINDOW + n]]), axis=0))
        ratio = self.gradual_ratio * self.threshold / 3.0  # one sensitivity knob for both passes
        raised = (span >= self.gradual_min) & (span >= ratio * (base + 1.0)) & ~explained
        found = []
        for lo, hi in _runs(raised, gap=WINDOW // 2):
            # A flash raises ``span`` for only as many frames as it lasts; a transition for 2K+ frames.
            if hi - lo < WINDOW:
                continue
            t = lo + int(np.argmax(window[lo:hi]))  # the window signal peaks mid-transition
            # A transition changes the picture, not only its colour distribution: a brightness drift (auto
            # exposure) under a moving object shifts the histogram, whose bins are 16 levels wide, while the
            # mean picture across the window barely moves.
            if window[lo:hi].max() < self.picture_share * span[lo:hi].max():
                continue
            mix = self._mix(f, t)
            if mix > self.blend_max or not self._settles(f[:, 0], t, lo, hi):
                continue
            sure = min(_strength(float(span[lo:hi].max() / (base[t] + 1.0)), ratio, 4 * ratio),
                       _strength(self.blend_max / max(mix, 1e-3), 1.0, 3.0))
            kind = transition_kind(f[:, 11], t, self.dark)
            # A drift of light or colour passes the tests above now and then, barely (its rate changes as
            # the hue turns); after it the same scene is on screen, only recoloured. A fade to black is a
            # recolouring too, and is kept.
            if kind == "dissolve" and sure < self.weak and self._recoloured(f, t):
                continue
            found.append(Cut(t, kind, sure))
        return found

    def _mix(self, f: np.ndarray, t: int) -> float:
        """How far the frames around t are from mixes of the transition's ends (0 = exact mixes)."""
        if f.shape[1] < 14:
            return 0.0  # an older table: no blend columns
        scores = [x for x in (_near_median(f, t, 12), _near_median(f, t, 13)) if np.isfinite(x)]
        return min(scores) if scores else 0.0

    def _recoloured(self, f: np.ndarray, t: int) -> bool:
        """The picture after the transition around t is the one before it with other colours."""
        if f.shape[1] < 17:
            return False  # an older table: no recolour column
        return _near_median(f, t, 16) < self.recolour_min

    def _settles(self, diff: np.ndarray, t: int, lo: int, hi: int) -> bool:
        """A transition goes from one stable picture to another: the picture changes much less on at least one
        side of it (the edges of the raised run ``[lo, hi)`` lie about K frames outside the transition) than
        in its middle. A slow drift (sunset, stage light) changes at the same rate throughout."""
        d = np.nan_to_num(diff, nan=0.0)
        during = float(d[max(1, t - 2) : t + 3].mean())
        sides = [d[max(1, lo - 2 * WINDOW) : lo + WINDOW // 2], d[max(1, hi - WINDOW // 2) : hi + 2 * WINDOW]]
        calm = [float(np.median(x)) for x in sides if len(x)]
        return not calm or min(calm) <= self.settle * during + 0.3

    def _through_black(self, cuts: list[Cut], f: np.ndarray) -> list[Cut]:
        """Fade-out, black, fade-in is one transition: every cut from the start of the darkening to the end of
        the brightening around a still black stretch becomes one cut, in the middle of the black."""
        luma = np.nan_to_num(f[:, 11], nan=255.0)
        diff = np.nan_to_num(f[:, 0], nan=0.0)
        out = list(cuts)
        for lo, hi in _runs(luma < self.dark, gap=0):
            if hi - lo < 2 or np.median(diff[lo + 1 : hi]) > 1.5:  # black holds still; a night scene moves
                continue
            start, end = lo, hi
            while start > 0 and lo - start < 2 * WINDOW and luma[start - 1] > luma[start] - 0.5:
                start -= 1
            while end < len(luma) and end - hi < 2 * WINDOW and luma[end] > luma[end - 1] - 0.5:
                end += 1
            inside = [c for c in out if start <= c.frame <= end]
            if len(inside) < 2:
                continue
            middle = (lo + hi) // 2
            out = [c for c in out if c not in inside]
            out.append(Cut(middle, "fade", max(c.confidence for c in inside)))
        return sorted(out)

    def _enforce_min_length(self, found: list[Cut], n: int) -> tuple[Cut, ...]:
        kept: list[Cut] = []
        for cut in sorted(found, key=lambda c: -c.confidence):
            t = cut.frame
            if t < self.min_frames or n - t < self.min_frames:
                continue
            if all(abs(t - k.frame) >= self.min_frames for k in kept):
                kept.append(cut)
        return tuple(sorted(kept))


def transition_kind(luma: np.ndarray, t: int, dark: float = 32.0) -> Kind:
    """'fade' when the picture around a gradual transition at t goes (nearly) black, else 'dissolve'."""
    clean = np.nan_to_num(luma, nan=255.0)
    around = clean[max(0, t - WINDOW) : t + WINDOW + 1]
    if len(around) == 0:
        return "dissolve"
    ends = min(float(clean[max(0, t - 2 * WINDOW)]), float(clean[min(len(clean) - 1, t + 2 * WINDOW)]))
    return "fade" if around.min() < max(dark, 0.4 * ends) else "dissolve"


def _runs(mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Half-open runs of True in ``mask``, joining runs separated by at most ``gap`` False frames."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
