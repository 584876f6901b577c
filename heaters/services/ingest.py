"""Creating a video from what a person hands over: a URL, a ``file://`` URL, a local path or an uploaded file.

URLs become a ``new`` row and are downloaded by the download stage (yt-dlp, on a worker); ``source_policy``
decides which URLs are allowed. Files are put into storage first (``originals/…``) and only then is the row
committed, naming the stored key, so any worker on any machine can process it and no row names a path of the
machine that received it. A bad source ends as ``download_failed`` with a readable error on the row.

``idempotency_key`` makes creation repeatable: a second request with the same key returns the first video.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from heaters.db.tables import SourceVideo
from heaters.errors import BadInput, DownloadError
from heaters.services.download import local_path_of, not_a_file, title_from_name
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.services.source_policy import check_source_url
from heaters.services.stages.context import safe_name
from heaters.settings import Settings
from heaters.storage import Storage

# The stored key must exist before the row, so it cannot carry the video id: a random folder instead.
UPLOAD_PREFIX = "originals/upload-"


async def ingest(
    settings: Settings, storage: Storage, source: str, *, title: str | None = None,
    idempotency_key: str | None = None, tasks: TaskQueue = OFFLINE,
) -> int:
    """Register ``source`` for the pipeline and return the video's id."""
    source = source.strip()
    if not source:
        raise BadInput("the source is empty", "give a URL, a file:// URL or a path")
    if existing := await _existing(idempotency_key):
        return existing
    path = local_path_of(source)
    if source.lower().startswith("file:") or (path is None and source.lower().startswith(("http://", "https://"))):
        await asyncio.to_thread(check_source_url, settings, source)
    if path is not None:
        return await ingest_file(settings, storage, path, title=title, idempotency_key=idempotency_key, tasks=tasks)
    if not source.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"{source} is not a web address or a file", "give an http(s):// URL, a file:// URL or a path"
        )
    return await _create(title or "", source=source, original_key="", idempotency_key=idempotency_key, tasks=tasks)


async def ingest_file(
    settings: Settings, storage: Storage, path: Path, *, title: str | None = None, filename: str | None = None,
    idempotency_key: str | None = None, tasks: TaskQueue = OFFLINE,
) -> int:
    """Store a local or uploaded file as a new video's original and queue it; return the video's id.

    ``filename`` is the name the user gave (uploads arrive under temporary names); the row records it as
    ``upload:<name>``, never the local path.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise not_a_file(path)
    if existing := await _existing(idempotency_key):
        return existing
    name = safe_name(filename or path.name)
    key = f"{UPLOAD_PREFIX}{uuid.uuid4().hex}/{name}"
    await asyncio.to_thread(storage.put_file, key, path, "original")
    # The title keeps the name as given (any script); the storage key and source take the safe form.
    return await _create(title or title_from_name(filename or path.name), source=f"upload:{name}", original_key=key,
                         idempotency_key=idempotency_key, tasks=tasks)


async def _existing(idempotency_key: str | None) -> int | None:
    if not idempotency_key:
        return None
    row = await SourceVideo.select(SourceVideo.id).where(SourceVideo.idempotency_key == idempotency_key).first()
    return int(row["id"]) if row else None


async def _create(
    title: str, *, source: str, original_key: str, idempotency_key: str | None, tasks: TaskQueue
) -> int:
    """Insert the ``new`` row (the commit) and queue its download; a concurrent twin request gets the first row."""
    try:
        rows = await SourceVideo.insert(
            SourceVideo(title=title, source=source, state="new", original_key=original_key,
                        idempotency_key=idempotency_key or None)
        ).returning(SourceVideo.id)
    except Exception:
        if existing := await _existing(idempotency_key):  # the unique key was taken a moment ago
            return existing
        raise
    video_id = int(rows[0]["id"])
    await tasks.enqueue("download", video_id)
    return video_id
