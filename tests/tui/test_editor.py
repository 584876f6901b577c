"""The cut editor driven by keys against a real database: edits land in the database and the audit log,
refusals carry the services layer's reason and change nothing, edits made elsewhere show up."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from heaters.db.tables import Clip, CutOperation
from heaters.services import review, videos
from heaters.settings import Settings
from heaters.tui.app import operator_name
from heaters.tui.editor import EditorScreen
from heaters.tui.prompt import FramePrompt
from tests.tui.conftest import Seed, fresh, make_app, notifications, until


async def open_editor(pilot: Pilot[Any], video_id: int) -> EditorScreen:
    pilot.app.open_video(video_id)  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen.loads > 0)
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen


async def type_frames(pilot: Pilot[Any], key: str, text: str) -> tuple[str, str]:
    """Press an editor key, replace the suggested frames with ``text``, apply; returns the outcome's notice."""
    app = pilot.app
    before = len(app._notifications)
    await pilot.press(key)
    # Keys pressed before the field has focus would go nowhere.
    await until(pilot, lambda: isinstance(app.screen, FramePrompt) and app.screen.focused is not None)
    app.screen.query_one("#frames", Input).value = ""
    await pilot.press(*text, "enter")
    await until(pilot, lambda: len(app._notifications) > before)
    return notifications(app)[-1]


async def state_of(video_id: int) -> tuple[int, tuple[int, ...], int]:
    video = await videos.get_video(video_id)
    return video["cut_version"], await videos.current_cuts(video_id), await CutOperation.count()


async def test_add_move_remove_by_frame_number(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        assert screen.version == 2
        assert await type_frames(pilot, "c", "60") == ("information", "cut added at frame 60 (version 3)")
        assert await videos.current_cuts(ids.ready) == (60, 100, 150, 200)
        # The notice comes before the screen has reloaded; the next edit is made on the reloaded version.
        await until(pilot, lambda: screen.version == 3)
        assert await type_frames(pilot, "m", "150->170") == (
            "information", "cut moved from frame 150 to 170 (version 4)")
        assert await videos.current_cuts(ids.ready) == (60, 100, 170, 200)
        await until(pilot, lambda: screen.version == 4)
        assert await type_frames(pilot, "x", "100") == ("information", "cut at frame 100 removed (version 5)")
        assert await videos.current_cuts(ids.ready) == (60, 170, 200)
        await until(pilot, lambda: screen.version == 5)
        table = screen.query_one("#clips", DataTable)
        # Each row: the clip's number (as the review page says it), its id, start, end, length.
        assert [table.get_row_at(i)[2:5] for i in range(table.row_count)] == [
            ["0", "60", "60"], ["60", "170", "110"], ["170", "200", "30"], ["200", "300", "100"]]
        # Numbers stay with the clips: 1 was split at 60 (its right part is the new 5), 5 then took 2 over when
        # the cut at 100 went, 4 is the seed's split of 2, and 3 never changed.
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["1", "5", "4", "3"]
        assert "version 5" in str(screen.query_one("#video-info", Static).render())
        assert "MECE valid" in str(screen.query_one("#video-info", Static).render())
    ops = await CutOperation.select().where(CutOperation.user == "ana").order_by(CutOperation.id)
    assert [(o["kind"], o["frame"], o["old_frame"]) for o in ops] == [
        ("add", 150, None), ("add", 60, None), ("move", 170, 150), ("remove", 100, None)]
    assert [severity for severity, _ in notifications(app)] == ["information"] * 3


@pytest.mark.parametrize(("key", "text", "reason"), [
    pytest.param("c", "300", "out of range", id="out-of-range"),
    pytest.param("c", "100", "already a cut", id="at-a-boundary"),
    pytest.param("c", "102", "too close", id="too-close"),
    pytest.param("x", "120", "is exported", id="exported-clip"),
    pytest.param("m", "7 20", "not a cut", id="not-a-cut"),
])
async def test_refusals_show_the_reason_and_change_nothing(
    seeded: tuple[Settings, Seed], key: str, text: str, reason: str
) -> None:
    settings, ids = seeded
    video = ids.locked if reason == "is exported" else ids.ready
    app = make_app(dataclasses.replace(settings, min_clip_frames=5))
    before = await state_of(video)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_editor(pilot, video)
        severity, message = await type_frames(pilot, key, text)
    assert severity == "error" and reason in message, message
    assert await state_of(video) == before


async def test_stale_version_is_refused_then_the_new_version_appears(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        # Someone else edits the video (browser, CLI) while the console still shows version 2.
        await review.add_cut(ids.ready, 250, user="bob", expected_version=2)
        before = await state_of(ids.ready)
        severity, message = await type_frames(pilot, "c", "50")
        assert severity == "error" and "version is 3, not 2" in message
        assert await state_of(ids.ready) == before
        await fresh(pilot)  # the next poll shows the other operator's cut without a restart
        assert screen.version == 3
        table = screen.query_one("#clips", DataTable)
        assert [table.get_row_at(i)[2] for i in range(table.row_count)] == ["0", "100", "150", "200", "250"]


async def test_edits_made_elsewhere_appear_on_the_next_poll(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings, refresh_seconds=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        await review.remove_cut(ids.ready, 150, user="bob", expected_version=2)
        await until(pilot, lambda: screen.version == 3)  # no key pressed: the timer found it
        table = screen.query_one("#clips", DataTable)
        assert [table.get_row_at(i)[2:4] for i in range(table.row_count)] == [
            ["0", "100"], ["100", "200"], ["200", "300"]]


async def test_a_reviewer_claim_is_shown(seeded: tuple[Settings, Seed]) -> None:
    from heaters.services import claims

    settings, ids = seeded
    await claims.claim(ids.ready, "bob", lease_seconds=300)
    app = make_app(settings, clock=review.now)  # the claim's lease runs on the real clock
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        assert "bob is reviewing it" in str(screen.query_one("#video-info", Static).render())


def test_operator_name_prefers_the_option_then_the_login() -> None:
    assert operator_name("ana") == "ana"
    assert operator_name(None)  # the OS login; never empty


async def test_undo_and_redo(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        await type_frames(pilot, "c", "250")
        assert await videos.current_cuts(ids.ready) == (100, 150, 200, 250)
        await until(pilot, lambda: screen.version == 3)
        count = len(app._notifications)
        await pilot.press("z")
        await until(pilot, lambda: len(app._notifications) > count and screen.version == 4)
        assert await videos.current_cuts(ids.ready) == (100, 150, 200)
        await pilot.press("Z")
        await until(pilot, lambda: screen.version == 5)
        assert await videos.current_cuts(ids.ready) == (100, 150, 200, 250)
    kinds = [o["kind"] for o in await CutOperation.select(CutOperation.kind).order_by(CutOperation.id)]
    assert kinds[-3:] == ["add", "undo", "redo"]


async def test_review_decisions_on_the_selected_clip(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_editor(pilot, ids.ready)
        table = screen.query_one("#clips", DataTable)
        for row, key, state in ((1, "s", "skipped"), (2, "r", "rejected"), (3, "a", "approved")):
            table.move_cursor(row=row)
            clip_id = int(table.get_row_at(row)[1])
            version = screen.version
            await pilot.press(key)
            await until(pilot, lambda v=version: screen.version == v + 1)  # type: ignore[misc]
            clip = await Clip.select().where(Clip.id == clip_id).first()
            assert (clip["state"], clip["reviewed_by"]) == (state, "ana")
        await until(pilot, lambda: table.get_row_at(3)[7] == "approved" and table.get_row_at(3)[8] == "ana")


async def test_go_to_frame_selects_its_clip_and_escape_goes_back(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        screen = await open_editor(pilot, ids.ready)
        await pilot.press("g", *"175", "enter")
        table = screen.query_one("#clips", DataTable)
        await until(pilot, lambda: table.get_row_at(table.cursor_row)[2:4] == ["150", "200"])
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "VideosScreen")
