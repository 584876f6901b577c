"""Pure formatting of the console's cells."""

from __future__ import annotations

from fractions import Fraction

import pytest

from heaters.tui import format as fmt


@pytest.mark.parametrize(("frames", "fps", "text"), [
    pytest.param(0, Fraction(25), "0:00:00.000", id="zero"),
    pytest.param(30000, Fraction(30000, 1001), "0:16:41.000", id="ntsc-exact"),
    pytest.param(1, Fraction(30000, 1001), "0:00:00.033", id="ntsc-one-frame"),
    pytest.param(90000 + 12, Fraction(25), "1:00:00.480", id="an-hour"),
    pytest.param(10, None, "-", id="unknown-rate"),
])
def test_timecode(frames: int, fps: Fraction | None, text: str) -> None:
    assert fmt.timecode(frames, fps) == text


def test_durations_progress_counts_and_mece() -> None:
    assert [fmt.duration(s) for s in (5, 65, -12, 7300, 90000, None)] == ["5s", "1m05s", "-12s", "2h01m", "1d01h", "-"]
    assert fmt.progress_text({"stage": "encode", "percent": 41.6}) == "encode 42%"
    assert fmt.progress_text({"stage": "download", "bytes": 3 * 2**20}) == "download 3.0 MiB"
    assert fmt.progress_text({}) == ""
    assert fmt.clip_counts({"exported": 2, "pending_review": 1, "rejected": 0}) == "1 pend 2 expd"
    assert fmt.mece_text({"mece_checked": False}) == "-"
    assert fmt.mece_text({"mece_checked": True, "mece": ["gap at 3", "overlap"]}) == "gap at 3 (+1 more)"
    assert fmt.fps_text(Fraction(30000, 1001)) == "29.970" and fmt.fps_text(Fraction(25)) == "25"
