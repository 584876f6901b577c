"""Segments: the independently encoded frame ranges of a long video, each with its own state and lease."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

DESCRIPTION = "segment table"


async def forwards(engine: Engine) -> None:
    class SourceVideo(Table, tablename="source_video", db=engine):
        pass

    class Segment(Table, tablename="segment", db=engine):
        source_video = ForeignKey(references=SourceVideo)
        position = Integer()
        start_frame = Integer()
        end_frame = Integer(null=True, default=None)
        timeline = JSON(default="{}")
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

    await Segment.create_table(if_not_exists=True).run()
    await Segment.raw(
        "CREATE UNIQUE INDEX IF NOT EXISTS segment_video_position ON segment (source_video, position)"
    ).run()
    if isinstance(engine, PostgresEngine):  # ids are 64-bit on Postgres, as m0002 made every other table's
        for statement in (
            "ALTER TABLE segment ALTER COLUMN id TYPE BIGINT",
            "ALTER TABLE segment ALTER COLUMN source_video TYPE BIGINT",
            "ALTER SEQUENCE segment_id_seq AS BIGINT",
        ):
            await engine.run_ddl(statement)
