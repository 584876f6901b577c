"""Piccolo tables. They carry no engine: ``heaters.db.engine.connect`` binds one from the settings.

Ids are 64-bit (``BigSerial``); the edges accept ids up to ``heaters.limits.MAX_ID``.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    DoublePrecision,
    ForeignKey,
    Integer,
    Real,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from heaters import pipeline

VIDEO_STATES = pipeline.states("video")
CLIP_STATES = pipeline.states("clip")
SEGMENT_STATES = pipeline.states("segment")
AUDIO_STATES = pipeline.states("audio")
# Clips whose export has started are frozen: no cut operation may replace them. A clip in ``encoding`` is the
# tail of a video still being encoded in segments: nobody may edit or approve it until its frames exist.
LOCKED_CLIP_STATES = frozenset(pipeline.states_from("export")) | {pipeline.TAIL_CLIP_STATE}
OPERATION_KINDS = ("add", "remove", "move", "trim", "approve", "skip", "reject", "reopen", "undo", "redo")
# A clip in one of these states has been approved: it can be reopened (its export cancelled or withdrawn).
APPROVED_CLIP_STATES = frozenset(pipeline.states_from("export")) | {"approved", "export_failed"}


def is_reviewable(video: dict[str, object]) -> bool:
    """Whether reviewers may open and edit ``video`` (a ``source_video`` row) now: when it is ready, and while
    it is still encoding in segments once its encoded part has a frame index and clips (a video encoded in
    one piece has no index until it is encoded)."""
    if video["state"] == "ready":
        return int(video["total_frames"]) > 0  # type: ignore[call-overload]
    return video["state"] == "encoding" and bool(video.get("proxy_index_key"))


class SourceVideo(Table, tablename="source_video"):
    id = BigSerial(primary_key=True)
    title = Varchar(length=500, default="")
    source = Text(default="")
    state = Varchar(length=32, default="new", index=True)
    error = Text(default="")
    warning = Text(default="")  # something a person should know about a video that did not fail (m0005)
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    progress = JSON(default="{}")  # stage, percent, bytes: shown by the UIs while work runs
    fps_num = Integer(default=0)
    fps_den = Integer(default=1)
    total_frames = Integer(default=0)
    width = Integer(default=0)
    height = Integer(default=0)
    has_audio = Boolean(default=False)
    original_key = Varchar(length=500, default="")
    master_key = Varchar(length=500, default="")
    proxy_key = Varchar(length=500, default="")
    proxy_index_key = Varchar(length=500, default="")
    features_key = Varchar(length=500, default="")
    poster_key = Varchar(length=500, default="")  # a small JPEG standing for the video (m0007)
    # "<user>:<Idempotency-Key>" of the request that created the video: a retried request finds it again.
    idempotency_key = Varchar(length=300, null=True, default=None, unique=True)
    cut_version = Integer(default=0)
    review_user = Varchar(length=100, default="")  # reviewer holding the review claim
    review_lease_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Clip(Table, tablename="clip"):
    id = BigSerial(primary_key=True)
    source_video = ForeignKey(references=SourceVideo)
    start_frame = Integer()
    end_frame = Integer()
    state = Varchar(length=32, default="pending_review")
    reviewed_by = Varchar(length=100, default="")
    reviewed_at = Timestamptz(null=True, default=None)
    export_key = Varchar(length=500, default="")
    error = Text(default="")
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    superseded_by_op = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # How scene detection saw the cut at start_frame ('hard', 'dissolve', 'fade'; '' for the first clip and for
    # cuts a person made) and how sure it was (0..1; NULL where it did not propose the cut).
    cut_kind = Varchar(length=16, default="")
    cut_confidence = Real(null=True, default=None)
    # The number a person says ("clip 7 of 31"), unique among the video's live clips: a clip that is only
    # resized (a split's left part, a moved cut's two sides) keeps it; a new one gets the video's highest so far
    # plus one, so a number never names two different clips over time (m0009, ``heaters.db.numbers``).
    number = Integer(default=0)


class CutOperation(Table, tablename="cut_operation"):
    """Append-only audit log of every cut and review decision."""

    id = BigSerial(primary_key=True)

    source_video = ForeignKey(references=SourceVideo)
    kind = Varchar(length=16)
    frame = Integer(null=True, default=None)
    old_frame = Integer(null=True, default=None)
    user = Varchar(length=100, default="")
    removed_clip_ids = JSON(default="[]")
    created_clip_ids = JSON(default="[]")
    undoes = BigInt(null=True, default=None)
    cut_version = Integer(default=0)  # the video's version after this operation
    created_at = Timestamptz(default=TimestamptzNow())
    metadata = JSON(default="{}")


class Artifact(Table, tablename="artifact"):
    id = BigSerial(primary_key=True)
    clip = ForeignKey(references=Clip)
    kind = Varchar(length=32)  # "keyframe" or "export"
    key = Varchar(length=500)
    position = Integer(default=0)
    frame = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Embedding(Table, tablename="embedding"):
    id = BigSerial(primary_key=True)
    clip = ForeignKey(references=Clip)
    model = Varchar(length=100)
    dim = Integer()
    vector = Bytea()  # float32 little-endian, unit length
    created_at = Timestamptz(default=TimestamptzNow())


SEGMENT_STATES = ("pending", "encoding", "encoded", "failed")


class Segment(Table, tablename="segment"):
    """One independently encoded frame range of a video (``HEATERS_SEGMENT_SECONDS``)."""

    id: Serial
    source_video = ForeignKey(references=SourceVideo)
    position = Integer()  # 0, 1, 2, ... in frame order
    start_frame = Integer()
    end_frame = Integer(null=True, default=None)  # None: to the end of the source
    timeline = JSON(default="{}")  # fps, origin and audio start every segment of the video agrees on
    state = Varchar(length=32, default="pending", index=True)
    error = Text(default="")
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    frames = Integer(default=0)
    reached_end = Boolean(default=False)
    master_key = Varchar(length=500, default="")
    proxy_key = Varchar(length=500, default="")
    proxy_bytes = BigInt(default=0)
    index_key = Varchar(length=500, default="")
    thumbs_key = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ReviewAudio(Table, tablename="review_audio"):
    """The review sound of a video encoded in segments: one track for the whole source, made by its own job."""

    id: Serial
    source_video = ForeignKey(references=SourceVideo)  # one row per video (a unique index)
    timeline = JSON(default="{}")  # the segments' timeline: where audio sample 0 plays
    state = Varchar(length=32, default="pending", index=True)
    error = Text(default="")
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    audio_key = Varchar(length=500, default="")
    index_key = Varchar(length=500, default="")
    peaks_key = Varchar(length=500, default="")
    audio_bytes = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class User(BaseUser, tablename="heaters_user"):
    """A login: Piccolo's hashed-password user plus a role."""

    role = Varchar(length=16, default="reviewer")
    # Bumped by a password change, a role change or disabling: sessions signed in before are void.
    session_epoch = Integer(default=0)


class StoredValue(Table, tablename="heaters_store"):
    """A key-value store with expiry (server-side sessions unless they are kept in Redis)."""

    key = Varchar(length=255, primary_key=True)
    value = Bytea()
    expires_at = DoublePrecision(null=True, default=None)  # Unix time; None: never


class Counter(Table, tablename="heaters_counter"):
    """Counters over a time window shared by every web process (failed sign-ins per client and name)."""

    key = Varchar(length=255, primary_key=True)
    hits = Integer(default=0)
    window_ends = DoublePrecision(default=0.0)  # Unix time


ALL_TABLES: tuple[type[Table], ...] = (
    SourceVideo, Clip, CutOperation, Artifact, Embedding, User, Segment, ReviewAudio, StoredValue, Counter,
)

# The pipeline table names its tables; this is where the names meet the Piccolo classes. (Typed loosely:
# code using it reaches for the columns every stage table has: id, state, attempts, lease_until, error.)
STAGE_TABLES: dict[pipeline.Table, Any] = {
    "video": SourceVideo, "clip": Clip, "segment": Segment, "audio": ReviewAudio,
}
