"""Videos screen: every video with state, progress, frames, fps, clip counts and MECE status; filter, sort, open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from heaters.services import status
from heaters.tui import format as fmt
from heaters.tui.base import PollingScreen
from heaters.tui.tables import cursor_key, replace_rows

# name -> (sort key, newest/largest first?)
SORTS: dict[str, tuple[Callable[[dict[str, Any]], Any], bool]] = {
    "id": (lambda v: v["id"], False),
    "title": (lambda v: (v["title"].lower(), v["id"]), False),
    "state": (lambda v: (v["state"], v["id"]), False),
    "frames": (lambda v: (v["total_frames"], v["id"]), True),
    "updated": (lambda v: (fmt.stamp(v["updated_at"]), v["id"]), True),
    "mece": (lambda v: (not v["mece"], v["id"]), False),  # violations first
}
TITLE_WIDTH = 32


def matches(video: dict[str, Any], terms: list[str]) -> bool:
    """Every whitespace-separated term must appear in the id, title, state or MECE text (any case)."""
    haystack = f"#{video['id']} {video['title']} {video['state']} {fmt.mece_text(video)} {video.get('warning', '')}"
    haystack = haystack.lower()
    return all(term in haystack for term in terms)


def select(videos: list[dict[str, Any]], text: str, sort: str) -> list[dict[str, Any]]:
    """The videos the filter ``text`` keeps, in ``sort`` order."""
    terms = text.lower().split()
    key, reverse = SORTS[sort]
    return sorted((v for v in videos if matches(v, terms)), key=key, reverse=reverse)


class VideosScreen(PollingScreen):
    """All videos; type to filter, ``s`` to change the order, enter to open the cut editor."""

    CSS_PATH = "videos.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open", "Open", tooltip="Open the selected video in the cut editor"),
        Binding("slash", "focus_filter", "Filter", key_display="/", tooltip="Filter the videos"),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by id, title, state, frames, last update or MECE"),
        Binding("escape", "leave_filter", "Table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.videos: list[dict[str, Any]] = []
        self.sort = "id"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder="filter: words in title, state or MECE status", id="filter")
            yield Static(id="sort")
        table: DataTable[str] = DataTable(id="videos", cursor_type="row", zebra_stripes=True)
        table.border_title = "Videos"
        yield table
        yield Static(id="problem")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#videos", DataTable).add_columns(
            "id", "title", "state", "progress", "frames", "fps", "clips", "MECE"
        )
        self.query_one("#problem", Static).display = False
        self.query_one("#videos", DataTable).focus()
        self._show_sort()
        super().on_mount()

    async def fetch(self) -> list[dict[str, Any]]:
        return await status.video_overview()

    def show(self, data: list[dict[str, Any]]) -> None:
        self.videos = data
        self._render_rows()

    def _render_rows(self) -> None:
        table = self.query_one("#videos", DataTable)
        shown = select(self.videos, self.query_one("#filter", Input).value, self.sort)
        replace_rows(table, (
            (str(v["id"]), (
                str(v["id"]), _clip(v["title"]), state_text(v),
                fmt.progress_text(v["progress"]) if v["state"] in status.ACTIVE_VIDEO_STATES else "",
                str(v["total_frames"] or "-"), fmt.fps_text(fmt.fps_of(v)), fmt.clip_counts(v["clip_counts"]),
                fmt.mece_text(v),
            )) for v in shown
        ))
        table.border_subtitle = f"{len(shown)} of {len(self.videos)}"

    def _show_sort(self) -> None:
        self.query_one("#sort", Static).update(f"sort: {self.sort}")

    # --- events and actions ------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#videos", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        video = next((v for v in self.videos if str(v["id"]) == event.row_key.value), None)
        if video is not None and video.get("warning"):
            self.notify(f"video {video['id']}: {video['warning']}", title="warning", severity="warning")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.heaters.open_video(int(event.row_key.value))

    def action_open(self) -> None:
        key = cursor_key(self.query_one("#videos", DataTable))
        if key is None:
            self.notify("no video selected", severity="warning")
            return
        self.heaters.open_video(int(key))

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one("#videos", DataTable).focus()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self._show_sort()
        self._render_rows()


def state_text(video: dict[str, Any]) -> str:
    """The state, marked when the video carries a warning (highlighting the row shows it)."""
    return f"{video['state']} ⚠" if video.get("warning") else video["state"]


def _clip(text: str) -> str:
    return text if len(text) <= TITLE_WIDTH else text[: TITLE_WIDTH - 1] + "…"
