"""``GET /api/live/videos``: what the dashboard and the video page poll to stay current without a reload.

A light JSON poll rather than a stream: progress is written by the workers' lease heartbeat (at most one write
per beat), so a poll every couple of seconds misses nothing a person could see; a poll holds no connection
open per tab (the review page already keeps one event stream, and browsers allow only a few connections per
host over HTTP/1.1); it needs no new shared poller; and the page stops asking while it is hidden. The answer is
one query for the videos and one grouped query for their clips.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from heaters import progress
from heaters.server.params import VideoQuery
from heaters.server.views import duration_text
from heaters.services import live


class LiveController(Controller):
    path = "/api/live"
    tags = ("videos",)

    @get("/videos", summary="Every video's (or one video's) state, progress in words and change mark")
    async def videos(
        self, video: VideoQuery = None) -> dict[str, Any]:
        rows = await live.live_videos(video)
        return {"videos": [
            {
                "id": row["id"], "state": row["state"], "state_name": progress.state_name(row["state"]),
                "status": progress.video_status(row), "duration": duration_text(row), "mark": row["mark"],
            }
            for row in rows
        ]}
