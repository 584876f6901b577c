"""Segment arithmetic: boundaries on the CFR grid, the encoded prefix, what detection may decide."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from heaters import segments
from heaters.segments import Done, Planned


def test_boundaries_are_ceil_of_time_times_fps() -> None:
    fps = Fraction(30000, 1001)
    planned = segments.plan(30 * 60 * 30, fps, 60)
    assert [p.start for p in planned[:3]] == [0, 1799, 3597]  # ceil(60 * 29.97) = 1799, ceil(120 * 29.97) = 3597
    assert all(p.end == q.start for p, q in itertools.pairwise(planned))
    assert planned[-1].end is None and len(planned) == 30


@pytest.mark.parametrize(
    ("frames", "seconds", "expected"),
    [
        pytest.param(100, 0, [Planned(0, 0, None)], id="off"),
        pytest.param(49, 1, [Planned(0, 0, None)], id="under-two-lengths"),
        pytest.param(50, 1, [Planned(0, 0, 25), Planned(1, 25, None)], id="two"),
        pytest.param(74, 1, [Planned(0, 0, 25), Planned(1, 25, None)], id="remainder-joins-the-last"),
        pytest.param(10, 1, [Planned(0, 0, None)], id="shorter-than-one"),
    ],
)
def test_plan(frames, seconds, expected) -> None:
    assert segments.plan(frames, Fraction(25), seconds) == expected


def test_prefix_grows_in_order_whatever_order_segments_finish() -> None:
    d0, d1, d2 = Done(0, 0, 25, 25, False), Done(1, 25, 50, 25, False), Done(2, 50, None, 31, True)
    assert segments.encoded_prefix([d1], 3) == (0, False, 0)
    assert segments.encoded_prefix([d1, d0], 3) == (50, False, 2)
    assert segments.encoded_prefix([d2, d1, d0], 3) == (81, True, 3)


def test_a_short_source_ends_at_the_segment_that_reached_its_end() -> None:
    done = [Done(0, 0, 25, 25, False), Done(1, 25, 50, 12, True), Done(2, 50, None, 0, True)]
    assert segments.encoded_prefix(done, 3) == (37, True, 3)
    with pytest.raises(ValueError):
        segments.encoded_prefix([Done(0, 0, 25, 12, True), Done(1, 25, None, 5, True)], 2)


def test_detection_waits_for_the_next_segment_near_the_edge() -> None:
    assert segments.committed_edge(1000, False) == 1000 - segments.DETECT_CONTEXT
    assert segments.committed_edge(50, False) == 0
    assert segments.committed_edge(1000, True) == 1000
    assert segments.split_tail(100, [50, 100, 150, 250, 120], 200) == (120, 150)
