"""Read-only lookups for the web pages that the console does not need: keyframe images of clips.

Counts and failures live in ``heaters.services.status`` (shared with the console).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from heaters.db.tables import Artifact


async def keyframes(clip_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """``{clip id: [{key, frame, position}]}`` of the keyframe images extracted for each clip, in order."""
    ids = list(clip_ids)
    if not ids:
        return {}
    rows = await Artifact.select(Artifact.clip, Artifact.key, Artifact.frame, Artifact.position).where(
        Artifact.clip.is_in(ids) & (Artifact.kind == "keyframe")
    ).order_by(Artifact.position)
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[row["clip"]].append({"key": row["key"], "frame": row["frame"], "position": row["position"]})
    return dict(found)
