"""What every console screen shares: polling in a worker, and running service calls that may be refused.

Database and Redis calls never run in a message handler: they run in Textual workers on the app's event loop
(Piccolo is async), so the interface keeps answering keys while a query waits on a busy database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen
from textual.widgets import Static

from heaters.errors import HeatersError

if TYPE_CHECKING:
    from heaters.tui.app import HeatersApp


def describe(exc: BaseException) -> str:
    """One line for the operator: a ``HeatersError`` with its hint, anything else with its type."""
    if isinstance(exc, HeatersError):
        return f"{exc.message} — {exc.hint}" if exc.hint else exc.message
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class PollingScreen(Screen[None]):
    """A screen whose data is reloaded every ``app.refresh_seconds`` while it is the one on show.

    Subclasses implement ``fetch`` (async, may query) and ``show`` (sync, updates widgets). ``loads`` counts
    completed reloads so tests (and nothing else) can wait for fresh data.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loads = 0
        self._busy = False
        self._again = False
        self._problem = ""

    @property
    def busy(self) -> bool:
        """Whether a reload is running (or queued behind the running one)."""
        return self._busy

    @property
    def heaters(self) -> HeatersApp:
        return cast("HeatersApp", self.app)

    async def fetch(self) -> Any:
        raise NotImplementedError

    def show(self, data: Any) -> None:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.set_interval(self.heaters.refresh_seconds, self._tick)
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def _tick(self) -> None:
        if self.is_current:
            self.reload()

    def reload(self) -> None:
        """Fetch fresh data in a worker; a request while one runs is merged into one more run after it."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self.run_worker(self._reload(), group="reload", exit_on_error=False)

    async def _reload(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    await self.heaters.database_ready()
                    data = await self.heaters.call(self.fetch())
                except Exception as exc:  # the console must outlive a database outage; say what is wrong
                    self.report_problem(f"cannot load: {describe(exc)}")
                else:
                    self.report_problem("")
                    self.show(data)
                    self.loads += 1
                if not self._again:
                    return
        finally:
            self._busy = False

    def report_problem(self, text: str) -> None:
        """Show a load failure in the screen's status line (and notify once, not on every poll)."""
        if text and text != self._problem:
            self.notify(text, title="console", severity="error", timeout=6)
        self._problem = text
        for line in self.query("#problem").results(Static):
            line.update(text)
            line.display = bool(text)

    def perform(
        self, work: Callable[[], Awaitable[Any]], success: Callable[[Any], str], *, title: str = "done"
    ) -> None:
        """Run a service call in a worker; a refusal becomes an error notification carrying its reason."""

        async def run() -> None:
            try:
                await self.heaters.database_ready()
                result = await self.heaters.call(work())
            except HeatersError as exc:
                self.notify(describe(exc), title="refused", severity="error", timeout=8)
            except Exception as exc:  # a dropped connection must not close the console
                self.notify(describe(exc), title="failed", severity="error", timeout=8)
            else:
                self.notify(success(result), title=title, timeout=4)
            self.reload()

        self.run_worker(run(), group="perform", exit_on_error=False)
