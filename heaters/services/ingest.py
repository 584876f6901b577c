"""Creating a video from what a person hands over: a URL, a ``file://`` URL, a local path or an uploaded file.

URLs become a ``new`` row and are downloaded by the download stage (yt-dlp, on a worker). Files are copied
into storage right here, like an upload, so they work whether the workers run on this machine or elsewhere;
the download stage then only checks that the stored original is a usable video. Either way a bad source ends
as ``download_failed`` with a readable error on the row, which is where the UIs look.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from heaters.db.tables import SourceVideo
from heaters.errors import BadInput, DownloadError
from heaters.services import queue
from heaters.services.download import local_path_of, title_from_name
from heaters.services.review import now
from heaters.services.stages.context import original_key
from heaters.services.videos import create_video
from heaters.settings import Settings
from heaters.storage import Storage


async def ingest(settings: Settings, storage: Storage, source: str, *, title: str | None = None) -> int:
    """Register ``source`` for the pipeline and return the new video's id."""
    source = source.strip()
    if not source:
        raise BadInput("the source is empty", "give a URL, a file:// URL or a path")
    path = local_path_of(source)
    if path is not None:
        return await ingest_file(settings, storage, path, title=title)
    if not source.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"{source} is not a web address or a file", "give an http(s):// URL, a file:// URL or a path"
        )
    video_id = await create_video(title or "", source=source, state="new")
    queue.enqueue("download", video_id)
    return video_id


async def ingest_file(
    settings: Settings, storage: Storage, path: Path, *, title: str | None = None, filename: str | None = None,
    source: str | None = None,
) -> int:
    """Store a local or uploaded file as a new video's original and queue it; return the video's id.

    ``filename`` is the name the user gave (uploads arrive under temporary names); ``source`` is recorded on
    the row (default: the file's absolute path).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DownloadError(f"{path} is not a file", "check the path")
    name = filename or path.name
    # The row exists (so the UIs show the transfer) but in a working state with a lease, so no worker takes
    # it before the original is stored; if this process dies midway, the lease runs out and the download
    # stage takes over from the recorded path.
    video_id = await create_video(
        title or title_from_name(name), source=source or str(path.resolve()), state="downloading"
    )
    await SourceVideo.update(
        {SourceVideo.lease_until: now() + timedelta(seconds=settings.lease_seconds),
         SourceVideo.progress: {"stage": "upload", "percent": 0.0}}
    ).where(SourceVideo.id == video_id)
    key = original_key(video_id, name)
    await asyncio.to_thread(storage.put_file, key, path, "original")
    size = path.stat().st_size
    await SourceVideo.update(
        {SourceVideo.state: "new", SourceVideo.original_key: key, SourceVideo.lease_until: None,
         SourceVideo.progress: {"stage": "upload", "percent": 100.0, "bytes": size, "total": size},
         SourceVideo.updated_at: now()}
    ).where((SourceVideo.id == video_id) & (SourceVideo.state == "downloading"))
    queue.enqueue("download", video_id)
    return video_id


async def create_video_from_source(
    source: str, *, title: str | None = None, settings: Settings | None = None, storage: Storage | None = None
) -> int:
    """Like ``ingest``; without ``settings``/``storage`` a local file is not copied here but by the download
    stage on a worker (which must then see the same file system, as with the embedded default)."""
    if settings is not None and storage is not None:
        return await ingest(settings, storage, source, title=title)
    source = source.strip()
    path = local_path_of(source)
    if path is None and not source.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"{source} is not a web address or a file", "give an http(s):// URL, a file:// URL or a path"
        )
    if path is not None and not path.is_file():
        raise DownloadError(f"{path} is not a file", "check the path")
    video_id = await create_video(title or (title_from_name(path) if path else ""), source=source, state="new")
    queue.enqueue("download", video_id)
    return video_id
