"""Per-frame signals for scene detection, computed once while decoding and saved beside the master.

Each frame is reduced to a 32x18 HSV thumbnail (area-averaged, so compression noise and fine motion mostly
vanish). From the thumbnails we keep only the handful of distances the detector reads, one row per frame:

====  ==========  ========================================================================================
col   name        meaning (d = mean absolute HSV difference of two thumbnails, 0..255)
====  ==========  ========================================================================================
0     diff        d(t-1, t) after the best shift of up to 4x2 thumbnail pixels: how much the picture changes
                  into frame t that camera motion does not explain (hard cuts spike, pans do not)
1-4   fwd1..4     d(t-1, t+j): does the picture before t come back within j frames? (a flash starting at t)
5-8   back1..4    d(t, t-1-j): was frame t already on screen just before? (a flash ending at t)
9     window      d(mean of t-K..t-1, mean of t..t+K-1): change across the ~K frames around t; peaks once,
                  mid-transition, for dissolves and fades
10    span        h(t-K-1, t+K): colour-histogram distance (0..100) of the frames either side of that window;
                  blind to where colours are, so motion barely moves it while a transition raises it
11    luma        mean brightness of frame t (0..255)
12    blend       how far frame t is from the best mix a*A + b*B (a, b >= 0) of the frames A = t-K-1 and
                  B = t+K, relative to its distance from the nearer of them (RGB): near 0 mid-dissolve or
                  mid-fade (every frame there is such a mix, black included), near 1 or more for motion blur
                  or a new picture, which no mix of the two ends explains
13    blend3      the same with A = t-3 and B = t+3: a dissolve over a moving camera is still a mix of
                  nearby frames, a whip pan is not
14    smear       how much sharper frame t is across one axis than along the other (0 = same, -> 1 =
                  smeared along one axis): motion blur from a whip pan
15    return2     min over k = 1..2, j = 1..4 of d(t-1-k, t+j): does the picture from before a flash that
                  lights the frame in stages (rolling shutter: top, then bottom) come back soon after t?
16    recolour    how much of the picture B = t+K the colours of A = t-K-1 leave unexplained (0..1): low
                  when the scene stays and only its light or tint changes (a drift, a fade to black), high
                  for a new picture
====  ==========  ========================================================================================

Hue is an angle: its differences are taken the short way round the circle, so a colour drifting across red
does not jump by the whole hue range. And hue means nothing for a pixel near grey (a white wall, an overcast
sky: compression noise spins it round the circle at every keyframe), so its weight falls with saturation.
Missing neighbours (near the ends) are NaN. Older tables have only the first twelve (or sixteen) columns; the
detector then skips the tests that need the others. 17 float32 per frame is ~6 MB for an hour at 25 fps, so
re-running detection with other settings costs milliseconds. ``FeatureBuilder`` computes the rows in batches
as thumbnails stream in, holding only a short window of thumbnails in memory.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

THUMB_W, THUMB_H = 32, 18
WINDOW = 10  # K above: frames each side compared for gradual transitions
FLASH = 4  # look this many frames ahead/back for the picture to return
COLUMNS = (
    "diff", "fwd1", "fwd2", "fwd3", "fwd4", "back1", "back2", "back3", "back4", "window", "span", "luma", "blend",
    "blend3", "smear", "return2", "recolour",
)
SMALL_W, SMALL_H = 48, 27  # the frames a learned detector reads (TransNetV2's input size)
SHIFT_X, SHIFT_Y = 4, 2
MOTION_CHECK = 6.0  # below this plain change no frame can be a cut, so motion compensation is skipped
RETURN_CHECK = 3.0  # the smallest change the detector considers at all (its low-contrast floor)
HIST_BINS = 16
RECOLOUR_LEVELS = 4  # steps per RGB channel in which ``recolour`` groups the pixels of A
HUE_SATURATION = 32.0  # saturation (0..255) from which a pixel's hue counts in full
_BATCH = 128  # rows are computed as frames stream in: small batches overlap the decoder's threads
_BACK = WINDOW + 3  # also the frames just before a staged flash (``return2``)
_AHEAD = WINDOW


_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}


def thumbnail(frame: av.VideoFrame) -> np.ndarray:
    """A THUMB_H x THUMB_W RGB thumbnail of ``frame``, area-averaged.

    For ordinary 8-bit planar YUV the planes are read in place (every k-th row) and shrunk with OpenCV,
    several times faster than a swscale conversion at full size; colours are only approximate (full-range BT.601 maths),
    which is fine for comparing frames with each other. Other formats go through swscale.
    """
    return thumbnails(frame, small=False)[0]


def thumbnails(frame: av.VideoFrame, small: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The feature thumbnail of ``frame`` and, if ``small``, also its SMALL_H x SMALL_W RGB frame for a learned
    detector, both from one read of the planes."""
    if frame.format.name not in _PLANAR_8BIT:
        thumb = frame.reformat(width=THUMB_W, height=THUMB_H, format="rgb24", interpolation="AREA").to_ndarray()
        if not small:
            return thumb, None
        return thumb, frame.reformat(width=SMALL_W, height=SMALL_H, format="rgb24", interpolation="AREA").to_ndarray()
    rows, cols = (SMALL_H, SMALL_W) if small else (THUMB_H, THUMB_W)
    planes = []
    for plane in frame.planes[:3]:
        # Every k-th row and column only: a small part of the memory traffic, still ~4x4 samples averaged per
        # thumbnail pixel.
        step = max(1, plane.height // (rows * 4))
        across = max(1, plane.width // (cols * 4))
        data = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        planes.append(np.ascontiguousarray(data[::step, : plane.width : across]))

    def shrink(width: int, height: int) -> np.ndarray:
        yuv = np.dstack([cv2.resize(planes[k], (width, height), interpolation=cv2.INTER_AREA) for k in (0, 2, 1)])
        return cv2.cvtColor(yuv, cv2.COLOR_YCrCb2RGB)  # OpenCV's YCrCb order, hence planes 0, 2, 1

    return shrink(THUMB_W, THUMB_H), (shrink(SMALL_W, SMALL_H) if small else None)


def thumbnails_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, THUMB_H, THUMB_W, 3) uint8 RGB -> HSV pixels (n, THUMB_H*THUMB_W*3) float32 and colour histograms
    (n, 3*HIST_BINS) float32, saturation and value each summing to 1 and hue to at most 1 (a pixel's hue
    vote is weighted as in ``hsv_distance``); one OpenCV call and one bincount for the batch."""
    n = rgb.shape[0]
    hsv = cv2.cvtColor(rgb.reshape(n * THUMB_H, THUMB_W, 3), cv2.COLOR_RGB2HSV).reshape(n, -1, 3)
    bins = hsv.astype(np.int64) * HIST_BINS
    bins[..., 0] //= 180  # OpenCV hue is 0..179
    bins[..., 1:] //= 256
    bins += np.arange(3) * HIST_BINS + (np.arange(n) * 3 * HIST_BINS)[:, None, None]
    weights = np.ones(bins.shape, np.float64)
    weights[..., 0] = _hue_weight(hsv[..., 1])
    hist = np.bincount(bins.ravel(), weights.ravel(), minlength=n * 3 * HIST_BINS).reshape(n, 3 * HIST_BINS)
    return hsv.reshape(n, -1).astype(np.float32), (hist / hsv.shape[1]).astype(np.float32)


def hsv_distance(a: np.ndarray, b: np.ndarray, axis: int | tuple[int, ...] = -1) -> np.ndarray:
    """Mean absolute difference of HSV thumbnails (any leading shape, last axis interleaved H, S, V), hue taken
    the short way round its circle of 180 steps and weighted by how saturated the pixel is in both."""
    d = np.abs(a - b)
    hue = d[..., 0::3]
    np.minimum(hue, 180.0 - hue, out=hue)
    hue *= _hue_weight(np.minimum(a[..., 1::3], b[..., 1::3]))
    return d.mean(axis=axis)


def _hue_weight(saturation: np.ndarray) -> np.ndarray:
    """How much a pixel's hue counts: the hue of a near-grey pixel is noise (a level of change in R, G or B
    turns it half the circle), so it counts in full only from HUE_SATURATION up and fades out with the square
    of the saturation below."""
    weight = np.minimum(saturation * (1.0 / HUE_SATURATION), 1.0)
    return weight * weight


class FeatureBuilder:
    """Feed RGB thumbnails in frame order with ``add``; ``finish`` returns the (frames, len(COLUMNS)) float32
    table.

    With ``small_frames`` it also keeps every frame's SMALL_H x SMALL_W RGB picture (``add_frame``), for a
    learned detector: ``small`` holds them, (frames, SMALL_H, SMALL_W, 3) uint8."""

    def __init__(self, small_frames: bool = False) -> None:
        self.keeps_small = small_frames
        self._small: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []  # RGB thumbnails not yet converted
        self._hsv = np.zeros((0, THUMB_W * THUMB_H * 3), np.float32)  # frames [base, base + len)
        self._rgb = np.zeros((0, THUMB_W * THUMB_H * 3), np.float32)  # same frames
        self._hist = np.zeros((0, 3 * HIST_BINS), np.float32)  # same frames
        self._base = 0
        self._luma: list[float] = []
        self._rows: list[np.ndarray] = []
        self._done = 0  # frames whose rows are computed
        self._filled: list[int] = []  # frames that were not decoded but filled in (``add(filled=True)``)

    @property
    def frames(self) -> int:
        return self._base + len(self._hsv) + len(self._pending)

    def add(self, thumb: np.ndarray, small: np.ndarray | None = None, *, filled: bool = False) -> None:
        """Add the next frame's thumbnail (and small frame); ``filled`` marks a frame the decode left out and
        its caller filled in as the blend of its neighbours."""
        if filled:
            self._filled.append(self.frames)
        if small is not None:
            self._small.append(small)
        self._pending.append(thumb)
        if len(self._pending) >= _BATCH:
            self._absorb()
            ready = self._base + len(self._hsv) - _AHEAD
            if ready - self._done >= _BATCH:
                self._compute(ready, final=False)

    def add_many(self, thumbs: np.ndarray) -> None:
        for thumb in thumbs:
            self.add(thumb)

    def add_frame(self, frame: av.VideoFrame) -> None:
        """Thumbnail a decoded frame (and keep its small picture when asked to) and add it."""
        thumb, small = thumbnails(frame, self.keeps_small)
        self.add(thumb, small)

    @property
    def small(self) -> np.ndarray:
        if not self._small:
            return np.zeros((0, SMALL_H, SMALL_W, 3), np.uint8)
        return np.stack(self._small)

    def finish(self) -> np.ndarray:
        self._absorb()
        self._compute(self._base + len(self._hsv), final=True)
        if not self._rows:
            return np.zeros((0, len(COLUMNS)), np.float32)
        table = np.concatenate(self._rows).astype(np.float32)
        _unmix_filled(table, np.asarray(self._filled, np.int64))
        return table

    def _absorb(self) -> None:
        if self._pending:
            rgb = np.stack(self._pending)
            hsv, hist = thumbnails_to_hsv(rgb)
            self._luma.extend(rgb.mean(axis=(1, 2, 3)).tolist())
            self._hsv = np.concatenate([self._hsv, hsv])
            self._rgb = np.concatenate([self._rgb, rgb.reshape(len(rgb), -1).astype(np.float32)])
            self._hist = np.concatenate([self._hist, hist])
            self._pending = []

    def _compute(self, stop: int, *, final: bool) -> None:
        if stop <= self._done:
            return
        total = self._base + len(self._hsv) if final else None
        self._rows.append(_rows(self._hsv, self._rgb, self._hist, self._base, self._done, stop, total, self._luma))
        self._done = stop
        drop = max(0, self._done - _BACK - self._base)
        self._hsv = self._hsv[drop:]
        self._rgb = self._rgb[drop:]
        self._hist = self._hist[drop:]
        self._base += drop


def _unmix_filled(table: np.ndarray, filled: np.ndarray) -> None:
    """A blend of two neighbours is a perfect mix of nearby frames, the very sign of a dissolve: filled frames
    take the blend residuals of the decoded frames either side of them instead (the larger)."""
    if not filled.size:
        return
    real = np.setdiff1d(np.arange(len(table)), filled)
    if not real.size:
        return
    after = np.minimum(np.searchsorted(real, filled), len(real) - 1)
    before = np.maximum(after - 1, 0)
    for column in (COLUMNS.index("blend"), COLUMNS.index("blend3")):
        table[filled, column] = np.fmax(table[real[before], column], table[real[after], column])


def _rows(
    hsv: np.ndarray, rgb: np.ndarray, hist: np.ndarray, base: int, start: int, stop: int, total: int | None,
    luma: list[float],
) -> np.ndarray:
    """Rows for global frames [start, stop); ``hsv``/``hist`` hold frames [base, base+len); ``total`` is known at
    the end of the stream (frames past it are missing), else every needed future frame is present."""
    limit = base + len(hsv) if total is None else total
    t = np.arange(start, stop)
    out = np.full((len(t), len(COLUMNS)), np.nan, np.float32)
    hist_scale = 100.0 / 6.0  # L1 of three distributions is 0..6

    def dist(a: np.ndarray, b: np.ndarray, table: np.ndarray = hsv, scale: float = 1.0) -> np.ndarray:
        ok = (a >= 0) & (b >= 0) & (a < limit) & (b < limit)
        res = np.full(len(t), np.nan, np.float32)
        if ok.any():
            if table is hsv:
                res[ok] = hsv_distance(table[a[ok] - base], table[b[ok] - base])
            else:
                res[ok] = np.abs(table[a[ok] - base] - table[b[ok] - base]).sum(axis=1) * (scale / table.shape[1])
        return res

    # Motion compensation only matters where the plain change is big enough to be a cut; elsewhere the plain
    # distance (an upper bound) is kept, which saves most of the work on ordinary footage.
    plain = dist(t - 1, t)
    busy = (t >= 1) & (np.nan_to_num(plain) >= MOTION_CHECK)
    out[:, 0] = plain
    out[busy, 0] = _shifted_dist(hsv, t[busy] - 1 - base, t[busy] - base, np.ones(int(busy.sum()), bool))
    for j in range(1, FLASH + 1):
        out[:, j] = dist(t - 1, t + j)
        out[:, FLASH + j] = dist(t, t - 1 - j)
    # Window means from a cumulative sum over the held thumbnails, clipped at the ends of the video.
    csum = np.concatenate([np.zeros((1, hsv.shape[1]), np.float64), np.cumsum(hsv, axis=0, dtype=np.float64)])
    lo = np.maximum(t - WINDOW, max(base, 0))
    hi = np.minimum(t + WINDOW, limit)
    ok = (t > lo) & (hi > t)
    if ok.any():
        tt, ll, hh = t[ok] - base, lo[ok] - base, hi[ok] - base
        before = (csum[tt] - csum[ll]) / (tt - ll)[:, None]
        after = (csum[hh] - csum[tt]) / (hh - tt)[:, None]
        out[ok, 9] = np.abs(before - after).mean(axis=1)
    hscale = hist_scale * hist.shape[1]
    out[:, 10] = dist(np.maximum(t - WINDOW - 1, 0), np.minimum(t + WINDOW, limit - 1), hist, hscale)
    out[t == 0, 10] = np.nan
    out[:, 11] = np.asarray(luma[start:stop], np.float32)
    ends = (t - WINDOW - 1 >= 0) & (t + WINDOW < limit)
    if ends.any():
        tt = t[ends] - base
        out[ends, 12] = _blend_residual(rgb[tt - WINDOW - 1], rgb[tt], rgb[tt + WINDOW])
        out[ends, 16] = _recolour_residual(rgb[tt - WINDOW - 1], rgb[tt + WINDOW])
    near = (t - 3 >= 0) & (t + 3 < limit)
    if near.any():
        tt = t[near] - base
        out[near, 13] = _blend_residual(rgb[tt - 3], rgb[tt], rgb[tt + 3])
    out[:, 14] = _smear(rgb[t - base])
    # Only where the picture changes enough to be a cut at all (the detector reads it nowhere else).
    changed = np.flatnonzero((t >= 1) & (np.nan_to_num(plain) >= RETURN_CHECK))
    if changed.size:
        tc = t[changed]
        best = np.full(len(tc), np.inf, np.float32)
        for k in (1, 2):
            for j in range(1, FLASH + 1):
                a, b = tc - 1 - k, tc + j
                m = (a >= base) & (b < limit)
                if m.any():
                    best[m] = np.minimum(best[m], hsv_distance(hsv[a[m] - base], hsv[b[m] - base]))
        out[changed, 15] = np.where(np.isfinite(best), best, np.nan)
    return out


def _smear(rgb: np.ndarray) -> np.ndarray:
    """1 - (weaker / stronger) of the horizontal and vertical gradient energy of each thumbnail's brightness."""
    grey = rgb.reshape(len(rgb), THUMB_H, THUMB_W, 3).mean(axis=3)
    gx = np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    gy = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2))
    return (1.0 - np.minimum(gx, gy) / (np.maximum(gx, gy) + 0.5)).astype(np.float32)


def _recolour_residual(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: the share of picture b's variance that the colours of picture a do not explain (pixels
    grouped by a's colour, RECOLOUR_LEVELS steps per RGB channel; b's variance within the groups over its
    variance overall, plus one level squared per pixel so that a flat b gives 0). The same scene with its
    light or tint changed keeps each colour's pixels together; a new picture scatters them."""
    rows, size = len(a), a.shape[1] // 3
    step = 256.0 / RECOLOUR_LEVELS
    q = np.minimum((a.reshape(rows, size, 3) / step).astype(np.int64), RECOLOUR_LEVELS - 1)
    groups = RECOLOUR_LEVELS**3
    key = ((q[..., 0] * RECOLOUR_LEVELS + q[..., 1]) * RECOLOUR_LEVELS + q[..., 2]) + groups * np.arange(rows)[:, None]
    key = key.ravel()
    target = b.reshape(rows * size, 3).astype(np.float64)
    count = np.bincount(key, minlength=rows * groups)
    within = np.zeros(rows * groups)
    for channel in range(3):
        total = np.bincount(key, weights=target[:, channel], minlength=rows * groups)
        squares = np.bincount(key, weights=target[:, channel] ** 2, minlength=rows * groups)
        within += squares - total**2 / np.maximum(count, 1)
    within = within.reshape(rows, groups).sum(axis=1)
    spread = target.reshape(rows, size, 3)
    overall = ((spread - spread.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))
    return (within / (overall + size)).astype(np.float32)


def _blend_residual(a: np.ndarray, m: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: mean |m - (x*a + y*b)| for the least-squares x, y >= 0, divided by the mean distance of m from
    the nearer of a and b (plus one grey level, so that near-identical frames give 0 rather than noise)."""
    aa, bb, ab = (a * a).sum(1), (b * b).sum(1), (a * b).sum(1)
    am, bm = (a * m).sum(1), (b * m).sum(1)
    det = aa * bb - ab * ab
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(det > 1e-6, (am * bb - bm * ab) / det, 0.0)
        y = np.where(det > 1e-6, (bm * aa - am * ab) / det, 0.0)
        # Outside the quadrant the best non-negative mix uses one end only.
        xa, yb = np.maximum(am / np.maximum(aa, 1e-6), 0), np.maximum(bm / np.maximum(bb, 1e-6), 0)
    both = (x >= 0) & (y >= 0)
    mixed = np.abs(m - (x[:, None] * a + y[:, None] * b)).mean(1)
    residual = np.minimum.reduce([
        np.where(both, mixed, np.inf), np.abs(m - xa[:, None] * a).mean(1), np.abs(m - yb[:, None] * b).mean(1),
    ])
    nearer = np.minimum(np.abs(m - a).mean(1), np.abs(m - b).mean(1))
    return (residual / (nearer + 1.0)).astype(np.float32)


def _shifted_dist(hsv: np.ndarray, a: np.ndarray, b: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Mean HSV difference between thumbnails a and b, minimised over small shifts of a: a pan or shake moves
    the picture by a few thumbnail pixels, a cut replaces it."""
    res = np.full(len(a), np.nan, np.float32)
    if not ok.any():
        return res
    frames = hsv.reshape(len(hsv), THUMB_H, THUMB_W, 3)
    before, after = frames[a[ok]], frames[b[ok]]
    core = after[:, SHIFT_Y : THUMB_H - SHIFT_Y, SHIFT_X : THUMB_W - SHIFT_X]
    best = np.full(len(core), np.inf, np.float32)
    for dy in range(-SHIFT_Y, SHIFT_Y + 1):
        for dx in range(-SHIFT_X, SHIFT_X + 1):
            moved = before[:, SHIFT_Y + dy : THUMB_H - SHIFT_Y + dy, SHIFT_X + dx : THUMB_W - SHIFT_X + dx]
            np.minimum(best, hsv_distance(moved, core, axis=(1, 2, 3)), out=best)
    res[ok] = best
    return res
