"""Representative still frames of a clip, for thumbnails and for the embedder.

A good still is sharp (high variance of the Laplacian: in focus, not motion-blurred), not black or washed
out, and the set covers the clip. The clip is split into ``count`` equal parts and the sharpest acceptable
frame of a few evenly spaced candidates in each part wins, so a cost of a handful of decodes buys stills
from beginning, middle and end.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from heaters.errors import MediaError
from heaters.media.probe import open_media, require_video

CANDIDATES_PER_PART = 5
DARK, BRIGHT = 16.0, 245.0  # mean grey outside this range: a black or blown-out frame


def sharpness(rgb: np.ndarray) -> float:
    """Variance of the Laplacian of the grey picture: high for detail in focus, low for blur and flat frames."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def score(rgb: np.ndarray) -> float:
    """Sharpness, with black and blown-out frames pushed to the bottom."""
    value = sharpness(rgb)
    return value if DARK <= float(rgb.mean()) <= BRIGHT else value * 1e-6


def _decode_wanted(
    container: av.container.InputContainer, stream: av.VideoStream, wanted: set[int]
) -> dict[int, np.ndarray]:
    frames: dict[int, np.ndarray] = {}
    last = max(wanted)
    for n, frame in enumerate(container.decode(stream)):
        if n in wanted:
            frames[n] = frame.to_ndarray(format="rgb24")
        if n >= last:
            break
    return frames


def _candidates(total: int, count: int) -> list[list[int]]:
    """CANDIDATES_PER_PART evenly spaced frame numbers in each of ``count`` equal parts of ``total`` frames."""
    parts = np.linspace(0, total, count + 1)
    groups = []
    for i in range(count):
        lo, hi = int(parts[i]), max(int(parts[i]) + 1, int(parts[i + 1]))
        groups.append(sorted({int(x) for x in np.linspace(lo, hi - 1, CANDIDATES_PER_PART)}))
    return groups


def pick_keyframes(video_path: str | Path, count: int = 3, *, quality: int = 88) -> list[tuple[int, bytes]]:
    """Up to ``count`` (frame number, JPEG bytes) pairs, in frame order, spread over the clip."""
    path = Path(video_path)
    with open_media(path) as container:
        stream = require_video(container, path.name)
        stream.thread_type = "AUTO"
        total = stream.frames
        if not total:  # a container that records no count: count by decoding, then start again
            total = sum(1 for _ in container.decode(stream))
            container.seek(0)
        if total == 0:
            raise MediaError(f"{path.name} has no frames", "export the clip again")
        groups = _candidates(total, max(1, min(count, total)))
        frames = _decode_wanted(container, stream, {n for g in groups for n in g})
    picked = []
    for group in groups:
        present = [n for n in group if n in frames]
        if not present:
            continue
        best = max(present, key=lambda n: score(frames[n]))
        bgr = cv2.cvtColor(frames[best], cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            picked.append((best, jpeg.tobytes()))
    return picked
