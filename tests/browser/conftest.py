"""Fixtures for end-to-end tests in headless Chromium against a real server (see ``live.py``).

One proxy serves the session, and one server and one browser each module (they stop before other tests run);
every test gets a video of its own, so tests do not see each other's edits. Without Chromium (or Playwright)
the tests skip locally and fail in CI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import (
    PASSWORD,
    LiveServer,
    Proxy,
    add_video,
    chromium_available,
    db_call,
    launch,
    make_proxy,
    prepare_database,
)
from tests.conftest import POSTGRES_URL, require_service

REVIEWERS = ("alice", "bob")


@pytest.fixture(scope="session")
def browser_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not chromium_available():
        require_service("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_service("the playwright package is not installed")
    data = tmp_path_factory.mktemp("browser") / "data"
    settings = Settings.from_env({}, data_dir=data, database_url=POSTGRES_URL, secret_key="browser-test-key",
                                 min_clip_frames=1)
    prepare_database(settings)

    async def users() -> None:
        from heaters.services.users import add_user

        for name in REVIEWERS:
            await add_user(name, PASSWORD, "reviewer")

    db_call(settings, users)
    return settings


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory, browser_settings: Settings) -> Proxy:
    """90 frames of 320x180 at 30 fps in three shots (cuts at 30 and 60), every frame numbered."""
    return make_proxy(tmp_path_factory.mktemp("proxy"))


@pytest.fixture(scope="module")
def server(browser_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(browser_settings, tmp_path_factory.mktemp("logs") / "server.log") as live:
        yield live


@pytest.fixture(scope="module")
def fallback_server(browser_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The same installation served with WebCodecs switched off: the page must use the <video> element."""
    settings = dataclasses.replace(browser_settings, webcodecs_enabled=False)
    with LiveServer(settings, tmp_path_factory.mktemp("logs") / "fallback.log") as live:
        yield live


@pytest.fixture(scope="module")
def browser(browser_settings: Settings) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Make pages in fresh browser contexts (separate cookies: separate reviewers); closed after the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def video_id(browser_settings: Settings, proxy: Proxy) -> int:
    """A fresh ready video on the shared proxy, cut at the shot changes (clips [0,30) [30,60) [60,90))."""
    return db_call(browser_settings, lambda: add_video(browser_settings, proxy))
