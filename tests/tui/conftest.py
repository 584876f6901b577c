"""Console fixtures: one small installation made through the services layer, with fixed ids and timestamps.

The seed is the same for the Pilot tests (async, on the ``db`` fixture) and the snapshot tests (sync: the
snapshot plugin runs the app in its own event loop, so they build their database with ``asyncio.run``).
Timestamps are pinned and the app gets a fixed clock, so every screen renders the same on SQLite and Postgres.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from heaters.db.engine import connect
from heaters.db.migrate import migrate
from heaters.db.tables import Clip, CutOperation, SourceVideo
from heaters.services import review, videos
from heaters.settings import Settings
from heaters.tui.app import HeatersApp
from tests.conftest import TABLES, require_service

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
NOW = T0 + timedelta(minutes=3)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the console must cope


@dataclass(frozen=True)
class Seed:
    """Ids of what ``seed`` made (they are the same on every run: fresh tables, identities restarted)."""

    ready: int  # 300 frames at 25 fps, cuts 100 and 200, then ana added 150 and bob approved clip 1
    failed: int  # encode_failed, with an error
    locked: int  # 240 frames at 30000/1001, cut 120: clip [0,120) exported, clip [120,240) export_failed
    running: int  # downloading, with a lease and progress
    exported_clip: int
    failed_clip: int


async def seed() -> Seed:
    """Build the installation through the services layer; pin timestamps for deterministic screens."""
    ready = await videos.create_video("harbour walk", "https://example.org/harbour", state="ready",
                                      fps=Fraction(25), total_frames=300, width=320, height=180,
                                      initial_cuts=[100, 200])
    first = (await videos.live_clips(ready))[0]["id"]
    await review.add_cut(ready, 150, user="ana", expected_version=0)
    await review.approve(first, user="bob", expected_version=1)
    failed = await videos.create_video("city at night", "https://example.org/city")
    await videos.set_state(failed, "encode_failed", error="encoder crashed: odd frame size 321x181\ntraceback…",
                           attempts=3)
    locked = await videos.create_video("ocean", state="ready", fps=Fraction(30000, 1001), total_frames=240,
                                       initial_cuts=[120])
    exported_clip, failed_clip = (c["id"] for c in await videos.live_clips(locked))
    # Export outcomes are written by workers; the console only has to show them.
    await Clip.update({Clip.state: "exported", Clip.export_key: f"clips/{locked}/{exported_clip}.mp4"}).where(
        Clip.id == exported_clip)
    await Clip.update({Clip.state: "export_failed", Clip.error: "export failed: disk full", Clip.attempts: 5}).where(
        Clip.id == failed_clip)
    running = await videos.create_video("mountain pass", "https://example.org/pass")
    await videos.set_state(running, "downloading", lease_until=T0 + timedelta(minutes=10),
                           progress={"stage": "download", "percent": 42})
    await pin_timestamps()
    return Seed(ready, failed, locked, running, exported_clip, failed_clip)


async def pin_timestamps() -> None:
    """Every row's timestamps at T0 + its id in seconds (operations at T0 + id minutes)."""
    for table in (SourceVideo, Clip):
        for row in await table.select(table.id):
            stamp = T0 + timedelta(seconds=row["id"])
            await table.update({table.created_at: stamp, table.updated_at: stamp}).where(table.id == row["id"])
    await Clip.update({Clip.reviewed_at: T0}).where(Clip.reviewed_at.is_not_null())
    for row in await CutOperation.select(CutOperation.id):
        await CutOperation.update({CutOperation.created_at: T0 + timedelta(minutes=row["id"])}).where(
            CutOperation.id == row["id"])


def make_app(settings: Settings, **overrides: Any) -> HeatersApp:
    """The console as ``heaters tui`` builds it, with a fixed clock and operator, and no Redis by default."""
    if not overrides.pop("keep_redis", False):
        settings = dataclasses.replace(settings, redis_url=DEAD_REDIS)
    options: dict[str, Any] = {"user": "ana", "clock": lambda: NOW, "refresh_seconds": 60.0, **overrides}
    return HeatersApp(settings, **options)


@pytest.fixture
async def seeded(db: Settings) -> tuple[Settings, Seed]:
    return db, await seed()


@pytest.fixture
def seeded_sync(settings: Settings, sqlite_template: Path) -> tuple[Settings, Seed]:
    """The same installation for tests that run the app in its own event loop (snapshots)."""

    async def build() -> Seed:
        async with connect(settings) as engine:
            if not settings.is_sqlite:
                await migrate(engine)
                await engine.run_ddl(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
            return await seed()

    if settings.is_sqlite:
        target = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sqlite_template, target)
    try:
        return settings, asyncio.run(build())
    except OSError as exc:
        require_service(f"PostgreSQL at HEATERS_TEST_DATABASE_URL is unreachable: {exc}")
        raise


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (workers finish on the app's loop, between pauses)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the console did not reach the expected state in time")
        await pilot.pause(0.02)


async def fresh(pilot: Pilot[Any]) -> Any:
    """Reload the current screen now and wait for the data; returns the screen."""
    screen = pilot.app.screen
    await until(pilot, lambda: screen.loads > 0 and not screen.busy)
    before = screen.loads  # a load started from here on reads the database as it is now
    screen.reload()
    await until(pilot, lambda: screen.loads > before and not screen.busy)
    return screen


def notifications(app: HeatersApp) -> list[tuple[str, str]]:
    """``(severity, message)`` of every notification the app raised (Textual keeps them in ``_notifications``)."""
    return [(n.severity, n.message) for n in app._notifications]
