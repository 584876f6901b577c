"""Apply the migrations in ``migrations/`` (shipped in the wheel as ``heaters/migrations``).

Each migration is a module with ``async def forwards(engine)``. They are applied in name order, each in its
own transaction, and recorded in ``heaters_migration``. Piccolo's own runner finds its engine through a global
``piccolo_conf`` module; heaters passes engines explicitly (tests run SQLite and Postgres side by side), so this
small runner keeps Piccolo's schema API and drops the global lookup.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC
from pathlib import Path
from types import ModuleType

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from heaters.db.engine import write_transaction

_LEDGER = "CREATE TABLE IF NOT EXISTS heaters_migration (name VARCHAR(200) PRIMARY KEY, applied_at VARCHAR(40))"


def migrations_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the migrations folder is missing from this installation")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"heaters_migrations.{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def available() -> list[Path]:
    return sorted(migrations_dir().glob("m[0-9]*.py"))


async def applied(engine: Engine) -> set[str]:
    await engine.run_ddl(_LEDGER)
    rows = await engine.run_querystring(_select_names())
    return {row["name"] for row in rows}


def _select_names():  # type: ignore[no-untyped-def]
    from piccolo.querystring import QueryString

    return QueryString("SELECT name FROM heaters_migration")


async def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    from datetime import datetime

    from piccolo.querystring import QueryString

    done: list[str] = []
    await engine.run_ddl(_LEDGER)
    for path in available():
        async with write_transaction(engine):
            if isinstance(engine, PostgresEngine):  # one migrator at a time (release phase + `heaters up`)
                await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(727274)"))
            if path.stem in await applied(engine):
                continue
            await _load(path).forwards(engine)
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO heaters_migration (name, applied_at) VALUES ({}, {})",
                    path.stem,
                    datetime.now(UTC).isoformat(),
                )
            )
            done.append(path.stem)
    return done
