"""Shared fixtures: real databases (SQLite by default, Postgres with HEATERS_TEST_DATABASE_URL), real Redis.

Postgres tests run in a database the session creates and drops (``tests/service_fixtures.py``), and Redis tests
on a redis-server of their own, so the machine's databases are never touched.

Tests that need a server skip on a plain machine and fail in CI (``CI=true``), where the server must exist.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from heaters.db.engine import connect
from heaters.db.migrate import migrate
from heaters.settings import Settings
from tests.service_fixtures import POSTGRES_URL, pytest_sessionfinish, pytest_sessionstart, redis_server

pytest_plugins = ["tests.s3_fixtures"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TABLES = (
    "source_video, clip, cut_operation, artifact, embedding, heaters_user, segment, review_audio, heaters_store,"
    " heaters_counter"
)


# The session's own Postgres database and redis-server (hooks and fixture), registered from here.
__all__ = ["IN_CI", "POSTGRES_URL", "TABLES", "pytest_sessionfinish", "pytest_sessionstart", "redis_server",
           "require_service"]


def require_service(reason: str) -> None:
    """Skip locally, fail in CI: a service CI provides must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of an isolated installation under ``tmp_path`` on the database under test."""
    return Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=POSTGRES_URL, secret_key="test-secret-key",
        min_clip_frames=1,
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time would be slower)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "heaters.sqlite3"

    async def build() -> None:
        async with connect(Settings.from_env({}, database_url=f"sqlite:///{path}")) as engine:
            await migrate(engine)

    asyncio.run(build())
    return path


@pytest.fixture
async def db(settings: Settings, sqlite_template: Path) -> AsyncIterator[Settings]:
    """A migrated, empty database bound to the tables for this test; yields its settings."""
    if settings.is_sqlite:
        target = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sqlite_template, target)
        async with connect(settings):
            yield settings
        return
    try:
        async with connect(settings) as engine:
            await migrate(engine)
            await engine.run_ddl(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
            yield settings
    except OSError as exc:
        require_service(f"PostgreSQL at HEATERS_TEST_DATABASE_URL is unreachable: {exc}")
