"""Clips get a ``number``: the one a person says ("clip 7 of 31"), given when the clip is made and kept.

Existing clips are numbered per video: the live ones 1..n in frame order (what the pages showed until now),
then the replaced ones after them, so an undo that brings one back never repeats a live number. Window
functions and ``UPDATE … FROM`` are valid on SQLite (3.33+) and Postgres alike.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

DESCRIPTION = "clip.number"


async def forwards(engine: Engine) -> None:
    await engine.run_ddl("ALTER TABLE clip ADD COLUMN number INTEGER NOT NULL DEFAULT 0")
    await number_existing(engine)
    await engine.run_ddl("CREATE INDEX IF NOT EXISTS clip_video_number ON clip (source_video, number)")


async def number_existing(engine: Engine) -> None:
    """Number every clip of every video as the module says (all of them, whatever number they had)."""
    await engine.run_ddl(
        "UPDATE clip SET number = numbered.n FROM ("
        " SELECT id, ROW_NUMBER() OVER ("
        "  PARTITION BY source_video"
        "  ORDER BY CASE WHEN state = 'superseded' THEN 1 ELSE 0 END, start_frame, id) AS n"
        " FROM clip) AS numbered"
        " WHERE clip.id = numbered.id"
    )
