"""The Litestar application factory: ``create_app(settings)`` builds what ``heaters serve`` runs and tests use.

Startup connects the database (a pool on Postgres) and builds the storage; shutdown stops the live-update
poller and closes the pool. Secrets come from ``settings.secret_key`` or a key kept in the data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from heaters.db import kv
from heaters.db.engine import connect
from heaters.server.api_clips import ClipController
from heaters.server.api_cuts import CutController
from heaters.server.api_docs import PinnedSwagger
from heaters.server.api_live import LiveController
from heaters.server.api_review import EventsController, ReviewController
from heaters.server.api_videos import IndexCache, VideoController
from heaters.server.auth import derive_key, load_secret_key, secure_cookies_outermost, session_auth, session_config
from heaters.server.downloads import DownloadController
from heaters.server.errors import EXCEPTION_HANDLERS, declare_errors
from heaters.server.events import CutVersionHub
from heaters.server.health import HealthController
from heaters.server.media import LayoutCache, MediaController
from heaters.server.pages import (
    ClipPageController,
    DashboardController,
    ReviewPageController,
    VideoPageController,
)
from heaters.server.pages_auth import AuthController, UserPageController
from heaters.server.sessions import session_store
from heaters.server.throttle import LoginThrottle
from heaters.services.broker import try_broker
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.settings import Settings
from heaters.storage import create_storage

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
SWEEP_SECONDS = 3600.0  # how often expired sessions and sign-in windows are removed


def create_app(settings: Settings, *, events_interval: float = 0.4, heartbeat_seconds: float = 15.0) -> Litestar:
    """The review web app for ``settings``. ``events_interval``/``heartbeat_seconds`` tune live updates."""
    secret = load_secret_key(settings)
    hub = CutVersionHub(interval=events_interval, heartbeat=heartbeat_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with connect(settings) as engine:
            app.state.engine = engine
            await kv.delete_expired()  # ended sessions and sign-in windows of earlier runs, then hourly
            # Approvals go to the export queue at once when Redis is reachable; otherwise the dispatcher
            # finds them on its next tick.
            app.state.tasks = TaskQueue(await asyncio.to_thread(try_broker, settings),
                                        lease_seconds=settings.lease_seconds)
            sweeper = asyncio.create_task(kv.sweep_expired(SWEEP_SECONDS))
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
                app.state.tasks.close()
                app.state.tasks = OFFLINE
                await hub.close()

    sessions = session_config()
    auth = session_auth(sessions)
    return Litestar(
        route_handlers=[
            AuthController, UserPageController, DashboardController, ReviewPageController, VideoPageController,
            ClipPageController, VideoController, CutController, ClipController, ReviewController,
            EventsController, LiveController, MediaController, DownloadController, HealthController,
            create_static_files_router(path="/static", directories=[WEB_DIR / "static"], include_in_schema=False,
                                       send_as_attachment=False),
        ],
        lifespan=[lifespan],
        on_app_init=[auth.on_app_init, secure_cookies_outermost, declare_errors],
        stores={sessions.store: session_store(settings)},
        csrf_config=CSRFConfig(
            secret=derive_key(secret, "csrf").hex(), cookie_name="csrftoken", header_name="x-csrftoken",
            cookie_samesite="lax", cookie_httponly=False,  # the page's script reads it to send the header
        ),
        template_config=TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="heaters", version=_version(), path="/schema", render_plugins=[PinnedSwagger()],
            description="Review API: videos, clips, cuts, decisions, live updates. Errors are "
                        '{"error", "detail", "fields"?}. State-changing requests need the x-csrftoken header.',
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings, "storage": create_storage(settings), "hub": hub,
                     "index_cache": IndexCache(), "mp4_cache": LayoutCache(), "login_throttle": LoginThrottle(),
                     "session_config": sessions, "tasks": OFFLINE}),
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("heaters")
    except PackageNotFoundError:
        return "0"
