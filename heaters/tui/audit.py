"""Audit log screen: a live tail of cut operations and review decisions, filterable by video, user and kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Header, Input, Static

from heaters.db.tables import OPERATION_KINDS
from heaters.services import videos
from heaters.tui import format as fmt
from heaters.tui.base import PollingScreen

BACKLOG = 200  # rows loaded when the filters change; the tail then only fetches what is newer


@dataclass(frozen=True)
class Filters:
    video: int | None = None
    user: str | None = None
    kind: str | None = None


@dataclass
class Batch:
    filters: Filters
    rows: list[dict[str, Any]]  # oldest first
    fresh: bool  # True: replace the table; False: append to it


class AuditScreen(PollingScreen):
    """Newest operations at the bottom, like ``tail -f``; the table follows the tail while the cursor is on it."""

    CSS_PATH = "audit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filters", "Filter", key_display="/", tooltip="Filter by video, user and kind"),
        Binding("o", "open", "Open video", tooltip="Open the selected operation's video in the cut editor"),
        Binding("escape", "leave_filters", "Table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.shown_filters: Filters | None = None
        self.last_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder="video id", id="filter-video", restrict=r"\d*")
            yield Input(placeholder="user", id="filter-user")
            yield Input(placeholder="kind", id="filter-kind",
                        suggester=SuggestFromList(OPERATION_KINDS, case_sensitive=False))
        table: DataTable[str] = DataTable(id="operations", cursor_type="row", zebra_stripes=True)
        table.border_title = "Audit log"
        yield table
        yield Static(id="problem")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#operations", DataTable).add_columns(
            "op", "time (UTC)", "video", "user", "kind", "frame", "from", "removed", "created", "version"
        )
        self.query_one("#problem", Static).display = False
        self.query_one("#operations", DataTable).focus()
        super().on_mount()

    async def fetch(self) -> Batch:
        f = self.filters
        if f != self.shown_filters or self.last_id is None:
            rows = await videos.audit_log(f.video, user=f.user, kind=f.kind, limit=BACKLOG)
            return Batch(f, list(reversed(rows)), fresh=True)
        newer = await videos.audit_log(f.video, user=f.user, kind=f.kind, after_id=self.last_id, limit=BACKLOG)
        return Batch(f, newer, fresh=False)

    def show(self, batch: Batch) -> None:
        if batch.filters != self.filters:  # the filters changed while this batch was loading: drop it
            self.reload()
            return
        table = self.query_one("#operations", DataTable)
        following = not table.row_count or table.cursor_row >= table.row_count - 1
        if batch.fresh:
            table.clear()
            self.shown_filters = batch.filters
            self.last_id = None
        for op in batch.rows:
            table.add_row(
                str(op["id"]), fmt.stamp(op["created_at"]), str(op["source_video"]), op["user"], op["kind"],
                fmt.frame(op["frame"]), fmt.frame(op["old_frame"]), fmt.ids(op["removed_clip_ids"]),
                fmt.ids(op["created_clip_ids"]), str(op["cut_version"]), key=str(op["id"]),
            )
            self.last_id = op["id"]
        if self.last_id is None:
            self.last_id = 0  # empty log: tail everything from the start
        if following and table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)
        table.border_subtitle = f"{table.row_count} operations"

    # --- events and actions ------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        video = self.query_one("#filter-video", Input).value.strip()
        user = self.query_one("#filter-user", Input).value.strip()
        kind = self.query_one("#filter-kind", Input).value.strip().lower()
        self.filters = Filters(int(video) if video else None, user or None, kind or None)
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#operations", DataTable).focus()

    def action_focus_filters(self) -> None:
        self.query_one("#filter-video", Input).focus()

    def action_leave_filters(self) -> None:
        self.query_one("#operations", DataTable).focus()

    def action_open(self) -> None:
        table = self.query_one("#operations", DataTable)
        if not table.row_count:
            self.notify("no operation selected", severity="warning")
            return
        video = table.get_row_at(table.cursor_row)[2]
        self.heaters.open_video(int(video))
