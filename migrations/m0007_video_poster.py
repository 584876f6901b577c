"""Videos get a ``poster_key``: a small JPEG made from the proxy that stands for the video on the pages.

Videos made before have none (the pages show no picture for them) until their detection runs again.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

DESCRIPTION = "source_video.poster_key"


async def forwards(engine: Engine) -> None:
    await engine.run_ddl("ALTER TABLE source_video ADD COLUMN poster_key VARCHAR(500) NOT NULL DEFAULT ''")
