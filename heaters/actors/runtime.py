"""One database connection on the actors' event loop, for the life of a worker process.

Async actors run on Dramatiq's single event-loop thread per process. The database engine (a connection pool
on Postgres) is opened on that loop when the worker boots and closed when it stops: a pool belongs to the
loop that created it, so it must not be opened per message or on another loop.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from dramatiq.middleware import Middleware

from heaters.settings import Settings

log = logging.getLogger(__name__)


class DatabaseMiddleware(Middleware):
    """Connect to the database on the actors' event loop for the life of the worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stack: contextlib.AsyncExitStack | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        from heaters.db.engine import connect

        async def open_db() -> None:
            stack = contextlib.AsyncExitStack()
            await stack.enter_async_context(connect(self.settings))
            self._stack = stack

        run_on_loop(open_db())
        log.info("worker connected to the database")

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            with contextlib.suppress(Exception):
                run_on_loop(stack.aclose())


def run_on_loop(coro: Any) -> Any:
    """Run a coroutine on the worker's event loop from any other thread and wait for its result."""
    from dramatiq.asyncio import get_event_loop_thread

    thread = get_event_loop_thread()
    if thread is None:
        coro.close()
        raise RuntimeError("the worker's event loop is not running")
    return thread.run_coroutine(coro)
