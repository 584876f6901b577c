"""Similar clips for the API and the page, with the keyframe thumbnails to show them by.

The ranking belongs to ``heaters.services.similar`` (embeddings of keyframes). Until a clip has been embedded
there is nothing to rank: the answer says so (``embedded: false``) instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heaters.errors import NotFound
from heaters.server.views import clip_json, media_url
from heaters.services import overview, similar
from heaters.services import videos as videos_service
from heaters.settings import Settings


def model_name(settings: Settings) -> str:
    """The name the embed stage stores vectors under (``heaters.media.embed``), without loading a model."""
    if settings.embedder == "onnx":
        return f"onnx:{Path(settings.embedder_model).stem}"
    return "colour-layout"


async def _ranked(settings: Settings, clip_id: int, k: int) -> tuple[bool, list[dict[str, Any]]]:
    """``(embedded, [{clip_id, score}])``: whether the clip has an embedding yet, and its nearest clips."""
    try:
        rows = await similar.similar_clips(clip_id, k=k, model=model_name(settings))
    except NotFound:  # the clip exists (checked before) but is not embedded yet
        return False, []
    return True, [{"clip_id": int(other), "score": float(score)} for other, score in rows][:k]


async def similar_to(settings: Settings, clip_id: int, k: int) -> dict[str, Any]:
    """The clip, its ``k`` nearest clips (best first) and everyone's keyframe image URLs."""
    clip = await videos_service.get_clip(clip_id)
    embedded, ranked = await _ranked(settings, clip_id, k)
    ids = [clip_id, *(r["clip_id"] for r in ranked)]
    frames = await overview.keyframes(ids)

    def thumbs(i: int) -> list[dict[str, Any]]:
        return [{"url": media_url(f["key"]), "frame": f["frame"]} for f in frames.get(i, [])]

    results = []
    for r in ranked:
        try:
            other = await videos_service.get_clip(r["clip_id"])
        except NotFound:  # deleted since it was embedded
            continue
        results.append({**clip_json(other), "video_id": other["source_video"], "score": r["score"],
                        "keyframes": thumbs(other["id"])})
    return {
        "clip": {**clip_json(clip), "video_id": clip["source_video"], "keyframes": thumbs(clip_id)},
        "embedded": embedded,
        "similar": results,
    }
