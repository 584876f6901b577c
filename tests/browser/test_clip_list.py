"""The clip list beside the player, in headless Chromium: every clip in frame order with a thumbnail, click
or Up/Down to open, a state filter, and a long list rendered as a handful of rows."""

from __future__ import annotations

from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import LiveServer, Proxy, add_video, db_call, open_review, wait_frame

pytestmark = pytest.mark.browser


def rows(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#clip-list .clip-row", "rs => rs.map(r => r.textContent)"))


def test_clip_list_opens_clips_filters_and_draws_thumbnails(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    listed = rows(page)
    assert [r.split(" · ")[0] for r in listed] == ["1", "2", "3"]
    assert "00:00:01:00–00:00:01:29 · 30 f" in listed[1] and "pending review" in listed[1]
    page.wait_for_function("document.querySelectorAll('#clip-list canvas[data-painted]').length === 3",
                           timeout=5000)
    page.click("#clip-list .clip-row[data-clip] >> nth=2")
    wait_frame(page, 60)
    page.keyboard.press("ArrowUp")
    wait_frame(page, 30)
    assert page.get_attribute("#clip-list .clip-row.current", "data-clip") == page.evaluate(
        "String(window.heaters.review.state.clip.id)")
    page.keyboard.press("s")  # skipped: the filter for pending clips no longer lists it
    wait_frame(page, 60)
    page.select_option("#clip-list [data-filter]", "pending")
    assert [r.split(" · ")[0] for r in rows(page)] == ["1", "3"]
    page.select_option("#clip-list [data-filter]", "skipped")
    assert [r.split(" · ")[0] for r in rows(page)] == ["2"]


@pytest.fixture
def many_clips(browser_settings: Settings, proxy: Proxy) -> int:
    """A clip per frame of the 90-frame proxy (``bench/player.py`` measures a 1,000-clip page load)."""
    return db_call(browser_settings, lambda: add_video(browser_settings, proxy, cuts=tuple(range(1, 90))))


def test_a_long_list_renders_only_the_visible_rows(new_page: Any, server: LiveServer, many_clips: int) -> None:
    page = new_page()
    open_review(page, server, "alice", many_clips)
    assert page.evaluate("window.heaters.review.state.clips.length") == 90
    shown = page.evaluate("document.querySelectorAll('#clip-list .clip-row').length")
    assert 0 < shown < 30  # virtualised
    page.evaluate("document.querySelector('#clip-list [data-rows]').scrollTop = 80 * 44")
    page.wait_for_function("[...document.querySelectorAll('#clip-list .clip-row')]"
                           ".some((r) => r.textContent.startsWith('85 · '))")


def test_a_clip_keeps_its_number_when_a_cut_is_made_before_it(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    async def last_clip() -> int:
        from heaters.services.videos import live_clips

        return int((await live_clips(video_id))[2]["id"])

    page = new_page()
    open_review(page, server, "alice", video_id, db_call(browser_settings, last_clip))
    assert page.text_content("[data-clip-pos]") == "clip 3 of 3"

    async def cut_elsewhere() -> None:
        from heaters.services.review import add_cut

        await add_cut(video_id, 15, user="bob")

    db_call(browser_settings, cut_elsewhere)  # another reviewer, seen through the page's event stream
    page.wait_for_function("document.querySelector('[data-clip-pos]').textContent === 'clip 3 · 4 of 4'", timeout=10000)
    # In frame order the new clip (the right part of clip 1) is second, under the next free number.
    assert [r.split(" · ")[0] for r in rows(page)] == ["1", "4", "2", "3"]
