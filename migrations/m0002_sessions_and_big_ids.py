"""Server-side sessions, shared sign-in counters, idempotent video creation and 64-bit ids.

Adds ``heaters_store`` (key-value with expiry) and ``heaters_counter`` (windowed counters), the user's
``session_epoch`` and the video's ``idempotency_key``. On Postgres the ids and the columns that reference them
become BIGINT, with their sequences; SQLite's INTEGER is 64-bit already.
"""

from __future__ import annotations

from piccolo.columns import Bytea, DoublePrecision, Integer, Varchar
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

DESCRIPTION = "sessions, counters, idempotency keys, 64-bit ids"

# table -> columns holding its id or another table's id
BIG_COLUMNS = {
    "source_video": ("id",),
    "clip": ("id", "source_video"),
    "cut_operation": ("id", "source_video"),
    "artifact": ("id", "clip"),
    "embedding": ("id", "clip"),
}


async def forwards(engine: Engine) -> None:
    class StoredValue(Table, tablename="heaters_store", db=engine):
        key = Varchar(length=255, primary_key=True)
        value = Bytea()
        expires_at = DoublePrecision(null=True, default=None)

    class Counter(Table, tablename="heaters_counter", db=engine):
        key = Varchar(length=255, primary_key=True)
        hits = Integer(default=0)
        window_ends = DoublePrecision(default=0.0)

    for table in (StoredValue, Counter):
        await table.create_table(if_not_exists=True).run()
    statements = [
        "ALTER TABLE heaters_user ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE source_video ADD COLUMN idempotency_key VARCHAR(300) NULL DEFAULT NULL",
        "CREATE UNIQUE INDEX IF NOT EXISTS source_video_idempotency_key ON source_video (idempotency_key)",
        "CREATE INDEX IF NOT EXISTS heaters_store_expires ON heaters_store (expires_at)",
    ]
    if isinstance(engine, PostgresEngine):
        for table, columns in BIG_COLUMNS.items():
            statements += [f"ALTER TABLE {table} ALTER COLUMN {column} TYPE BIGINT" for column in columns]
            statements.append(f"ALTER SEQUENCE {table}_id_seq AS BIGINT")
    for statement in statements:
        await engine.run_ddl(statement)
