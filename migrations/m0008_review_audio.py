"""Review audio: the sound of a video encoded in segments, made once for the whole source by its own job."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

DESCRIPTION = "review_audio table"


async def forwards(engine: Engine) -> None:
    class SourceVideo(Table, tablename="source_video", db=engine):
        pass

    class ReviewAudio(Table, tablename="review_audio", db=engine):
        source_video = ForeignKey(references=SourceVideo)
        timeline = JSON(default="{}")
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

    await ReviewAudio.create_table(if_not_exists=True).run()
    await ReviewAudio.raw(
        "CREATE UNIQUE INDEX IF NOT EXISTS review_audio_video ON review_audio (source_video)"
    ).run()
    if isinstance(engine, PostgresEngine):  # ids are 64-bit on Postgres, as m0002 made every other table's
        for statement in (
            "ALTER TABLE review_audio ALTER COLUMN id TYPE BIGINT",
            "ALTER TABLE review_audio ALTER COLUMN source_video TYPE BIGINT",
            "ALTER SEQUENCE review_audio_id_seq AS BIGINT",
        ):
            await engine.run_ddl(statement)
