"""similar_clips: cosine ranking over stored unit vectors, per model, on the database under test."""

from __future__ import annotations

import numpy as np
import pytest

from heaters.db.tables import Clip, Embedding
from heaters.errors import NotFound
from heaters.services.similar import similar_clips
from heaters.services.videos import create_video
from heaters.settings import Settings


async def _store(clip_id: int, model: str, vector: list[float]) -> None:
    v = np.asarray(vector, "<f4")
    v = v / np.linalg.norm(v)
    await Embedding.insert(Embedding(clip=clip_id, model=model, dim=len(v), vector=v.tobytes()))


async def test_ranks_by_cosine_within_one_model(db: Settings) -> None:
    await create_video("v", state="ready", total_frames=50, initial_cuts=[10, 20, 30, 40])
    a, b, c, d, e = [r["id"] for r in await Clip.select(Clip.id).order_by(Clip.start_frame)]
    await _store(a, "colour-layout", [1, 0, 0])
    await _store(b, "colour-layout", [0.9, 0.1, 0])  # nearly a
    await _store(c, "colour-layout", [0, 1, 0])  # orthogonal
    await _store(d, "colour-layout", [-1, 0, 0])  # opposite
    await _store(e, "onnx:tiny", [1, 0, 0])  # another model: never compared with colour-layout
    ranked = await similar_clips(a, k=10, model="colour-layout")
    assert [clip for clip, _ in ranked] == [b, c, d]
    assert ranked[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-5)
    assert ranked[2][1] == pytest.approx(-1.0, abs=1e-5)
    assert [clip for clip, _ in await similar_clips(a, k=1, model="colour-layout")] == [b]
    # The setting's name ("onnx") finds the stored family ("onnx:tiny"); alone there, no neighbours.
    assert await similar_clips(e, k=5, model="onnx") == []
    with pytest.raises(NotFound):
        await similar_clips(c, k=5, model="onnx")
