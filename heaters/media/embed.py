"""Image embeddings for finding similar clips: a small protocol, a built-in embedder, an optional ONNX one.

``ColourLayoutEmbedder`` needs no download and no model. It describes a picture by

* its **colour layout** — the mean Lab colour of each cell of a 4x4 grid (48 values): where colours are;
* its **colour distribution** — an HSV histogram, 8 hue x 3 saturation x 3 value bins (72): which colours;
* its **structure** — a histogram of edge orientations, 8 directions weighted by gradient strength, over
  the whole picture and over each quadrant (40): stripes, horizons, faces of buildings.

Each block is L2-normalised and weighted, then the 160-value vector is normalised to unit length, so the
dot product of two vectors is their cosine similarity. It finds "same place, same light, same framing",
not "same kind of thing" — that is what an ONNX model (``OnnxEmbedder``) is for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from heaters.errors import MediaError


class ImageEmbedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """RGB uint8 images (h, w, 3) -> (len(images), dim) float32, each row of unit length."""
        ...


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


class ColourLayoutEmbedder:
    name = "colour-layout"
    dim = 160
    SIZE = 128
    WEIGHTS = (1.0, 1.0, 0.8)  # layout, distribution, structure

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._one(image) for image in images])

    def _one(self, rgb: np.ndarray) -> np.ndarray:
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise MediaError("embedder input must be an RGB image (h, w, 3)", "convert the frame to rgb24")
        small = cv2.resize(rgb, (self.SIZE, self.SIZE), interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
        layout = lab.reshape(4, self.SIZE // 4, 4, self.SIZE // 4, 3).mean(axis=(1, 3)).ravel()
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 3, 3], [0, 180, 0, 256, 0, 256]).ravel()
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        magnitude = np.hypot(gx, gy)
        direction = ((np.arctan2(gy, gx) % np.pi) / np.pi * 8).astype(np.int64) % 8  # orientation, not sign
        half = self.SIZE // 2
        regions = [(slice(None), slice(None))] + [
            (slice(y, y + half), slice(x, x + half)) for y in (0, half) for x in (0, half)
        ]
        edges = np.concatenate(
            [np.bincount(direction[r].ravel(), magnitude[r].ravel(), minlength=8) for r in regions]
        )
        blocks = [_unit(layout - 0.5), _unit(np.sqrt(hist)), _unit(np.sqrt(edges))]
        return _unit(np.concatenate([w * b for w, b in zip(self.WEIGHTS, blocks, strict=True)]))


class OnnxEmbedder:
    """An image model in ONNX format (e.g. a CLIP or DINO image tower) taking NCHW float32 RGB in [0, 1]
    normalised with ImageNet statistics; loaded on first use, only if ``onnxruntime`` is installed."""

    MEAN = np.array([0.485, 0.456, 0.406], np.float32)
    STD = np.array([0.229, 0.224, 0.225], np.float32)

    def __init__(self, model_path: str | Path, size: int = 224) -> None:
        self.model_path = Path(model_path)
        self.size = size
        self.name = f"onnx:{self.model_path.stem}"
        self._session: Any = None
        self._dim: int | None = None

    def _load(self) -> Any:
        if self._session is None:
            try:
                import onnxruntime  # type: ignore[import-not-found]
            except ImportError:
                raise MediaError(
                    "the ONNX embedder needs the onnxruntime package", "pip install onnxruntime, or use colour-layout"
                ) from None
            if not self.model_path.is_file():
                raise MediaError(f"ONNX model {self.model_path} not found", "set HEATERS_EMBEDDER_MODEL to a file")
            self._session = onnxruntime.InferenceSession(str(self.model_path), providers=["CPUExecutionProvider"])
        return self._session

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed([np.zeros((self.size, self.size, 3), np.uint8)]).shape[1])
        return self._dim

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        session = self._load()
        batch = np.stack([
            (cv2.resize(im, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
             - self.MEAN) / self.STD
            for im in images
        ]).transpose(0, 3, 1, 2)
        output = session.run(None, {session.get_inputs()[0].name: batch})[0]
        return _unit(np.asarray(output, np.float32).reshape(len(images), -1))


def make_embedder(name: str = "colour-layout", model_path: str | Path | None = None) -> ImageEmbedder:
    """The embedder named by settings (``HEATERS_EMBEDDER`` / ``HEATERS_EMBEDDER_MODEL``)."""
    if name in ("colour-layout", "color-layout", ""):
        return ColourLayoutEmbedder()
    if name == "onnx":
        if not model_path:
            raise MediaError("the onnx embedder needs a model file", "set HEATERS_EMBEDDER_MODEL")
        return OnnxEmbedder(model_path)
    raise MediaError(f"unknown embedder {name!r}", "use 'colour-layout' or 'onnx'")


def cosine_top_k(query: np.ndarray, matrix: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Rows of ``matrix`` most similar to ``query`` as (row, cosine), best first; rows need not be unit."""
    if len(matrix) == 0 or k <= 0:
        return []
    scores = _unit(np.asarray(matrix, np.float32)) @ _unit(np.asarray(query, np.float32).ravel())
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top]
