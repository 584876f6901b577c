"""``/api/videos``: list, create (URL or upload), show, clips, proxy frame index, audit, retry, claim."""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter

from heaters.errors import BadInput, Conflict, NotFound
from heaters.limits import MAX_FRAME
from heaters.server.auth import operator_only
from heaters.server.ingest import UPLOAD_LIMIT, ingest_form, ingest_streamed, ingest_url
from heaters.server.params import AfterId, StateQuery, VideoId
from heaters.server.views import clip_json, clips_snapshot, media_url, video_json
from heaters.services import claims, retry, status
from heaters.services import videos as videos_service
from heaters.storage import Storage


class IndexCache:
    """Frame indexes of proxies, parsed once per process; keyed by storage key so a re-encode is seen."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def get(self, storage: Storage, key: str) -> dict[str, Any]:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        raw = await asyncio.to_thread(storage.get_bytes, key)
        index = json.loads(raw)
        self._items[key] = index
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return index


def with_media_urls(window: dict[str, Any]) -> dict[str, Any]:
    """A segmented video's sound lives in files of its own: the index names their keys, the page gets URLs."""
    for part in ("audio", "peaks"):
        if isinstance(window.get(part), dict) and window[part].get("key"):
            window[part] = {**window[part], "url": media_url(window[part]["key"])}
    return window


def username(request: Request[Any, Any, Any]) -> str:
    return str(request.user["username"])


class VideoController(Controller):
    path = "/api/videos"
    tags = ("videos",)

    @get("/", summary="List videos with their state, progress and clip counts by state")
    async def list_videos(
        self, video_state: StateQuery = None
    ) -> dict[str, Any]:
        rows = await status.video_overview()
        full = {v["id"]: v for v in await videos_service.list_videos(video_state.value if video_state else None)}
        return {"videos": [video_json(full[r["id"]], r["clip_counts"]) for r in rows if r["id"] in full]}

    @post(
        "/",
        guards=[operator_only],
        request_max_body_size=UPLOAD_LIMIT,
        status_code=201,
        summary="Ingest a video: JSON {url, title?} or a multipart form with `file` (and `title`)",
    )
    async def create(
        self,
        request: Request[Any, Any, State],
        idempotency_key: Annotated[str | None, HeaderParameter(
            name="Idempotency-Key", min_length=1, max_length=200,
            description="Any unique string: repeating a request with the same key returns the first video")] = None,
    ) -> dict[str, Any]:
        content_type, _ = request.content_type
        key = f"{username(request)}:{idempotency_key}" if idempotency_key else None
        if content_type == "application/json":
            try:
                body = await request.json()
            except Exception:
                raise BadInput("the request body is not valid JSON", 'send {"url": "https://…"}') from None
            if not isinstance(body, dict) or not isinstance(body.get("url"), str):
                raise BadInput('give the video\'s address as {"url": "https://…"}')
            state = request.app.state
            video_id = await ingest_url(state, body["url"], str(body.get("title") or ""), key)
        elif content_type == "multipart/form-data" and request.headers.get("x-csrftoken"):
            # Token in the header: the body is untouched, so the file streams to disk as it arrives.
            state = request.app.state
            video_id = await ingest_streamed(state, request, key)
        elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            state = request.app.state
            video_id = await ingest_form(state, await request.form(), key)
        else:
            raise BadInput(f"cannot ingest a {content_type or 'bodyless'} request", "send JSON or a multipart form")
        return video_json(await videos_service.get_video(video_id), {})

    @get("/{video_id:int}", summary="One video, its clip counts and who is reviewing it")
    async def show(self, video_id: VideoId) -> dict[str, Any]:
        row = await videos_service.get_video(video_id)
        counts: dict[str, int] = {}
        for clip in await videos_service.live_clips(video_id):
            counts[clip["state"]] = counts.get(clip["state"], 0) + 1
        data = video_json(row, counts)
        data["claim"] = await claims.claim_info(video_id)
        return data

    @get("/{video_id:int}/clips", summary="The live clips in frame order, with the video's cut_version")
    async def clips(self, video_id: VideoId) -> dict[str, Any]:
        return await clips_snapshot(video_id)

    @get("/{video_id:int}/index", summary="A window [start, end) of the proxy's frame index")
    async def index(
        self,
        request: Request[Any, Any, State],
        video_id: VideoId,
        start: Annotated[int, QueryParameter(ge=0, le=MAX_FRAME)] = 0,
        end: Annotated[int | None, QueryParameter(ge=1, le=MAX_FRAME)] = None,
    ) -> dict[str, Any]:
        from heaters.media.frame_index import index_window

        video = await videos_service.get_video(video_id)
        if not video["proxy_index_key"]:
            raise NotFound(f"video {video_id} has no proxy yet", f"it is {video['state']}; wait for the encode")
        state = request.app.state
        index = await state.index_cache.get(state.storage, video["proxy_index_key"])
        total = int(index["frames"])
        stop = total if end is None else end
        if index.get("complete") is False:
            # Still encoding in segments: the index covers the encoded part; later frames are not there yet.
            stop = min(stop, total)
            if start >= stop:
                return with_media_urls({**index_window(index, 0, 1), "frames": 0, "offsets": [], "sizes": [],
                                        "start": start, "end": start})
        if not 0 <= start < stop <= total:
            raise BadInput(
                f"frames [{start}, {stop}) are outside the proxy's [0, {total})",
                "ask for 0 <= start < end <= total_frames",
            )
        return with_media_urls(index_window(index, start, stop))

    @get("/{video_id:int}/audit", summary="The video's cut operations and decisions, newest first")
    async def audit(
        self,
        video_id: VideoId,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        after_id: AfterId = None,
    ) -> dict[str, Any]:
        await videos_service.get_video(video_id)
        return {"operations": await videos_service.audit_log(video_id, limit=limit, after_id=after_id)}

    @post(
        "/{video_id:int}/retry",
        guards=[operator_only],
        status_code=200,
        summary="Send a failed video back to the stage that failed (operators)",
    )
    async def retry(self, request: Request[Any, Any, State], video_id: VideoId) -> dict[str, Any]:
        video = await videos_service.get_video(video_id)
        if not await retry.retry_video(video_id, request.app.state.tasks):
            raise Conflict(f"video {video_id} is {video['state']}, not failed", "only failed videos are retried")
        return video_json(await videos_service.get_video(video_id))

    @post(
        "/{video_id:int}/claim",
        status_code=200,
        summary="Claim the video for review, or renew your claim (409 while someone else holds it)",
    )
    async def claim(self, request: Request[Any, Any, State], video_id: VideoId) -> dict[str, Any]:
        info = await claims.claim(video_id, username(request), request.app.state.settings.review_lease_seconds)
        clip = await claims.next_clip(video_id)
        return {**info, "next_clip": clip_json(clip) if clip else None}

    @delete("/{video_id:int}/claim", status_code=200, summary="Give the video back to the review queue")
    async def release(self, request: Request[Any, Any, State], video_id: VideoId) -> dict[str, Any]:
        await videos_service.get_video(video_id)
        released = await claims.release(video_id, username(request))
        return {"video_id": video_id, "released": released}
