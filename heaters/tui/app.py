"""``HeatersApp(settings)``: the operator console, its connections and its navigation.

The app owns one database engine and one Redis client, both opened on its own event loop (Piccolo and
redis-py's asyncio clients are bound to the loop that first uses them) and closed when it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from textual.app import App
from textual.binding import Binding, BindingType

from heaters.db.tables import ALL_TABLES
from heaters.services import status
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.settings import Settings
from heaters.tui.audit import AuditScreen
from heaters.tui.commands import ActionCommands
from heaters.tui.editor import EditorScreen
from heaters.tui.help import HelpScreen
from heaters.tui.pipeline import PipelineScreen
from heaters.tui.videos import VideosScreen

T = TypeVar("T")
CALLS_GRACE_SECONDS = 5.0  # how long quitting waits for database calls still running


def operator_name(user: str | None = None) -> str:
    """The name written to the audit log: ``--user``/``HEATERS_USER`` when given, else the OS login."""
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): still record something honest
        return "operator"


class HeatersApp(App[None]):
    """Pipeline, videos, cut editor and audit log over the configured database and queue."""

    TITLE = "heaters"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {"pipeline": PipelineScreen, "videos": VideosScreen, "audit": AuditScreen}
    DEFAULT_MODE = "pipeline"
    COMMANDS = App.COMMANDS | {ActionCommands}
    # Larger terminals get side-by-side panels (see pipeline.tcss). Textual types this as a mutable class var.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('pipeline')", "Pipeline", tooltip="Show the pipeline: states, queues, failures"),
        Binding("2", "switch_mode('videos')", "Videos", tooltip="Show all videos with their MECE status"),
        Binding("3", "switch_mode('audit')", "Audit", tooltip="Show the audit log of cut operations"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show the keys of every screen"),
        Binding("q", "quit", "Quit", tooltip="Quit the console"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        user: str | None = None,
        refresh_seconds: float = 1.5,
        clock: Callable[[], datetime] = status.utcnow,
        redis_factory: Callable[[Settings], Any] = status.open_redis,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.user = operator_name(user)
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._redis_factory = redis_factory
        self._redis: Any = None
        self._exit_stack = contextlib.AsyncExitStack()
        self._connected = asyncio.Event()
        self._connect_error: BaseException | None = None
        self._previous_engines: list[Any] = []
        self._calls: set[asyncio.Task[Any]] = set()  # database calls still running (see ``call``)
        self._broker_attached = False
        self.tasks: TaskQueue = OFFLINE  # where retries and approvals go; a live queue once Redis answers
        self.sub_title = f"operator {self.user}"

    # --- connections -------------------------------------------------------------------------------------
    async def on_load(self) -> None:
        from heaters.db.engine import connect

        # Tables are bound globally; remember the previous engine so an embedding process gets it back.
        self._previous_engines = [table._meta._db for table in ALL_TABLES]
        try:
            await self._exit_stack.enter_async_context(connect(self.settings))
        except Exception as exc:  # reported by every screen instead of a traceback
            self._connect_error = exc
        self._connected.set()

    async def database_ready(self) -> None:
        """Wait until the engine is bound; raise the connection error if there is none."""
        await self._connected.wait()
        if self._connect_error is not None:
            raise self._connect_error

    async def call(self, work: Awaitable[T]) -> T:
        """Await ``work`` (a database or Redis call) so that cancelling the caller does not cancel it.

        Textual cancels a screen's workers on quit without waiting for them; a query cut off that way leaves
        its database thread to answer a loop that has closed. Calls run to the end instead, and the app waits
        for them before it closes the engine.
        """
        task = asyncio.ensure_future(work)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return await asyncio.shield(task)

    async def on_unmount(self) -> None:
        if self._calls:  # a hung database must not keep the console from quitting
            await asyncio.wait(self._calls, timeout=CALLS_GRACE_SECONDS)
        await self._exit_stack.aclose()
        for table, engine in zip(ALL_TABLES, self._previous_engines, strict=False):
            table._meta._db = engine
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        self.tasks.close()
        self.tasks = OFFLINE

    async def queue_depths(self) -> tuple[list[status.QueueDepth] | None, str]:
        """Depths per queue, or ``None`` and the reason: a Redis outage must not stop the console."""
        from redis.exceptions import RedisError

        if self._redis is None:
            try:
                self._redis = self._redis_factory(self.settings)
            except ValueError as exc:  # a malformed REDIS_URL
                return None, f"REDIS_URL is not usable: {exc}"
            if self._redis is None:  # looked up again next time: the workers may start meanwhile
                return None, "embedded Redis not running (start `heaters up` or set REDIS_URL)"
        try:
            depths = await status.queue_depths(self._redis, self.settings.redis_namespace)
        except (RedisError, OSError) as exc:
            # redis-py's messages repeat themselves ("Error 111 connecting to h:p. Connect call failed …")
            return None, f"cannot reach Redis: {str(exc).split('. ')[0]}"
        self._attach_broker()
        return depths, ""

    def _attach_broker(self) -> None:
        """Once Redis has answered, send the work this console queues (retry, approve) straight to it.

        Like the CLI, the console only ever sends; without a broker the dispatcher finds the rows anyway.
        The broker is attached only after Redis answered, so its (untimed) connect cannot stall the console.
        """
        from heaters.services.broker import try_broker

        if self._broker_attached:
            return
        self._broker_attached = True
        self.tasks = TaskQueue(try_broker(self.settings), lease_seconds=self.settings.lease_seconds)

    # --- navigation --------------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_video(self, video_id: int) -> None:
        """Open the cut editor of ``video_id`` over the current screen."""
        self.push_screen(EditorScreen(video_id))
