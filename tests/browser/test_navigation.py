"""Shuttle and navigation in headless Chromium: J/K/L (reverse exact frame by frame), speed, go-to by frame
number or timecode, and the waveform under the filmstrip."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.browser.live import LiveServer, open_review, player_frame, settled_frame, shown_number, wait_frame
from tests.browser.test_sound import sound_proxy, sound_video  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

RECORD = """() => { window.painted = [];
  window.heaters.player.subscribe((f) => window.painted.push(f)); }"""


def test_j_plays_backwards_frame_by_frame_and_l_again_doubles_the_speed(
    new_page: Any, server: LiveServer, video_id: int
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.evaluate("window.heaters.player.seek(58)")
    wait_frame(page, 58)
    page.evaluate(RECORD)
    page.keyboard.press("j")
    page.wait_for_function("window.heaters.player.frame <= 45", timeout=5000)
    page.keyboard.press("k")
    here = settled_frame(page)
    painted = page.evaluate("window.painted")
    backwards = [f for f, _ in itertools.groupby(painted) if f < 58]  # listeners also hear play/pause
    assert backwards and all(b < a for a, b in itertools.pairwise(backwards)), str(backwards)
    assert all(30 <= f < 60 for f in painted)
    # Exact: the picture on screen carries the number the player claims.
    assert shown_number(page) == player_frame(page)
    # K held: L steps one frame forward, J one back.
    page.keyboard.down("k")
    page.keyboard.press("l")
    wait_frame(page, here + 1)
    page.keyboard.press("j")
    page.keyboard.press("j")
    wait_frame(page, here - 1)
    page.keyboard.up("k")
    assert page.evaluate("window.heaters.player.playing") is False
    # L plays forwards; L again goes 2×, then 4×; the rate is shown.
    page.keyboard.press("l")
    page.keyboard.press("l")
    assert page.evaluate("window.heaters.player.rate") == 2
    page.keyboard.press("l")
    assert page.evaluate("window.heaters.player.rate") == 4
    assert page.inner_text("#rate") == "4×"
    page.keyboard.press("j")  # the other way starts again at 1× backwards
    assert page.evaluate("window.heaters.player.rate") == -1
    page.keyboard.press("k")
    page.select_option("#speed", "2")
    page.keyboard.press("Space")
    assert page.evaluate("window.heaters.player.rate") == 2
    page.keyboard.press("Space")


def test_go_to_takes_a_frame_number_or_a_timecode(new_page: Any, server: LiveServer, video_id: int) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    for typed, frame in [("00:00:02:05", 65), ("12", 12), ("1.5", 45)]:
        page.keyboard.press("g")
        assert page.is_visible("#goto input")
        page.fill("#goto input", typed)
        page.keyboard.press("Enter")
        wait_frame(page, frame)
        assert shown_number(page) == frame
        assert page.is_hidden("#goto")
    assert page.inner_text("[data-clip-range]").startswith("30–59")  # the clip under the playhead opened
    page.keyboard.press("g")
    page.fill("#goto input", "99:00:00:00")
    page.keyboard.press("Enter")
    assert "is not a frame of this video" in page.inner_text("#review-status")


def test_the_waveform_and_clip_numbers_are_drawn_on_the_timeline(
    new_page: Any, server: LiveServer, sound_video: int  # noqa: F811
) -> None:
    page = new_page()
    open_review(page, server, "alice", sound_video)
    page.wait_for_function("document.body.dataset.waveform === 'true'", timeout=5000)
    assert page.evaluate("window.heaters.review.timeline.peaks.data.length") >= 300
    assert page.evaluate("window.heaters.review.state.clips.map((c) => c.number)") == [1, 2, 3]
    assert page.inner_text("[data-clip-pos]") == "clip 1 of 3"
    assert page.is_visible(".legend")
