"""Bounded parameter types, declared once: every id, frame and paging value the API takes has a range.

Out-of-range values are refused by validation (400, in the error schema) before any query runs, so nothing can
overflow a database column; the bounds appear in the OpenAPI. Ids are BIGINT, frames and versions INTEGER.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from litestar.params import PathParameter, QueryParameter
from msgspec import Meta

from heaters import pipeline
from heaters.limits import MAX_FRAME, MAX_ID

VideoId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="a video's id")]
ClipId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="a clip's id")]
FrameInPath = Annotated[int, PathParameter(ge=0, le=MAX_FRAME, description="a frame number")]
VersionQuery = Annotated[int | None, QueryParameter(
    ge=0, le=MAX_FRAME, description="the cut_version the edit was made on (409 if the video changed since)")]
VideoQuery = Annotated[int | None, QueryParameter(name="video", ge=1, le=MAX_ID, description="only this video")]
ClipQuery = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID, description="a clip's id")]
AfterId = Annotated[int | None, QueryParameter(ge=0, le=MAX_ID, description="only operations older than this id")]

# Only a known state: anything else is refused (400), never handed to the database (which refuses NUL bytes).
VideoState = StrEnum("VideoState", {state: state for state in pipeline.states("video")})  # type: ignore[misc]
StateQuery = Annotated[VideoState | None, QueryParameter(name="state", description="only videos in this state")]

# In JSON bodies (msgspec structs validate these and Litestar documents them).
Frame = Annotated[int, Meta(ge=0, le=MAX_FRAME, description="a frame number")]
Version = Annotated[int, Meta(ge=0, le=MAX_FRAME, description="the video's cut_version the request was made on")]
Text = Annotated[str, Meta(max_length=2000)]
