"""How videos and clips look on the wire and in templates, and the shared context of every page.

The JSON shapes here are a contract with the browser code (``web/static/js``): keep field names stable.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from litestar import Request
from litestar.response import Template

from heaters import progress
from heaters.services import videos as videos_service

# Sent by ``web/static/js/live.js`` when a page fetches its own HTML again to stay current.
LIVE_HEADER = "x-heaters-live"
# ``number`` is the one people say ("clip 7 of 31"): it stays with the clip when cuts elsewhere change.
CLIP_FIELDS = ("id", "number", "start_frame", "end_frame", "state", "reviewed_by")


def fps_text(row: dict[str, Any]) -> str:
    """The exact frame rate as ``"num/den"`` (``"0/1"`` before the video is probed)."""
    return f"{row['fps_num']}/{row['fps_den'] or 1}"


def media_url(key: str) -> str:
    return f"/media/{key}" if key else ""


def duration_text(row: dict[str, Any]) -> str:
    """The video's length as a timecode ("2:03"), "" before it is encoded."""
    fps = Fraction(row["fps_num"], row["fps_den"] or 1) if row["fps_num"] else None
    return progress.duration(row["total_frames"], fps)


def playable_url(row: dict[str, Any]) -> str:
    """The proxy, or a segmented video's virtual MP4 named with the index it is made from: it changes as
    segments and sound arrive, and a player holding an older one is refused rather than fed shifted bytes."""
    key = str(row["proxy_key"])
    if key.endswith("/pieces.mp4"):
        return media_url(key.removesuffix("pieces.mp4") + "review.mp4") + f"?v={layout_version(row['proxy_index_key'])}"
    return media_url(key)


def peaks_url(row: dict[str, Any]) -> str:
    """The waveform beside the proxy, or beside a segmented video's own sound track."""
    if str(row["proxy_key"]).endswith("/pieces.mp4"):
        return media_url(f"proxies/{row['id']}/audio.peaks")
    return media_url(f"proxies/{row['id']}.peaks")


def layout_version(index_key: str) -> str:
    return index_key.rsplit("/", 1)[-1].removesuffix(".json")


def video_json(row: dict[str, Any], clip_counts: dict[str, int] | None = None) -> dict[str, Any]:
    """A video for the API and the pages; ``proxy_url``/``index_url`` are empty until the proxy exists."""
    has_proxy = bool(row.get("proxy_key")) and bool(row.get("proxy_index_key"))
    data = {
        "id": row["id"],
        "title": row["title"],
        "source": row["source"],
        "state": row["state"],
        "error": row["error"],
        "warning": row.get("warning", ""),
        "attempts": row["attempts"],
        "progress": row.get("progress") or {},
        # The progress in words, with the time left ("encode 45% · 2 min left"): the same as ``--wait`` says.
        "status": progress.video_status(row),
        "state_name": progress.state_name(row["state"]),
        "fps": fps_text(row),
        "total_frames": row["total_frames"],
        "duration": duration_text(row),
        "width": row["width"],
        "height": row["height"],
        "has_audio": row["has_audio"],
        "cut_version": row["cut_version"],
        "proxy_url": media_url(row["proxy_key"]) if has_proxy else "",
        # What a <video> element plays: the proxy itself, or for a video encoded in segments a real MP4 made
        # on the fly from its pieces and its sound (``heaters.media.virtual_mp4``).
        "video_url": playable_url(row) if has_proxy else "",
        "index_url": f"/api/videos/{row['id']}/index" if has_proxy else "",
        # The waveform beside the proxy (``heaters.media.review_audio``); the index says whether it exists.
        "peaks_url": peaks_url(row) if has_proxy and row["has_audio"] else "",
        "poster_url": media_url(row.get("poster_key") or ""),  # a small JPEG of the video, once detected
        "events_url": f"/api/videos/{row['id']}/events",
        "review_user": row.get("review_user", ""),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if clip_counts is not None:
        data["clip_counts"] = clip_counts
    return data


def clip_json(row: dict[str, Any]) -> dict[str, Any]:
    """A clip; ``cut`` is what scene detection said of the cut the clip starts with ({kind, confidence,
    low}), or null where detection did not propose it (the first clip, a cut made by hand)."""
    from heaters.media.scenes import LOW_CONFIDENCE

    data = {name: row[name] for name in CLIP_FIELDS}
    confidence = row.get("cut_confidence")
    data["cut"] = None if confidence is None else {
        "kind": row.get("cut_kind") or "hard", "confidence": round(float(confidence), 3),
        "low": float(confidence) < LOW_CONFIDENCE,
    }
    return data


async def clips_snapshot(video_id: int) -> dict[str, Any]:
    """The video's version and live clips, read version first.

    A change landing between the two reads makes the clips newer than the version, never older: the client's
    next edit with that version is refused as stale and it reloads, so it never acts on outdated clips.
    """
    video = await videos_service.get_video(video_id)
    clips = await videos_service.live_clips(video_id)
    return {
        "video_id": video_id,
        "cut_version": video["cut_version"],
        "total_frames": video["total_frames"],
        "fps": fps_text(video),
        "clips": [clip_json(c) for c in clips],
    }


def flash(request: Request[Any, Any, Any], text: str, kind: str = "info") -> None:
    """Queue a one-time message shown on the next page (kept in the session cookie)."""
    session = dict(request.session or {})
    session["flash"] = [*session.get("flash", []), {"kind": kind, "text": text}][-5:]
    request.set_session(session)


def take_flashes(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    session = request.scope.get("session")
    if not isinstance(session, dict) or not session.get("flash"):
        return []
    remaining = dict(session)
    messages = remaining.pop("flash")
    request.set_session(remaining)
    return list(messages)


def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    """Render ``template`` with what ``base.html`` needs: the user, the CSRF token and pending messages."""
    settings = request.app.state.settings
    base = {
        "user": request.scope.get("user"),
        "csrf_token": csrf_token(request),
        # A page fetching itself again to stay current leaves pending messages for the next real visit.
        "flashes": [] if request.headers.get(LIVE_HEADER) else take_flashes(request),
        "webcodecs_enabled": settings.webcodecs_enabled,
        "path": request.url.path,
    }
    return Template(template, context={**base, **context}, status_code=status_code)


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The token the CSRF middleware expects back (the ``csrftoken`` cookie's value)."""
    from litestar.utils.scope.state import ScopeState

    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""
