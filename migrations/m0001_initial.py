"""Initial schema: videos, clips, the cut-operation audit log, artifacts, embeddings and users.

The tables are a frozen copy of the schema as it was when this migration was written, so later changes to
``heaters.db.tables`` never alter what this step creates. Piccolo's DDL keeps it valid on SQLite and Postgres.
"""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSON, BigInt, Boolean, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

DESCRIPTION = "initial schema"


async def forwards(engine: Engine) -> None:
    class SourceVideo(Table, tablename="source_video", db=engine):
        title = Varchar(length=500, default="")
        source = Text(default="")
        state = Varchar(length=32, default="new", index=True)
        error = Text(default="")
        attempts = Integer(default=0)
        lease_until = Timestamptz(null=True, default=None)
        progress = JSON(default="{}")
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
        cut_version = Integer(default=0)
        review_user = Varchar(length=100, default="")
        review_lease_until = Timestamptz(null=True, default=None)
        created_at = Timestamptz(default=TimestamptzNow())
        updated_at = Timestamptz(default=TimestamptzNow())

    class Clip(Table, tablename="clip", db=engine):
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

    class CutOperation(Table, tablename="cut_operation", db=engine):
        source_video = ForeignKey(references=SourceVideo)
        kind = Varchar(length=16)
        frame = Integer(null=True, default=None)
        old_frame = Integer(null=True, default=None)
        user = Varchar(length=100, default="")
        removed_clip_ids = JSON(default="[]")
        created_clip_ids = JSON(default="[]")
        undoes = BigInt(null=True, default=None)
        cut_version = Integer(default=0)
        created_at = Timestamptz(default=TimestamptzNow())
        metadata = JSON(default="{}")

    class Artifact(Table, tablename="artifact", db=engine):
        clip = ForeignKey(references=Clip)
        kind = Varchar(length=32)
        key = Varchar(length=500)
        position = Integer(default=0)
        frame = Integer(null=True, default=None)
        created_at = Timestamptz(default=TimestamptzNow())

    class Embedding(Table, tablename="embedding", db=engine):
        clip = ForeignKey(references=Clip)
        model = Varchar(length=100)
        dim = Integer()
        vector = Bytea()
        created_at = Timestamptz(default=TimestamptzNow())

    class User(BaseUser, tablename="heaters_user", db=engine):
        role = Varchar(length=16, default="reviewer")

    for table in (SourceVideo, Clip, CutOperation, Artifact, Embedding, User):
        await table.create_table(if_not_exists=True).run()
    for statement in (
        # "clips of a video in frame order" and "work in state X"
        "CREATE INDEX IF NOT EXISTS clip_video_start ON clip (source_video, start_frame)",
        "CREATE INDEX IF NOT EXISTS clip_state ON clip (state)",
        "CREATE INDEX IF NOT EXISTS cut_operation_video ON cut_operation (source_video, id)",
        "CREATE INDEX IF NOT EXISTS artifact_clip ON artifact (clip)",
        "CREATE INDEX IF NOT EXISTS embedding_clip_model ON embedding (clip, model)",
    ):
        await SourceVideo.raw(statement).run()
