"""The HTML pages: dashboard, review queue and review page, a video's timeline, similar clips.

Forms on these pages post back here and redirect (post/redirect/get), so everything works without scripts;
the review page's editing goes through the JSON API instead.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from heaters import keymap, pipeline
from heaters.db.tables import is_reviewable
from heaters.errors import Conflict, HeatersError
from heaters.server.auth import operator_only, safe_next
from heaters.server.downloads import download_url
from heaters.server.ingest import FORM_UPLOAD_LIMIT, ingest_form
from heaters.server.params import ClipId, ClipQuery, VideoId
from heaters.server.similar import similar_to
from heaters.server.views import clip_json, flash, page, video_json
from heaters.services import claims, live, retry, status
from heaters.services import videos as videos_service


def back(request: Request[Any, Any, State]) -> str:
    """The local page a form was sent from (only its path: never another site)."""
    referer = urlsplit(request.headers.get("referer") or "/")
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


class DashboardController(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request[Any, Any, State]) -> Template:
        overview = await status.video_overview()
        full = {v["id"]: v for v in await videos_service.list_videos()}
        videos = [video_json(full[r["id"]], r["clip_counts"]) for r in overview if r["id"] in full]
        totals: dict[str, int] = {}
        for v in videos:
            for state, n in v["clip_counts"].items():
                totals[state] = totals.get(state, 0) + n
        return page(
            request, "dashboard.html", videos=videos, clip_totals=totals, failures=await status.failures(limit=50),
            marks=await live.marks([v["id"] for v in videos]),
        )

    @post("/ingest", guards=[operator_only], request_max_body_size=FORM_UPLOAD_LIMIT, status_code=303)
    async def ingest(self, request: Request[Any, Any, State]) -> Redirect:
        try:
            state = request.app.state
            video_id = await ingest_form(state, await request.form())
        except HeatersError as exc:
            flash(request, str(exc), "error")
        else:
            # Without scripts the form posts here: say what was made and what happens next.
            flash(request, f"video {video_id} created and queued for download; it is encoded next, with its"
                           " progress in the table")
        return Redirect("/", status_code=303)


class ReviewPageController(Controller):
    path = "/review"
    include_in_schema = False

    @get("/")
    async def next_video(self, request: Request[Any, Any, State]) -> Redirect | Template:
        """Claim the next video for this reviewer and open it; say so when the queue is empty.

        A GET that claims: a link from elsewhere (a chat, a mail) may start a review, as a reviewer expects. It
        cannot happen unseen: the session cookie is SameSite=Lax, so only a top-level navigation carries it (no
        image, frame or script of another site does), and a claim only hands out work, changing no clip."""
        settings = request.app.state.settings
        video_id = await claims.claim_next(request.user["username"], settings.review_lease_seconds)
        if video_id is None:
            return page(request, "review_empty.html")
        return Redirect(f"/review/{video_id}", status_code=303)

    @get("/{video_id:int}")
    async def review(
        self, request: Request[Any, Any, State], video_id: VideoId, clip: ClipQuery = None
    ) -> Template:
        settings = request.app.state.settings
        row = await videos_service.get_video(video_id)
        if not is_reviewable(row):
            raise Conflict(f"video {video_id} is {row['state']}, not ready for review", "wait for detection")
        user = request.user["username"]
        # Opening a video claims it when it is free; a video someone else holds still opens (they are told).
        await claims.try_claim(video_id, user, settings.review_lease_seconds)
        claim = await claims.claim_info(video_id)
        clips = [clip_json(c) for c in await videos_service.live_clips(video_id)]
        wanted = next((c for c in clips if c["id"] == clip), None)
        first = wanted or await claims.next_clip(video_id)
        return page(
            request,
            "review.html",
            video=video_json(row),
            clips=clips,
            start_clip_id=first["id"] if first else None,
            claim={**claim, "mine": claim["review_user"] == user},
            lease_seconds=settings.review_lease_seconds,
            # clips no cut may touch: exports under way, and the unencoded tail of a video encoding in segments
            locked_states=sorted({*pipeline.states_from("export"), pipeline.TAIL_CLIP_STATE}),
            key_table=keymap.page_table(),  # the same keys as the console's
        )


class VideoPageController(Controller):
    path = "/videos"
    include_in_schema = False

    @get("/{video_id:int}")
    async def timeline(self, request: Request[Any, Any, State], video_id: VideoId) -> Template:
        row = await videos_service.get_video(video_id)
        clips = await videos_service.live_clips(video_id)
        counts: dict[str, int] = {}
        for c in clips:
            counts[c["state"]] = counts.get(c["state"], 0) + 1
        total = max(row["total_frames"], 1)
        spans = [
            {
                **clip_json(c),
                "left": 100 * c["start_frame"] / total,
                "width": 100 * (c["end_frame"] - c["start_frame"]) / total,
                "error": c["error"],
                "download_url": download_url(c),
            }
            for c in clips
        ]
        return page(
            request,
            "video.html",
            video=video_json(row, counts),
            clips=spans,
            audit=await videos_service.audit_log(video_id, limit=30),
            claim=await claims.claim_info(video_id),
            marks=await live.marks([video_id]),
        )

    @post("/{video_id:int}/retry", guards=[operator_only], status_code=303)
    async def retry_video(self, request: Request[Any, Any, State], video_id: VideoId) -> Redirect:
        return retried(request, f"video {video_id}", await retry.retry_video(video_id, request.app.state.tasks))


class ClipPageController(Controller):
    path = "/clips"
    include_in_schema = False

    @get("/{clip_id:int}/similar")
    async def similar(
        self, request: Request[Any, Any, State], clip_id: ClipId, k: Annotated[int, QueryParameter(ge=1, le=100)] = 12
    ) -> Template:
        found = await similar_to(request.app.state.settings, clip_id, max(1, min(k, 100)))
        return page(request, "similar.html", **found)

    @post("/{clip_id:int}/retry", guards=[operator_only], status_code=303)
    async def retry_clip(self, request: Request[Any, Any, State], clip_id: ClipId) -> Redirect:
        return retried(request, f"clip {clip_id}", await retry.retry_clip(clip_id, request.app.state.tasks))


def retried(request: Request[Any, Any, State], what: str, ok: bool) -> Redirect:
    """Say what a retry did and go back to the page it came from."""
    if ok:
        flash(request, f"{what} sent back to its failed stage", "info")
    else:
        flash(request, f"{what} is not failed; nothing to retry", "error")
    return Redirect(back(request), status_code=303)
