"""Videos get a ``warning``: something a person should know about a video that did not fail (e.g. a
truncated source kept with HEATERS_ACCEPT_SHORT_MEDIA)."""

from __future__ import annotations

from piccolo.engine.base import Engine

DESCRIPTION = "source_video.warning"


async def forwards(engine: Engine) -> None:
    await engine.run_ddl("ALTER TABLE source_video ADD COLUMN warning TEXT NOT NULL DEFAULT ''")
