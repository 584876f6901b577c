"""``/api/clips``: review decisions, similar clips and retries of one clip."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta, Struct

from heaters.errors import Conflict
from heaters.server.api_cuts import answer
from heaters.server.auth import operator_only
from heaters.server.params import ClipId, Frame, Text, Version
from heaters.server.similar import similar_to
from heaters.server.views import clip_json
from heaters.services import retry, review
from heaters.services import videos as videos_service


class Decision(Struct):
    expected_version: Version | None = None


class Trim(Struct):
    side: Annotated[str, Meta(max_length=8)]  # "in": `frame` becomes the clip's first frame; "out": its last
    frame: Frame
    expected_version: Version | None = None


class Reopen(Struct):
    reason: Text = ""
    expected_version: Version | None = None


async def decide(request: Request[Any, Any, State], clip_id: int, decision: str, data: Decision | None) -> Any:
    version = data.expected_version if data else None
    result = await review.decide(clip_id, decision, user=request.user["username"], expected_version=version,
                                 tasks=request.app.state.tasks)
    return await answer(request, result)


class ClipController(Controller):
    path = "/api/clips"
    tags = ("clips",)

    @get("/{clip_id:int}", summary="One clip")
    async def show(self, clip_id: ClipId) -> dict[str, Any]:
        row = await videos_service.get_clip(clip_id)
        return {
            **clip_json(row),
            "video_id": row["source_video"],
            "export_key": row["export_key"],
            "error": row["error"],
        }

    @post("/{clip_id:int}/approve", status_code=200, summary="Approve the clip (queues its export)")
    async def approve(
        self, request: Request[Any, Any, State], clip_id: ClipId, data: JSONBody[Decision | None] = None
    ) -> Any:
        return await decide(request, clip_id, "approve", data)

    @post("/{clip_id:int}/skip", status_code=200, summary="Skip the clip")
    async def skip(
        self, request: Request[Any, Any, State], clip_id: ClipId, data: JSONBody[Decision | None] = None
    ) -> Any:
        return await decide(request, clip_id, "skip", data)

    @post("/{clip_id:int}/reject", status_code=200, summary="Reject the clip")
    async def reject(
        self, request: Request[Any, Any, State], clip_id: ClipId, data: JSONBody[Decision | None] = None
    ) -> Any:
        return await decide(request, clip_id, "reject", data)

    @post("/{clip_id:int}/trim", status_code=200,
          summary="Set the clip's in or out point at `frame`: one operation cuts and rejects the part cut off")
    async def trim(self, request: Request[Any, Any, State], clip_id: ClipId, data: JSONBody[Trim]) -> Any:
        result = await review.trim(
            clip_id, data.side, data.frame, user=request.user["username"], expected_version=data.expected_version,
            min_length=request.app.state.settings.min_clip_frames,
        )
        return await answer(request, result)

    @post("/{clip_id:int}/reopen", status_code=200,
          summary="Take an approval back: cancel or withdraw the clip's export, back to pending review")
    async def reopen(
        self, request: Request[Any, Any, State], clip_id: ClipId, data: JSONBody[Reopen | None] = None
    ) -> Any:
        result = await review.reopen(
            clip_id, user=request.user["username"], reason=data.reason if data else "",
            expected_version=data.expected_version if data else None,
        )
        return await answer(request, result)

    @get("/{clip_id:int}/similar", summary="The k clips most similar to this one, with keyframe thumbnails")
    async def similar(
        self,
        request: Request[Any, Any, State],
        clip_id: ClipId,
        k: Annotated[int, QueryParameter(ge=1, le=100)] = 12,
    ) -> dict[str, Any]:
        return await similar_to(request.app.state.settings, clip_id, k)

    @post(
        "/{clip_id:int}/retry",
        guards=[operator_only],
        status_code=200,
        summary="Send a failed clip back to the stage that failed (operators)",
    )
    async def retry(self, request: Request[Any, Any, State], clip_id: ClipId) -> dict[str, Any]:
        row = await videos_service.get_clip(clip_id)
        if not await retry.retry_clip(clip_id, request.app.state.tasks):
            raise Conflict(f"clip {clip_id} is {row['state']}, not failed", "only failed clips are retried")
        return clip_json(await videos_service.get_clip(clip_id))
