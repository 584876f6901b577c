"""Cut edits and undo/redo on one video. Each answer is the operation plus the video's fresh clips.

Send ``expected_version`` (the ``cut_version`` the page shows) with every edit: an edit made against an older
version is refused with 409 and changes nothing, so nobody overwrites a change they have not seen.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, post, put
from litestar.datastructures import State
from litestar.params import JSONBody
from msgspec import Struct

from heaters.server.params import Frame, FrameInPath, Version, VersionQuery, VideoId
from heaters.server.views import clips_snapshot
from heaters.services import claims, review
from heaters.services.withdraw import discard


class NewCut(Struct):
    frame: Frame
    expected_version: Version | None = None


class MovedCut(Struct):
    to: Frame
    expected_version: Version | None = None


class Versioned(Struct):
    expected_version: Version | None = None


async def answer(request: Request[Any, Any, State], result: review.OpResult) -> dict[str, Any]:
    """The operation, the video's clips after it, and a renewed review claim for the one who works on it."""
    settings = request.app.state.settings
    if result.withdrawn:
        await discard(request.app.state.storage, result.withdrawn)
    await claims.renew_if_held(result.video_id, request.user["username"], settings.review_lease_seconds)
    return {**result.as_dict(), **await clips_snapshot(result.video_id)}


class CutController(Controller):
    path = "/api/videos/{video_id:int}"
    tags = ("cuts",)

    @post("/cuts", status_code=200, summary="Add a cut: a new clip starts at `frame`")
    async def add(
        self, request: Request[Any, Any, State], video_id: VideoId, data: JSONBody[NewCut]
    ) -> dict[str, Any]:
        result = await review.add_cut(
            video_id,
            data.frame,
            user=request.user["username"],
            expected_version=data.expected_version,
            min_length=request.app.state.settings.min_clip_frames,
        )
        return await answer(request, result)

    @delete("/cuts/{frame:int}", status_code=200, summary="Remove the cut at `frame` (merge its two clips)")
    async def remove(
        self,
        request: Request[Any, Any, State],
        video_id: VideoId,
        frame: FrameInPath,
        expected_version: VersionQuery = None,
    ) -> dict[str, Any]:
        result = await review.remove_cut(
            video_id, frame, user=request.user["username"], expected_version=expected_version
        )
        return await answer(request, result)

    @put("/cuts/{frame:int}", status_code=200, summary="Move the cut at `frame` to `to`")
    async def move(
        self, request: Request[Any, Any, State], video_id: VideoId, frame: FrameInPath, data: JSONBody[MovedCut]
    ) -> dict[str, Any]:
        result = await review.move_cut(
            video_id,
            frame,
            data.to,
            user=request.user["username"],
            expected_version=data.expected_version,
            min_length=request.app.state.settings.min_clip_frames,
        )
        return await answer(request, result)

    @post("/undo", status_code=200, summary="Undo your last operation on this video that is still in effect")
    async def undo(
        self, request: Request[Any, Any, State], video_id: VideoId, data: JSONBody[Versioned | None] = None
    ) -> dict[str, Any]:
        version = data.expected_version if data else None
        result = await review.undo(video_id, user=request.user["username"], expected_version=version,
                                 tasks=request.app.state.tasks)
        return await answer(request, result)

    @post("/redo", status_code=200, summary="Redo the operation you undid last")
    async def redo(
        self, request: Request[Any, Any, State], video_id: VideoId, data: JSONBody[Versioned | None] = None
    ) -> dict[str, Any]:
        version = data.expected_version if data else None
        result = await review.redo(video_id, user=request.user["username"], expected_version=version,
                                 tasks=request.app.state.tasks)
        return await answer(request, result)
