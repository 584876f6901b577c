"""``GET|HEAD /media/{key}``: stored media for logged-in users.

Local storage is served here with byte ranges (the player fetches single frames by Range), built on
``heaters.server.ranges``. S3 storage answers with a redirect to a presigned URL (or the CDN for proxies), so
media bytes never pass through the web process. A key can never leave the storage root: ``validate_key``
refuses ``..``, absolute and empty segments, and local storage refuses symlinks pointing outside. Originals
(whatever was downloaded or uploaded, unchecked) are for operators only.

A video encoded in segments has two virtual files answered from its pieces (from any storage): ``pieces.mp4``,
the pieces one after another (what its frame index addresses), and ``review.mp4``, a real MP4 of the pieces
and its sound for the ``<video>`` fallback (``heaters.media.virtual_mp4``).
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar import Controller, Request, Response, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from heaters.errors import Forbidden, NotFound
from heaters.server.auth import is_operator
from heaters.server.headers import SANDBOXED
from heaters.server.ranges import aiter_file, plan_from_headers
from heaters.storage import Kind, validate_key

mimetypes.add_type("video/x-matroska", ".mkv")
mimetypes.add_type("video/mp4", ".mp4")

# The proxy of a video encoded in segments: its pieces one after another, as its frame index addresses them.
PIECES_PROXY = re.compile(r"proxies/([0-9]{1,16})/pieces\.mp4")  # ids up to MAX_ID; longer ones name no video
# The same video as one real MP4 for a <video> element: a generated header, then the pieces and the sound.
REVIEW_MP4 = re.compile(r"proxies/([0-9]{1,16})/review\.mp4")
READ_CHUNK = 1 << 20  # bytes read from storage at a time, so a whole-file request streams

# Revalidate every time (the ETag makes that cheap): a re-encoded proxy keeps its key.
CACHE_CONTROL = "private, no-cache"


def kind_of(key: str) -> Kind | None:
    """The storage kind a key belongs to (it picks the CDN for proxies on S3)."""
    top = key.split("/", 1)[0]
    if top == "proxies":
        return "proxy_index" if key.endswith(".json") else "proxy"
    return {
        "masters": "master",
        "originals": "original",
        "clips": "clip",
        "keyframes": "keyframe",
        "features": "features",
    }.get(top)  # type: ignore[return-value]


class MediaController(Controller):
    path = "/media"
    tags = ("media",)

    @route("/{key:path}", http_method=["GET", "HEAD"], summary="A stored file, with HTTP Range support")
    async def media(self, request: Request[Any, Any, State], key: FromPath[str]) -> Response[Any]:
        key = validate_key(key.removeprefix("/"))
        if kind_of(key) == "original" and not is_operator(request.user):
            raise Forbidden("originals are for operators", "review the proxy; an operator can fetch the original")
        pieces = PIECES_PROXY.fullmatch(key)
        if pieces is not None:
            return await _pieces_proxy(request, int(pieces.group(1)))
        review = REVIEW_MP4.fullmatch(key)
        if review is not None:
            return await _review_mp4(request, int(review.group(1)))
        return await serve_stored(request, key)


async def serve_stored(request: Request[Any, Any, State], key: str, disposition: str | None = None) -> Response[Any]:
    """The object at ``key``: from local storage with byte ranges, or a redirect to S3. ``disposition``: a
    ``Content-Disposition`` to answer with (S3 is asked to answer with it too)."""
    storage = request.app.state.storage
    path = storage.local_path(key)
    if path is None:
        url = await asyncio.to_thread(storage.url, key, kind_of(key), disposition)
        return Redirect(url, status_code=302, headers={"Cache-Control": "private, no-store"})
    try:
        st = await asyncio.to_thread(os.stat, path)
    except OSError:  # missing, or a name no file can have (too long, say): nothing is stored there
        raise NotFound(f"no stored object {key!r}") from None
    if not os.path.isfile(path):
        raise NotFound(f"no stored object {key!r}")
    plan = plan_from_headers(request.headers, st.st_size, st.st_mtime)
    headers = {**plan.headers, "Cache-Control": CACHE_CONTROL, "Content-Security-Policy": SANDBOXED}
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    if request.method == "HEAD" or plan.status in (304, 416):
        if plan.status in (304, 416):
            headers.pop("Content-Length", None)
        return Response(b"", status_code=plan.status, headers=headers, media_type=media_type)
    return Stream(
        aiter_file(path, plan.start, plan.end), status_code=plan.status, headers=headers, media_type=media_type
    )


class LayoutCache:
    """Virtual MP4 layouts by index key (a long video's header is megabytes of sample tables: made once)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()  # called from worker threads

    def get(self, key: str, index: dict[str, Any]) -> Any:
        from heaters.media.virtual_mp4 import virtual_mp4

        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        layout = virtual_mp4(index, index.get("audio") if isinstance(index.get("audio"), dict) else None)
        with self._lock:
            self._items[key] = layout
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return layout


async def _pieces_index(request: Request[Any, Any, State], video_id: int) -> tuple[str, dict[str, Any]]:
    from heaters.db.tables import SourceVideo

    state = request.app.state
    row = await SourceVideo.select(SourceVideo.proxy_index_key).where(SourceVideo.id == video_id).first()
    if row is None or not row["proxy_index_key"]:
        raise NotFound(f"video {video_id} has no proxy yet")
    index = await state.index_cache.get(state.storage, row["proxy_index_key"])
    if "pieces" not in index:
        raise NotFound(f"video {video_id} has no proxy pieces")
    return str(row["proxy_index_key"]), index


async def _review_mp4(request: Request[Any, Any, State], video_id: int) -> Response[Any]:
    """A segmented video as one MP4 (``heaters.media.virtual_mp4``), with byte ranges: the encoded part of it
    while it encodes, all of it with its sound once it is done."""
    from heaters.server.views import layout_version

    state = request.app.state
    key, index = await _pieces_index(request, video_id)
    wanted = request.query_params.get("v")
    if wanted and wanted != layout_version(key):
        raise NotFound(f"video {video_id} has changed since this file was named", "ask for the video again")
    layout = await asyncio.to_thread(state.mp4_cache.get, key, index)

    async def body(start: int, end: int) -> AsyncIterator[bytes]:
        for part, lo, hi in layout.spans(start, end):
            if part is None:
                yield layout.header[lo:hi]
                continue
            for at in range(lo, hi, READ_CHUNK):
                yield await asyncio.to_thread(state.storage.open_range, part, at, min(hi, at + READ_CHUNK))

    # The layout changes only when the index does, and then its size changes too: the size is its version.
    return _ranged(request, layout.size, body)


async def _pieces_proxy(request: Request[Any, Any, State], video_id: int) -> Response[Any]:
    """Byte ranges of a segmented video's virtual proxy, read from its pieces (any storage, S3 too)."""
    from heaters.media.pieces import byte_spans

    state = request.app.state
    _key, index = await _pieces_index(request, video_id)

    async def body(start: int, end: int) -> AsyncIterator[bytes]:
        for key, lo, hi in byte_spans(index["pieces"], start, end):
            yield await asyncio.to_thread(state.storage.open_range, key, lo, hi)

    # Pieces never change once written; the virtual file only grows, so its size is its version.
    return _ranged(request, int(index["bytes"]), body)


def _ranged(
    request: Request[Any, Any, State], size: int, body: Callable[[int, int], AsyncIterator[bytes]]
) -> Response[Any]:
    """The answer to a (Range) request for a virtual MP4 of ``size`` bytes, whose bytes ``body`` yields."""
    plan = plan_from_headers(request.headers, size, 0.0)
    headers = {**plan.headers, "Cache-Control": CACHE_CONTROL}
    if request.method == "HEAD" or plan.status in (304, 416):
        if plan.status in (304, 416):
            headers.pop("Content-Length", None)
        return Response(b"", status_code=plan.status, headers=headers, media_type="video/mp4")
    return Stream(body(plan.start, plan.end), status_code=plan.status, headers=headers, media_type="video/mp4")
