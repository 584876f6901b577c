"""The review page end to end in headless Chromium: exact frames, keyboard editing, decisions, live updates.

Every frame of the test proxy carries its own number in its top strip; reading it back from the canvas
pixels proves the picture on screen is the frame the player claims.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import LiveServer, db_call, open_review, player_frame, shown_number, wait_frame

pytestmark = pytest.mark.browser


def cuts_of(settings: Settings, video_id: int) -> tuple[int, ...]:
    from heaters.services.videos import current_cuts

    return db_call(settings, lambda: current_cuts(video_id))


def clip_rows(settings: Settings, video_id: int) -> list[dict[str, Any]]:
    from heaters.services.videos import live_clips

    return db_call(settings, lambda: live_clips(video_id))


def cut_version(page: Any) -> int:
    return int(page.evaluate("Number(document.body.dataset.cutVersion)"))


def current_clip_text(page: Any) -> str:
    return str(page.inner_text("[data-clip-range]"))


def test_random_seeks_show_exactly_the_requested_frame(new_page: Any, server: LiveServer, video_id: int) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    assert page.evaluate("window.heaters.player.kind") == "webcodecs"
    assert shown_number(page) == player_frame(page) == 0
    frames = random.Random(4).sample(range(90), 20)
    shown = []
    for frame in frames:
        assert page.evaluate(f"window.heaters.player.seek({frame})") is True
        shown.append((player_frame(page), shown_number(page)))
    assert shown == [(f, f) for f in frames]


def test_keyboard_moves_by_frames_clip_edges_and_cuts(new_page: Any, server: LiveServer, video_id: int) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    steps = [("ArrowRight", 1), ("ArrowRight", 2), ("Shift+ArrowRight", 12), ("ArrowLeft", 11), ("End", 29),
             ("Shift+ArrowRight", 29), ("Home", 0), ("ArrowLeft", 0), ("]", 30), ("]", 60), ("[", 30)]
    for key, expected in steps:
        page.keyboard.press(key)
        wait_frame(page, expected)
        assert shown_number(page) == expected, key
    assert current_clip_text(page).startswith("30–59")
    assert page.inner_text("[data-frame]") == "30"
    assert page.inner_text("[data-timecode]") == "00:00:01:00"
    # Holding a step key speeds up: 1 press + 11 repeats = 8 single steps, then 4 double steps.
    for _ in range(12):
        page.keyboard.down("ArrowRight")
    page.keyboard.up("ArrowRight")
    wait_frame(page, 46)
    assert shown_number(page) == 46


def test_playback_runs_at_the_frame_rate_and_loops_the_clip(new_page: Any, server: LiveServer, video_id: int) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.evaluate("() => { window.painted = [];"
                  " window.heaters.player.subscribe((f) => window.painted.push([f, performance.now()])); }")
    page.keyboard.press("Space")
    page.wait_for_timeout(2300)  # the clip is 30 frames: one second at 30 fps, so it loops twice
    page.keyboard.press("Space")
    painted = page.evaluate("window.painted")
    frames = [f for f, _ in painted]
    assert page.evaluate("window.heaters.player.playing") is False
    assert all(0 <= f < 30 for f in frames), "playback left the clip"
    wraps = sum(1 for a, b in itertools.pairwise(frames) if b < a)
    assert wraps >= 1, frames
    # Between wraps frames only move forward, at about 30 per second (a loaded machine may drop some).
    start, end = painted[0][1], painted[-1][1]
    advanced = sum((b - a) % 30 for a, b in itertools.pairwise(frames))
    assert abs(advanced - (end - start) * 30 / 1000) <= 6, (advanced, end - start)
    page.keyboard.press("Shift+L")
    assert page.evaluate("window.heaters.player.loop") is False


def test_cut_by_key_lands_in_the_database_and_undo_removes_it(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    assert cuts_of(browser_settings, video_id) == (30, 60)
    page.evaluate("window.heaters.player.seek(12)")
    version = cut_version(page)
    page.keyboard.press("c")
    page.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")
    assert cuts_of(browser_settings, video_id) == (12, 30, 60)
    assert current_clip_text(page).startswith("12–29")  # the page now reviews the clip the playhead is in

    version = cut_version(page)
    page.keyboard.press("z")
    page.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")
    assert cuts_of(browser_settings, video_id) == (30, 60)
    assert current_clip_text(page).startswith("0–29")

    # "." moves the cut nearest the playhead one frame later.
    page.evaluate("window.heaters.player.seek(27)")
    version = cut_version(page)
    page.keyboard.press(".")
    page.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")
    assert cuts_of(browser_settings, video_id) == (31, 60)


def test_approve_queues_export_and_opens_the_next_clip(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.keyboard.press("a")
    wait_frame(page, 30)  # the next clip opened at its first frame
    states = [(r["start_frame"], r["state"], r["reviewed_by"]) for r in clip_rows(browser_settings, video_id)]
    assert states == [(0, "approved", "alice"), (30, "pending_review", ""), (60, "pending_review", "")]
    assert shown_number(page) == 30
    page.keyboard.press("r")
    wait_frame(page, 60)
    assert [r["state"] for r in clip_rows(browser_settings, video_id)] == ["approved", "rejected", "pending_review"]


def test_disallowed_actions_are_disabled_for_keys_too(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    # The first clip has no cut at its start, and a cut at its first frame would make an empty clip.
    assert page.is_disabled("[data-action=removeStart]")
    assert page.is_disabled("[data-action=addCut]")
    version = cut_version(page)
    page.keyboard.press("x")
    page.keyboard.press("c")
    assert "Not possible" in page.inner_text("#review-status")
    assert cut_version(page) == version
    assert cuts_of(browser_settings, video_id) == (30, 60)
    page.keyboard.press("?")
    assert page.is_visible("#help")
    assert "remove the cut at the clip's start" in page.inner_text("#help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")


def test_dragging_a_boundary_on_the_timeline_moves_the_cut(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.locator("#timeline").scroll_into_view_if_needed()
    box = page.locator("#timeline").bounding_box()
    x_of = "(f) => window.heaters.review.timeline.x(f)"
    y = box["y"] + box["height"] - 10  # on the clip strip, below the filmstrip
    page.mouse.move(box["x"] + page.evaluate(x_of, 30), y)
    page.mouse.down()
    page.mouse.move(box["x"] + page.evaluate(x_of, 36) + 1, y, steps=5)
    page.mouse.up()
    page.wait_for_function("window.heaters.review.state.clips[1].start_frame === 36")
    assert cuts_of(browser_settings, video_id) == (36, 60)
    # "+" zooms the timeline in around the playhead, "-" out again.
    span = "(() => { const v = window.heaters.review.timeline.view; return v.to - v.from; })()"
    before = page.evaluate(span)
    page.keyboard.press("+")
    assert page.evaluate(span) == pytest.approx(before / 2)
    page.keyboard.press("-")
    assert page.evaluate(span) == pytest.approx(before)
    # A plain click seeks (and makes the clip under the playhead current).
    page.mouse.click(box["x"] + page.evaluate(x_of, 50.5), y)
    wait_frame(page, 50)
    assert shown_number(page) == 50
    assert current_clip_text(page).startswith("36–59")


def test_two_reviewers_see_each_others_changes_and_stale_edits_are_refused(
    new_page: Any, server: LiveServer, video_id: int, browser_settings: Settings
) -> None:
    alice, bob = new_page(), new_page()
    open_review(alice, server, "alice", video_id)
    open_review(bob, server, "bob", video_id)
    version = cut_version(alice)
    alice.evaluate("window.heaters.player.seek(45)")
    alice.keyboard.press("c")
    alice.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")
    # Bob's page hears of it through server-sent events and re-renders within a second.
    bob.wait_for_function("Number(document.body.dataset.cutVersion) === "
                          f"{cut_version(alice)}", timeout=1000)
    assert bob.evaluate("document.querySelectorAll('[data-clip-pos]')[0].textContent") == "clip 1 of 4"

    # A third page that misses the live updates edits against an outdated version: refused, and reloaded.
    carol = new_page()
    carol.route("**/events", lambda route: route.abort())
    open_review(carol, server, "bob", video_id)
    version = cut_version(alice)
    alice.evaluate("window.heaters.player.seek(20)")
    alice.keyboard.press("c")
    alice.wait_for_function(f"Number(document.body.dataset.cutVersion) > {version}")
    bob.wait_for_function("document.querySelector('[data-clip-pos]').textContent === 'clip 1 of 5'", timeout=1000)
    assert cuts_of(browser_settings, video_id) == (20, 30, 45, 60)
    stale = cut_version(carol)
    carol.evaluate("window.heaters.player.seek(10)")
    carol.keyboard.press("c")
    carol.wait_for_function("document.getElementById('review-status').textContent.includes('changed')")
    assert cut_version(carol) > stale  # reloaded
    assert cuts_of(browser_settings, video_id) == (20, 30, 45, 60)  # and nothing applied


def test_video_element_fallback_steps_and_plays(
    new_page: Any, fallback_server: LiveServer, video_id: int
) -> None:
    page = new_page()
    open_review(page, fallback_server, "alice", video_id)
    assert page.evaluate("window.heaters.player.kind") == "video"
    assert page.is_hidden("#player-canvas")
    for key, expected in [("ArrowRight", 1), ("Shift+ArrowRight", 11), ("End", 29), ("Home", 0)]:
        page.keyboard.press(key)
        wait_frame(page, expected)
        assert shown_number(page, "#player-video") == expected, key
    page.keyboard.press("Space")
    page.wait_for_function("window.heaters.player.frame > 5", timeout=5000)
    page.keyboard.press("Space")
    assert page.evaluate("window.heaters.player.playing") is False


def test_browsers_without_webcodecs_get_the_video_element(new_page: Any, server: LiveServer, video_id: int) -> None:
    page = new_page()
    page.add_init_script("delete window.VideoDecoder; delete window.EncodedVideoChunk;")
    open_review(page, server, "alice", video_id)
    assert page.evaluate("window.heaters.player.kind") == "video"
    page.evaluate("window.heaters.player.seek(42)")
    wait_frame(page, 42)
    assert shown_number(page, "#player-video") == 42


def test_timeline_marks_the_cuts_detection_was_unsure_of(
    new_page: Any, server: LiveServer, browser_settings: Settings, video_id: int
) -> None:
    from heaters.db.tables import Clip

    async def mark() -> None:
        where = (Clip.source_video == video_id) & (Clip.start_frame == 30)
        await Clip.update({Clip.cut_kind: "dissolve", Clip.cut_confidence: 0.2}).where(where)
        sure = (Clip.source_video == video_id) & (Clip.start_frame == 60)
        await Clip.update({Clip.cut_kind: "hard", Clip.cut_confidence: 0.95}).where(sure)

    db_call(browser_settings, mark)
    page = new_page()
    open_review(page, server, "alice", video_id)
    page.wait_for_function("document.getElementById('timeline').dataset.lowConfidenceCuts !== undefined")
    assert page.evaluate("document.getElementById('timeline').dataset.lowConfidenceCuts") == "30"
