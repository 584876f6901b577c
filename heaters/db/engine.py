"""Build a Piccolo engine from the settings and bind the tables to it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from heaters.db.tables import ALL_TABLES
from heaters.errors import ConfigError
from heaters.settings import Settings


class HeatersSQLiteEngine(SQLiteEngine):
    """SQLite with ``synchronous=NORMAL`` on transaction connections.

    In WAL mode that skips the fsync at each commit; a committed write survives a crash of the process and is
    only at risk on power loss, which suits a single-machine review database and halves commit latency.
    """

    async def get_connection(self):  # type: ignore[no-untyped-def]
        connection = await super().get_connection()
        await connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path, as in SQLAlchemy.
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Made here, readable by its owner only: it holds sessions and password hashes (SQLite gives its
            # -wal and -shm files the same mode).
            path.touch(mode=0o600)
        return HeatersSQLiteEngine(path=str(path), timeout=settings.sqlite_timeout)
    if scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url})
    raise ConfigError(f"DATABASE_URL scheme {scheme!r} is not supported", "use postgres://… or sqlite:///…")


def bind(engine: Engine) -> None:
    """Point every heaters table at ``engine`` (Piccolo would otherwise look for a piccolo_conf module)."""
    for table in ALL_TABLES:
        table._meta.db = engine


def write_transaction(engine: Engine):  # type: ignore[no-untyped-def]
    """A transaction for read-then-write work.

    SQLite must take the write lock at BEGIN (IMMEDIATE): a deferred transaction that reads and then writes
    dead-locks against a concurrent writer and fails at once, whatever the busy timeout.
    """
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


@contextlib.asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Engine]:
    """Bind the tables to the configured database for the duration of the block (with a pool on Postgres)."""
    engine = make_engine(settings)
    bind(engine)
    if isinstance(engine, SQLiteEngine):
        # WAL: readers never block the writer and a commit costs one fsync; the mode persists in the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    if isinstance(engine, PostgresEngine):
        try:
            await engine.start_connection_pool(min_size=1, max_size=10)
        except OSError as exc:
            raise ConfigError(f"cannot connect to the database: {exc}", "check DATABASE_URL") from None
    try:
        yield engine
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
