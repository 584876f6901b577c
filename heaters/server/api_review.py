"""The review queue and live updates: claim the next video, stream a video's cut changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import ServerSentEvent, ServerSentEventMessage

from heaters.errors import NotFound
from heaters.server.auth import still_signed_in
from heaters.server.params import VideoId
from heaters.server.views import clip_json, video_json
from heaters.services import claims
from heaters.services import videos as videos_service


class ReviewController(Controller):
    path = "/api/review"
    tags = ("review",)

    @post(
        "/claim",
        status_code=200,
        summary="Claim the next video to review (your own claim first); video is null when nothing is left",
    )
    async def claim_next(self, request: Request[Any, Any, State]) -> dict[str, Any]:
        user = request.user["username"]
        video_id = await claims.claim_next(user, request.app.state.settings.review_lease_seconds)
        if video_id is None:
            return {"video": None, "next_clip": None, "claim": None}
        clip = await claims.next_clip(video_id)
        return {
            "video": video_json(await videos_service.get_video(video_id)),
            "next_clip": clip_json(clip) if clip else None,
            "claim": await claims.claim_info(video_id),
        }


class EventsController(Controller):
    path = "/api/videos/{video_id:int}/events"
    tags = ("review",)

    @get("/", summary="Server-sent events: `cuts` {cut_version} on every change of the video's clips")
    async def events(self, request: Request[Any, Any, State], video_id: VideoId) -> ServerSentEvent:
        hub = request.app.state.hub
        current = await hub.current(video_id)
        if current is None:
            raise NotFound(f"video {video_id} does not exist")

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            # The first event tells the page the version to compare its own against.
            yield ServerSentEventMessage(event="cuts", data=json.dumps({"cut_version": current}))
            async for version in hub.watch(video_id, current):
                if not await still_signed_in(request):  # signed out or disabled meanwhile: the stream ends
                    return
                if version is None:
                    yield ServerSentEventMessage(comment="keep-alive")
                else:
                    yield ServerSentEventMessage(event="cuts", data=json.dumps({"cut_version": version}))

        # retry: how long the browser's EventSource waits before reconnecting after a drop.
        return ServerSentEvent(
            stream(), retry_duration=2000, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
