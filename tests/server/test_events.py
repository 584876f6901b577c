"""Live updates over server-sent events, on a real HTTP server (the test client buffers whole responses)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from heaters.server.app import create_app
from heaters.services import review, users
from heaters.services import videos as videos_service
from heaters.settings import Settings
from tests.server.conftest import PASSWORD


@dataclass
class LiveServer:
    url: str
    app: Litestar
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Any) -> Any:
        """Run a coroutine in the server's own event loop (where its database pool lives)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)


@pytest.fixture
def live(db: Settings) -> Iterator[LiveServer]:
    app = create_app(db, events_interval=0.1, heartbeat_seconds=0.5)
    started: Future[asyncio.AbstractEventLoop] = Future()
    app.on_startup.append(lambda: started.set_result(asyncio.get_running_loop()))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    loop = started.result(timeout=20)
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(f"http://127.0.0.1:{port}", app, loop)
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


async def logged_in(live: LiveServer, name: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=live.url, timeout=10)
    await client.get("/login")
    token = client.cookies["csrftoken"]
    response = await client.post("/login", data={"username": name, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code in (200, 303)
    client.headers["x-csrftoken"] = token
    return client


async def next_event(lines: AsyncIterator[str], timeout: float = 1.0) -> tuple[str, Any]:
    """The next ``(event, data)``; comments come back as ``(":", text)``."""
    name = "message"

    async def read() -> tuple[str, Any]:
        nonlocal name
        async for line in lines:
            if line.startswith(":"):
                return ":", line[1:].strip()
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                return name, json.loads(line[5:])
        raise EOFError

    return await asyncio.wait_for(read(), timeout)


async def test_cut_changes_arrive_within_a_second(live: LiveServer) -> None:
    live.call(users.add_user("rita", PASSWORD))
    live.call(users.add_user("sam", PASSWORD))
    video = live.call(videos_service.create_video("v", state="ready", total_frames=90, width=160, height=90,
                                                  initial_cuts=(30, 60)))
    rita, sam = await logged_in(live, "rita"), await logged_in(live, "sam")
    try:
        async with rita.stream("GET", f"/api/videos/{video}/events") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await next_event(lines) == ("cuts", {"cut_version": 0})

            # A change made through the services layer (as the console or the CLI do).
            started = time.monotonic()
            live.call(review.add_cut(video, 45, user="console"))
            assert await next_event(lines) == ("cuts", {"cut_version": 1})
            assert time.monotonic() - started < 1.0

            # Another reviewer's edit through the API.
            started = time.monotonic()
            edited = await sam.post(f"/api/videos/{video}/cuts", json={"frame": 15, "expected_version": 1})
            assert edited.status_code == 200
            assert await next_event(lines) == ("cuts", {"cut_version": 2})
            assert time.monotonic() - started < 1.0

            # Quiet: heartbeat comments keep the connection open.
            assert await next_event(lines, timeout=2.0) == (":", "keep-alive")
        # Closing the stream ends the watch and, with nobody left watching, the shared poller.
        hub = live.app.state.hub
        for _ in range(50):
            if not hub._watches and (hub._task is None or hub._task.done()):
                break
            await asyncio.sleep(0.05)
        assert not hub._watches and (hub._task is None or hub._task.done())
    finally:
        await rita.aclose()
        await sam.aclose()


async def test_two_streams_share_one_poller_and_unknown_video_is_404(live: LiveServer) -> None:
    live.call(users.add_user("rita", PASSWORD))
    first = live.call(videos_service.create_video("a", state="ready", total_frames=50, initial_cuts=()))
    second = live.call(videos_service.create_video("b", state="ready", total_frames=50, initial_cuts=()))
    rita = await logged_in(live, "rita")
    try:
        assert (await rita.get("/api/videos/999/events")).status_code == 404
        async with rita.stream("GET", f"/api/videos/{first}/events") as a, \
                rita.stream("GET", f"/api/videos/{second}/events") as b:
            la, lb = a.aiter_lines(), b.aiter_lines()
            assert await next_event(la) == ("cuts", {"cut_version": 0})
            assert await next_event(lb) == ("cuts", {"cut_version": 0})
            live.call(review.add_cut(second, 20, user="x"))
            assert await next_event(lb) == ("cuts", {"cut_version": 1})
            # The other video's stream only sees heartbeats.
            assert await next_event(la, timeout=2.0) == (":", "keep-alive")
            assert len(live.app.state.hub._watches) == 2
    finally:
        await rita.aclose()


async def test_events_need_login(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url) as anonymous:
        response = await anonymous.get("/api/videos/1/events")
    assert response.status_code == 401


@pytest.mark.parametrize("end", ["logout", "disable"])
async def test_a_stream_ends_when_its_session_does(live: LiveServer, end: str) -> None:
    live.call(users.add_user("rita", PASSWORD))
    video = live.call(videos_service.create_video("v", state="ready", total_frames=90, initial_cuts=(30,)))
    rita, other = await logged_in(live, "rita"), await logged_in(live, "rita")
    try:
        async with rita.stream("GET", f"/api/videos/{video}/events") as stream:
            lines = stream.aiter_lines()
            assert await next_event(lines) == ("cuts", {"cut_version": 0})
            if end == "logout":  # the session of this stream, ended from another tab of the same browser
                other.cookies.set("heaters_session", rita.cookies["heaters_session"])
                assert (await other.post("/logout", follow_redirects=False)).status_code == 303
            else:
                live.call(users.set_active("rita", False))
            live.call(review.add_cut(video, 45, user="console"))
            with pytest.raises(EOFError):  # the change is not sent: the stream ends instead
                await next_event(lines, timeout=3.0)
    finally:
        await rita.aclose()
        await other.aclose()
