"""Scene detection: propose the frames where shots begin, each with its kind and how sure the detector is.

A detector is anything with ``detect(features, small) -> cuts`` over the per-frame table of
``heaters.media.features`` and, for a learned detector, the 48x27 frames made in the same decode (so detection
re-runs on stored inputs without decoding). Three are offered (``HEATERS_DETECTOR``):

* ``builtin`` — ``ContentDetector`` (``content_detector``): hand-made rules over the feature table, no
  extra dependency;
* ``transnetv2`` — the learned TransNetV2 (``learned``; needs ``pip install 'heaters[learned]'``);
* ``ensemble`` — both, each vetoing the other's weak candidates.

``compute_features`` is the stand-alone path of ``heaters scenes FILE``: a decode made only for the
features (the encode stage gets them from its own decode instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from heaters.errors import HeatersError, MediaError

if TYPE_CHECKING:
    import numpy as np

Kind = Literal["hard", "dissolve", "fade"]
DETECTORS = ("builtin", "transnetv2", "ensemble")
# Below this a cut is marked for the reviewer to check first. The built-in detector's confidence is 0.5 where a
# cut just meets its thresholds, so nothing it finds falls below 0.5; its doubtful finds (a drift beside a cut
# taken for a dissolve, a damaged frame) lie at 0.50-0.59, true cuts of the labelled set from 0.61 up.
LOW_CONFIDENCE = 0.6


@dataclass(frozen=True, order=True)
class Cut:
    """A proposed shot boundary: ``frame`` is the first frame of the new shot; ``confidence`` is 0..1."""

    frame: int
    kind: Kind = "hard"
    confidence: float = 1.0

    def as_json(self) -> dict[str, object]:
        return {"frame": self.frame, "kind": self.kind, "confidence": round(self.confidence, 3)}


class SceneDetector(Protocol):
    """Turns a feature table (one row per frame) and, if the detector wants them (``wants_small``), the small
    RGB frames, into sorted cuts."""

    @property
    def wants_small(self) -> bool: ...

    def detect(self, features: np.ndarray, small: np.ndarray | None = None) -> tuple[Cut, ...]: ...


@dataclass(frozen=True)
class SceneResult:
    detected: tuple[Cut, ...]
    frames: int
    fps: Fraction

    @property
    def cuts(self) -> tuple[int, ...]:
        return tuple(c.frame for c in self.detected)

    def as_json(self) -> dict[str, object]:
        return {
            "cuts": list(self.cuts),
            "frames": self.frames,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "details": [c.as_json() for c in self.detected],
        }


def detector_for(name: str = "builtin", threshold: float = 3.0, min_frames: int = 8) -> SceneDetector:
    """The detector called ``name`` (one of DETECTORS); a learned one raises ``HeatersError`` with the install
    command when its extra is missing."""
    from heaters.media.content_detector import ContentDetector

    builtin = ContentDetector(threshold=threshold, min_frames=min_frames)
    if name == "builtin":
        return builtin
    if name not in DETECTORS:
        raise HeatersError(f"unknown scene detector {name!r}", f"use one of {', '.join(DETECTORS)}")
    from heaters.media.learned import EnsembleDetector, TransNetV2Detector, require_learned

    require_learned()
    learned = TransNetV2Detector(min_frames=min_frames)
    return learned if name == "transnetv2" else EnsembleDetector(builtin, learned, min_frames=min_frames)


Progress = Callable[[int, int | None], None]  # (frames done, frames in the file if known)
PROGRESS_EVERY = 100  # frames


def compute_features(
    path: str | Path, small_frames: bool = False, progress: Progress | None = None
) -> tuple[np.ndarray, Fraction, np.ndarray | None]:
    """Decode ``path`` once at low cost and return (feature table, frame rate, small frames or None);
    ``progress`` is told every PROGRESS_EVERY frames how far the decode has got.

    Only what the features need is decoded (``heaters.media.skim``): in quiet stretches H.264/HEVC leave out
    the B-frames no other frame needs, and skip their deblocking loop filter (invisible at 32x18) where they
    are decoded; the codec decodes on frame threads, a file of some length in parts from its keyframes, one
    per core at once; each frame's planes are shrunk in place (no full-size conversion), and everything else is
    batched numpy.
    """
    features, fps, small, _times = _decode_features(path, small_frames, progress)
    return features, fps, small


def _decode_features(
    path: str | Path, small_frames: bool, progress: Progress | None
) -> tuple[np.ndarray, Fraction, np.ndarray | None, list[Fraction | None]]:
    """``compute_features`` and each frame's start time in seconds (None where the stream has none)."""
    import av

    from heaters.media.features import FeatureBuilder
    from heaters.media.probe import normalise_rate, open_media, require_video
    from heaters.media.skim import Unskimmable, frame_thumbnails

    name = Path(path).name
    for skim in (True, False):  # a stream that cannot be skimmed is decoded again, whole
        builder = FeatureBuilder(small_frames=small_frames)
        times: list[Fraction | None] = []
        with open_media(path) as container:
            stream = require_video(container, name)
            fps = normalise_rate(stream.average_rate, stream.guessed_rate)
            total = stream.frames or None
            base = stream.time_base
            try:
                for frame in frame_thumbnails(path, container, stream, small=small_frames, skim=skim):
                    builder.add(frame.thumb, frame.small, filled=frame.filled)
                    times.append(None if frame.pts is None or base is None else frame.pts * base)
                    if progress is not None and builder.frames % PROGRESS_EVERY == 0:
                        progress(builder.frames, total)
            except Unskimmable:
                continue
            except av.error.FFmpegError as exc:
                if builder.frames == 0:
                    raise MediaError(f"{name}: no frame could be decoded ({exc})", "the file is corrupt") from None
                # A damaged tail: keep what decoded, as a player would.
        break
    if builder.frames == 0:
        raise MediaError(f"{name}: the video stream holds no frames", "the file is empty or truncated")
    return builder.finish(), fps, (builder.small if small_frames else None), times


def detect_file(
    path: str | Path, threshold: float = 3.0, min_frames: int = 8, detector: SceneDetector | str | None = None,
    progress: Progress | None = None,
) -> SceneResult:
    """Detect cuts in any video file: what ``heaters scenes FILE --json`` prints."""
    if isinstance(detector, str | None):
        chosen = detector_for(detector or "builtin", threshold, min_frames)
    else:
        chosen = detector
    from heaters.media.retime import grid_starts

    features, fps, small, times = _decode_features(path, chosen.wants_small, progress)
    # Cut frames as ingest will number them: a variable-frame-rate file is put on a constant grid there.
    starts, total = grid_starts(times, fps)
    detected: dict[int, Cut] = {}
    for cut in chosen.detect(features, small):
        frame = starts[cut.frame]
        if 0 < frame < total:
            detected.setdefault(frame, replace(cut, frame=frame))
    return SceneResult(detected=tuple(detected.values()), frames=total, fps=fps)


def detect_cuts(
    features: np.ndarray, threshold: float = 3.0, min_frames: int = 8, *, small: np.ndarray | None = None,
    detector: str = "builtin",
) -> tuple[Cut, ...]:
    """Re-run detection on a stored feature table (e.g. loaded with ``numpy.load``) and small frames."""
    return detector_for(detector, threshold, min_frames).detect(features, small)


def detect_features(features: np.ndarray, threshold: float = 3.0, min_frames: int = 8) -> tuple[int, ...]:
    """The built-in detector's cut frames on a stored feature table."""
    return tuple(c.frame for c in detect_cuts(features, threshold, min_frames))
