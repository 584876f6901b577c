"""Clips keep how scene detection saw the cut they start with: its kind and its confidence.

Plain ``ALTER TABLE ... ADD COLUMN`` statements, valid on SQLite and Postgres alike; existing clips get an
empty kind and no confidence (they were cut before detection reported either).
"""

from __future__ import annotations

from piccolo.engine.base import Engine

DESCRIPTION = "clip cut kind and confidence"


async def forwards(engine: Engine) -> None:
    await engine.run_ddl("ALTER TABLE clip ADD COLUMN cut_kind VARCHAR(16) NOT NULL DEFAULT ''")
    await engine.run_ddl("ALTER TABLE clip ADD COLUMN cut_confidence REAL")
