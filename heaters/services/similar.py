"""Nearest clips by embedding: cosine similarity over the stored unit vectors of one model.

Vectors are loaded into one matrix and compared with a single matrix product. That is exact and fast enough
for tens of thousands of clips; beyond that an approximate index would pay off.
"""

from __future__ import annotations

import numpy as np

from heaters.db.tables import Embedding
from heaters.errors import NotFound


async def similar_clips(clip_id: int, k: int = 10, model: str = "colour-layout") -> list[tuple[int, float]]:
    """The ``k`` clips most similar to ``clip_id`` as ``(clip id, cosine similarity)``, best first; the clip
    itself is left out. ``NotFound`` if the clip has no embedding from ``model`` yet."""
    from heaters.media.embed import cosine_top_k

    # ``model`` may be the setting ("onnx") or a stored name ("onnx:clip-vit"): both select that family.
    rows = await Embedding.select(Embedding.clip, Embedding.model, Embedding.dim, Embedding.vector).where(
        (Embedding.model == model) | Embedding.model.like(f"{model}:%")
    )
    query = next((r for r in rows if r["clip"] == clip_id), None)
    if query is None:
        raise NotFound(
            f"clip {clip_id} has no {model!r} embedding", "embeddings are made after a clip is exported"
        )
    others = [
        r for r in rows if r["clip"] != clip_id and r["model"] == query["model"] and r["dim"] == query["dim"]
    ]
    if not others or k <= 0:
        return []
    matrix = np.stack([_vector(r["vector"]) for r in others])
    return [(int(others[i]["clip"]), score) for i, score in cosine_top_k(_vector(query["vector"]), matrix, k)]


def _vector(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")
