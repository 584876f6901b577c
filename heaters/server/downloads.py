"""``GET /clips/{id}/download``: an exported clip as a file to save, under a name that says what it is.

The file is the export itself, served like any stored media (``media.serve_stored``: ranges from local
storage, a redirect to a presigned S3 URL that answers with the same ``Content-Disposition``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, route
from litestar.datastructures import State

from heaters import pipeline
from heaters.db.tables import Clip, SourceVideo
from heaters.errors import NotFound
from heaters.server.media import serve_stored
from heaters.server.params import ClipId

EXPORTED = pipeline.finished_states("export")


def download_url(clip: dict[str, Any]) -> str:
    """Where a clip's export is downloaded, or "" while it has none."""
    return f"/clips/{clip['id']}/download" if clip.get("export_key") and clip["state"] in EXPORTED else ""


def file_name(title: str, clip: dict[str, Any]) -> str:
    """"Harbour at dusk clip 7 (frames 120-239).mp4": the video, the clip's number and its frames."""
    stem = re.sub(r"[^\w\- ]+", "", title).strip()[:80] or f"video {clip['source_video']}"
    number = clip.get("number") or clip["id"]
    return f"{stem} clip {number} (frames {clip['start_frame']}-{clip['end_frame'] - 1}).mp4"


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the file as ``name``: plain ASCII for old clients, UTF-8 for the
    rest (RFC 6266)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().replace('"', "")
    return f"attachment; filename=\"{plain or 'clip.mp4'}\"; filename*=UTF-8''{quote(name)}"


class DownloadController(Controller):
    path = "/clips"
    # A page's link, like the other pages outside /api: a stale one is answered with an error page.
    include_in_schema = False

    @route("/{clip_id:int}/download", http_method=["GET", "HEAD"],
           summary="The clip's exported MP4, as an attachment named after the video and the clip")
    async def download(self, request: Request[Any, Any, State], clip_id: ClipId) -> Response[Any]:
        clip = await Clip.select().where(Clip.id == clip_id).first()
        if clip is None:
            raise NotFound(f"clip {clip_id} does not exist")
        if not download_url(clip):
            raise NotFound(f"clip {clip_id} is {clip['state'].replace('_', ' ')}, not exported",
                           "approve it: it is exported shortly after")
        video = await SourceVideo.select(SourceVideo.title).where(SourceVideo.id == clip["source_video"]).first()
        name = file_name(video["title"] if video else "", clip)
        return await serve_stored(request, clip["export_key"], attachment(name))
