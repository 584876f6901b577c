"""A video's poster: one small JPEG that stands for it on the dashboard and its page.

Made from the proxy, which is all-intra: any frame decodes on its own from its bytes alone (as the browser's
player does it), so a handful of candidates spread over the video cost a handful of ranged reads and single
frame decodes, never a pass over the file. The sharpest candidate that is neither black nor blown out wins
(``keyframes.score``), so a fade from black at the start does not become the picture of the video.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import av
import cv2
import numpy as np

from heaters.errors import MediaError
from heaters.media.keyframes import score

CANDIDATES = 5
WIDTH = 320  # px; shown at 160 CSS px, sharp on a 2x screen
QUALITY = 80


def candidate_frames(total: int, count: int = CANDIDATES) -> list[int]:
    """Frames at 10%, 30%, ... 90% of the video: inside shots, away from an opening fade or closing credits."""
    if total <= 0:
        return []
    return sorted({min(total - 1, int(total * (2 * i + 1) / (2 * count))) for i in range(count)})


def decode_sample(description: bytes, sample: bytes) -> np.ndarray:
    """One all-intra H.264 sample (AVCC, as the index addresses it) decoded on its own, as RGB."""
    codec: Any = av.CodecContext.create("h264", "r")
    codec.extradata = description
    try:
        frames = list(codec.decode(av.Packet(sample))) + list(codec.decode(None))
    except av.error.FFmpegError as exc:
        raise MediaError(f"a proxy frame did not decode: {exc}", "encode the video again") from None
    if not frames:
        raise MediaError("a proxy frame decoded to nothing", "encode the video again")
    return np.asarray(frames[0].to_ndarray(format="rgb24"))


def poster_jpeg(index: dict[str, Any], read: Callable[[int, int], bytes], *, width: int = WIDTH) -> bytes:
    """The poster of the proxy ``index`` describes; ``read(start, end)`` returns bytes of the proxy file."""
    description = base64.b64decode(index["description"])
    best: np.ndarray | None = None
    best_score = -1.0
    for frame in candidate_frames(int(index["frames"])):
        start, size = int(index["offsets"][frame]), int(index["sizes"][frame])
        rgb = decode_sample(description, read(start, start + size))
        value = score(rgb)
        if value > best_score:
            best, best_score = rgb, value
    if best is None:
        raise MediaError("the proxy has no frames to make a poster from", "encode the video again")
    height = max(2, round(best.shape[0] * width / best.shape[1]))
    small = cv2.resize(best, (width, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise MediaError("the poster could not be written as JPEG", "this is a bug; report it")
    return bytes(jpeg.tobytes())
