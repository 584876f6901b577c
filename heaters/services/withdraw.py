"""Taking an approval back: what was made from the clip since it was approved is forgotten.

A running export or keyframe job finds its claim gone when it finishes and keeps nothing (see
``stages.clips``); a finished export is withdrawn here: its artifact rows and embedding are deleted in the
caller's transaction, and its files once that transaction has committed, so a rolled-back reopen loses
nothing and a committed one leaves no half of the clip behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from heaters.db.tables import Artifact, Embedding
from heaters.storage import Storage

log = logging.getLogger(__name__)


async def forget_export(clip: dict[str, Any]) -> tuple[str, ...]:
    """Inside a write transaction: delete the clip's artifacts and embeddings; return the storage keys they
    (and the exported file) used, to be discarded after the commit."""
    rows = await Artifact.select(Artifact.key).where(Artifact.clip == clip["id"])
    keys = {row["key"] for row in rows}
    if clip.get("export_key"):
        keys.add(clip["export_key"])
    await Artifact.delete().where(Artifact.clip == clip["id"])
    await Embedding.delete().where(Embedding.clip == clip["id"])
    return tuple(sorted(keys))


async def discard(storage: Storage, keys: Iterable[str]) -> None:
    """Delete withdrawn files; a file that cannot be deleted is logged, never an error for the reviewer."""
    for key in keys:
        try:
            await asyncio.to_thread(storage.delete, key)
        except Exception as exc:  # the clip is already reopened; a leftover file is only wasted space
            log.warning("could not delete withdrawn %s: %s", key, exc)
