"""Editing like an editor in headless Chromium: play from a clip's first frame, trim in one key, take an
approval back, and refusals that name their real reason. Results are checked in the database."""

from __future__ import annotations

from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import LiveServer, db_call, open_review, wait_frame
from tests.browser.test_review_page import clip_rows, cut_version

pytestmark = pytest.mark.browser


def set_state(settings: Settings, clip_id: int, state: str) -> None:
    from heaters.db.tables import Clip

    db_call(settings, lambda: Clip.update({Clip.state: state}).where(Clip.id == clip_id))


def press_and_wait(page: Any, key: str) -> None:
    version = cut_version(page)
    page.keyboard.press(key)
    page.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")


def test_space_on_a_clips_first_frame_plays_that_clip(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.evaluate("() => { window.painted = []; window.heaters.player.subscribe((f) => window.painted.push(f)); }")
    for _ in range(4):
        page.evaluate("window.heaters.player.seek(30)")
        wait_frame(page, 30)
        page.evaluate("window.painted = []")
        page.keyboard.press("Space")
        page.wait_for_function("window.heaters.player.frame > 33")
        page.keyboard.press("Space")
        assert min(page.evaluate("window.painted")) >= 30, page.evaluate("window.painted")
        assert page.inner_text("[data-clip-range]").startswith("30–59")
    # The next decision lands on the clip that was playing.
    page.keyboard.press("s")
    wait_frame(page, 60)
    assert [r["state"] for r in clip_rows(browser_settings, video_id)] == ["pending_review", "skipped",
                                                                          "pending_review"]


def test_trim_in_and_out_in_one_key_each_and_one_undo(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.evaluate("window.heaters.player.seek(40)")
    wait_frame(page, 40)
    press_and_wait(page, "i")
    spans = [(r["start_frame"], r["end_frame"], r["state"]) for r in clip_rows(browser_settings, video_id)]
    assert spans[1:3] == [(30, 40, "rejected"), (40, 60, "pending_review")]
    assert page.inner_text("[data-clip-range]").startswith("40–59")
    assert page.inner_text("[data-in-clip]") == "1 / 20"
    page.evaluate("window.heaters.player.seek(49)")
    wait_frame(page, 49)
    press_and_wait(page, "o")
    spans = [(r["start_frame"], r["end_frame"], r["state"]) for r in clip_rows(browser_settings, video_id)]
    assert spans[1:4] == [(30, 40, "rejected"), (40, 50, "pending_review"), (50, 60, "rejected")]
    assert page.inner_text("[data-in-clip]") == "10 / 10"
    press_and_wait(page, "z")
    spans = [(r["start_frame"], r["end_frame"], r["state"]) for r in clip_rows(browser_settings, video_id)]
    assert spans[1:3] == [(30, 40, "rejected"), (40, 60, "pending_review")]
    # The in-clip counter follows a merge at once (it used to keep the old clip's length).
    page.keyboard.press("Shift+X")
    page.wait_for_function("document.querySelector('[data-in-clip]').textContent.endsWith('/ 50')")


def test_z_right_after_approving_takes_the_approval_back_even_if_export_started(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.keyboard.press("a")
    wait_frame(page, 30)
    first = clip_rows(browser_settings, video_id)[0]
    set_state(browser_settings, first["id"], "exporting")  # a worker took the export at once
    press_and_wait(page, "z")
    row = clip_rows(browser_settings, video_id)[0]
    assert (row["state"], row["reviewed_by"]) == ("pending_review", "")
    assert "changed" not in page.inner_text("#review-status")


def test_reopen_an_exported_clip_and_refusals_say_why(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    from heaters.db.tables import CutOperation

    first = clip_rows(browser_settings, video_id)[0]
    set_state(browser_settings, first["id"], "exported")
    page = new_page()
    open_review(page, server, "alice", video_id, clip_id=first["id"])
    # An edit touching the exported clip is refused with the clip's own state, not "someone else".
    page.evaluate("window.heaters.player.seek(10)")
    wait_frame(page, 10)
    assert page.is_disabled("[data-action=addCut]")
    page.evaluate("window.heaters.review.state.clip.state = 'pending_review'")  # as if the page were behind
    page.keyboard.press("c")
    page.wait_for_function("document.getElementById('review-status').textContent.includes('is exported')")
    assert "Someone else" not in page.inner_text("#review-status")
    page.once("dialog", lambda dialog: dialog.accept("wrong out point"))
    press_and_wait(page, "Shift+A")
    assert clip_rows(browser_settings, video_id)[0]["state"] == "pending_review"
    op = db_call(browser_settings, lambda: CutOperation.select().where(
        CutOperation.kind == "reopen").output(load_json=True).first())
    assert (op["user"], op["metadata"]["reason"]) == ("alice", "wrong out point")
