"""Videos screen: every video's state, progress, clips and MECE status; filtering, sorting, opening."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input

from heaters.db.tables import Clip
from heaters.settings import Settings
from heaters.tui.editor import EditorScreen
from tests.tui.conftest import Seed, fresh, make_app, until


def column(table: DataTable[Any], index: int) -> list[str]:
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


async def test_rows_show_progress_clips_and_mece(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    # Break one video's partition behind the services' back: the screen must name the exact violation.
    await Clip.update({Clip.end_frame: 110}).where((Clip.source_video == ids.locked) & (Clip.start_frame == 0))
    app = make_app(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("2")
        screen = await fresh(pilot)
        table = screen.query_one("#videos", DataTable)
        assert table.get_row(str(ids.ready)) == [
            str(ids.ready), "harbour walk", "ready", "", "300", "25", "3 pend 1 appr", "valid"]
        assert table.get_row(str(ids.running))[2:4] == ["downloading", "download 42%"]
        assert table.get_row(str(ids.locked))[5:] == [
            "29.970", "1 expd 1 xfail", "gap at frame 110: frames 110..119 are in no clip"]


async def test_filter_sort_and_open(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        screen = await fresh(pilot)
        table = screen.query_one("#videos", DataTable)
        assert column(table, 0) == [str(i) for i in sorted((ids.ready, ids.failed, ids.locked, ids.running))]
        await pilot.press("slash")
        await until(pilot, lambda: screen.query_one("#filter", Input).has_focus)
        await pilot.press(*"failed")
        assert screen.query_one("#filter", Input).value == "failed"
        assert column(table, 1) == ["city at night"]
        await pilot.press("escape")
        screen.query_one("#filter", Input).value = "ready"
        await until(pilot, lambda: column(table, 1) == ["harbour walk", "ocean"])
        await pilot.press("s")  # id -> title
        assert column(table, 1) == ["harbour walk", "ocean"]
        screen.query_one("#filter", Input).value = ""
        await until(pilot, lambda: table.row_count == 4)
        assert column(table, 1) == ["city at night", "harbour walk", "mountain pass", "ocean"]
        await pilot.press("s")  # title -> state
        assert column(table, 2) == ["downloading", "encode_failed", "ready", "ready"]
        table.move_cursor(row=table.get_row_index(str(ids.locked)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loads > 0)
        assert app.screen.video_id == ids.locked  # type: ignore[attr-defined]


async def test_a_video_with_a_warning_is_marked_and_the_warning_shown(seeded: tuple[Settings, Seed]) -> None:
    from heaters.db.tables import SourceVideo

    settings, ids = seeded
    await SourceVideo.update({SourceVideo.warning: "the file is truncated, 3.6 s are missing"}).where(
        SourceVideo.id == ids.ready
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("2")
        screen = await fresh(pilot)
        table = screen.query_one("#videos", DataTable)
        assert table.get_row(str(ids.ready))[2] == "ready ⚠"
        table.move_cursor(row=table.get_row_index(str(ids.ready)))
        await until(pilot, lambda: any("truncated" in str(n.message) for n in app._notifications))
        screen.query_one("#filter", Input).value = "truncated"
        await until(pilot, lambda: column(table, 0) == [str(ids.ready)])
