"""Progress in words: the time left, the amount done, a video's status line and its length."""

from __future__ import annotations

from fractions import Fraction

import pytest

from heaters import progress


@pytest.mark.parametrize(("given", "said"), [
    pytest.param({"percent": 25.0, "seconds": 10.0}, "30 s left", id="seconds"),
    pytest.param({"percent": 10.0, "seconds": 60.0}, "9 min left", id="minutes"),
    pytest.param({"percent": 1.0, "seconds": 600.0}, "16.5 h left", id="hours"),
    pytest.param({"percent": 50.0, "seconds": 0.5}, "", id="too-early-to-tell"),
    pytest.param({"percent": 100.0, "seconds": 30.0}, "", id="finished"),
    pytest.param({"percent": 40.0}, "", id="no-clock"),
])
def test_time_left_is_the_pace_so_far_applied_to_what_remains(given: dict, said: str) -> None:
    assert progress.time_left(given) == said


def test_status_of_a_running_encode_says_stage_percent_and_time_left() -> None:
    video = {"state": "encoding", "progress": {"stage": "encode", "percent": 25.0, "frames": 250, "total": 1000,
                                               "seconds": 10.0}}
    status = progress.video_status(video)
    assert status == {"working": True, "finished": False, "percent": 25.0, "text": "encode 25% · 30 s left",
                      "left": 30.0}


def test_status_of_an_encode_in_segments_counts_them() -> None:
    video = {"state": "encoding", "progress": {"stage": "encode", "percent": 40.0, "segments": 10,
                                               "segments_done": 4, "seconds": 120.0}}
    assert progress.video_status(video)["text"] == "encode 40% · 4/10 segments · 3 min left"


def test_status_names_the_step_after_the_last_frame_instead_of_a_time() -> None:
    video = {"state": "encoding", "progress": {"stage": "encode", "percent": 100.0, "seconds": 50.0,
                                               "step": "verifying and indexing"}}
    assert progress.video_status(video)["text"] == "encode 100% · verifying and indexing"


@pytest.mark.parametrize(("state", "stored", "text", "finished"), [
    pytest.param("ready", {"stage": "detect", "percent": 100.0}, "done", True, id="ready-says-done"),
    pytest.param("encode_failed", {"stage": "encode", "percent": 60.0}, "", True, id="failed-shows-no-progress"),
    pytest.param("downloaded", {"stage": "download", "percent": 100.0}, "waiting for encode", False, id="queued"),
    pytest.param("detecting", {"stage": "encode", "percent": 100.0}, "detect starting", False, id="claimed"),
])
def test_status_outside_a_running_stage(state: str, stored: dict, text: str, finished: bool) -> None:
    status = progress.video_status({"state": state, "progress": stored})
    assert status["text"] == text and status["finished"] is finished and status["percent"] is None


@pytest.mark.parametrize(("frames", "fps", "shown"), [
    pytest.param(190, Fraction(25), "0:07", id="short"),
    pytest.param(107892, Fraction(30000, 1001), "59:59", id="ntsc-under-an-hour"),
    pytest.param(90000, Fraction(25), "1:00:00", id="an-hour"),
    pytest.param(0, Fraction(25), "", id="not-encoded"),
    pytest.param(100, None, "", id="no-rate"),
])
def test_duration_is_a_timecode(frames: int, fps: Fraction | None, shown: str) -> None:
    assert progress.duration(frames, fps) == shown
