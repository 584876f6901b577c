"""The web app under test: ``create_app`` on the test database, driven by Litestar's ``AsyncTestClient``.

The test client runs the app in its own event loop (a thread). On Postgres the app's connection pool belongs
to that loop, so test code reaches the database through ``Web.call`` (it runs a coroutine in the app's loop);
on SQLite the same code path is used so that both databases run identical tests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from heaters.server.app import create_app
from heaters.services import users
from heaters.services import videos as videos_service
from heaters.settings import Settings
from tests.server.live import RedisServer

T = TypeVar("T")
PASSWORD = "correct-horse"


@dataclass
class Web:
    """A test client plus helpers: log in, run service code in the app's loop, make videos."""

    client: AsyncTestClient[Litestar]
    settings: Settings

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        async def run() -> T:
            return await fn(*args, **kwargs)

        return self.client.blocking_portal.call(run)

    async def login(self, username: str, password: str = PASSWORD) -> None:
        await self.client.get("/login")
        response = await self.client.post(
            "/login", data={"username": username, "password": password, "_csrf_token": self.csrf},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.client.headers["x-csrftoken"] = self.csrf

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken") or ""

    def add_user(self, name: str, role: str = "reviewer") -> int:
        return self.call(users.add_user, name, PASSWORD, role)

    def make_video(self, total: int = 90, cuts: tuple[int, ...] = (30, 60), state: str = "ready", **fields: Any) -> int:
        async def make() -> int:
            video_id = await videos_service.create_video(
                f"video with cuts {cuts}", "https://example.invalid/v", state=state, fps=Fraction(30000, 1001),
                total_frames=total, width=160, height=90, initial_cuts=cuts if state == "ready" else None,
            )
            if fields:
                await videos_service.set_state(video_id, state, **fields)
            return video_id

        return self.call(make)

    def clips(self, video_id: int) -> list[dict[str, Any]]:
        return self.call(videos_service.live_clips, video_id)

    def video(self, video_id: int) -> dict[str, Any]:
        return self.call(videos_service.get_video, video_id)


async def open_web(settings: Settings, **app_options: Any) -> AsyncIterator[Web]:
    app = create_app(settings, **app_options)
    async with AsyncTestClient(app=app) as client:
        yield Web(client, settings)


@pytest.fixture
async def web(db: Settings) -> AsyncIterator[Web]:
    """The app on a fresh database, not logged in."""
    async for w in open_web(db):
        yield w


@pytest.fixture
async def reviewer(web: Web) -> Web:
    """``web`` logged in as the reviewer ``rita``."""
    web.add_user("rita")
    await web.login("rita")
    return web


@pytest.fixture
async def operator(web: Web) -> Web:
    """``web`` logged in as the operator ``otto``."""
    web.add_user("otto", "operator")
    await web.login("otto")
    return web


def sse_events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse a server-sent event stream into ``[(event, data)]`` (comments and retries skipped)."""
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis for this test alone (it may stop it to play an outage)."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
