"""Audit log screen: the tail of operations with removed/created clips, filters, and live updates."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input

from heaters.services import review
from heaters.settings import Settings
from tests.tui.conftest import Seed, fresh, make_app, until


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_tail_filters_and_live_updates(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("3")
        screen = await fresh(pilot)
        table = screen.query_one("#operations", DataTable)
        assert rows(table) == [
            ["1", "2026-01-02 03:05:05", str(ids.ready), "ana", "add", "150", "-", "2", "4,5", "1"],
            ["2", "2026-01-02 03:06:05", str(ids.ready), "bob", "approve", "0", "-", "-", "-", "2"],
        ]
        # Live: an operation made elsewhere is appended at the bottom, and the cursor follows the tail.
        await review.move_cut(ids.ready, 150, 160, user="carl")
        await fresh(pilot)
        assert rows(table)[-1][3:9] == ["carl", "move", "160", "150", "4,5", "8,9"]
        assert table.cursor_row == 2
        screen.query_one("#filter-user", Input).value = "bob"
        await until(pilot, lambda: [r[3] for r in rows(table)] == ["bob"])
        screen.query_one("#filter-user", Input).value = ""
        screen.query_one("#filter-kind", Input).value = "ADD"
        await until(pilot, lambda: [r[4] for r in rows(table)] == ["add"])
        screen.query_one("#filter-kind", Input).value = ""
        screen.query_one("#filter-video", Input).value = str(ids.locked)
        await until(pilot, lambda: table.row_count == 0 and screen.shown_filters.video == ids.locked)
        await review.skip((await _first_clip(ids.locked)), user="dora")  # appears under the active filter
        await fresh(pilot)
        assert [r[3:5] for r in rows(table)] == [["dora", "skip"]]


async def test_video_filter_accepts_digits_only(seeded: tuple[Settings, Seed]) -> None:
    settings, _ = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3", "slash")
        field = app.screen.query_one("#filter-video", Input)
        await until(pilot, lambda: field.has_focus)
        await pilot.press(*"x1y")
        assert field.value == "1"


async def _first_clip(video_id: int) -> int:
    from heaters.services import videos

    clips = await videos.live_clips(video_id)
    return int(next(c["id"] for c in clips if c["state"] == "export_failed"))
