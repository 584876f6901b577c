"""The cut algebra: exact error messages, and MECE kept by any sequence of valid operations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heaters import cuts
from heaters.cuts import Span
from heaters.errors import InvalidCut, MeceViolation


def test_spans_round_trip() -> None:
    spans = cuts.spans_from_cuts([30, 10], 50)
    assert spans == (Span(0, 10), Span(10, 30), Span(30, 50))
    assert cuts.cuts_from_spans(spans) == (10, 30)


@pytest.mark.parametrize(
    ("spans", "total", "problem"),
    [
        pytest.param([Span(0, 10), Span(12, 20)], 20, "gap at frame 10", id="gap"),
        pytest.param([Span(0, 10), Span(8, 20)], 20, "overlap between clips [0, 10) and [8, 20)", id="overlap"),
        pytest.param([Span(0, 10), Span(10, 18)], 20, "coverage short of the end: frames 18..19", id="short"),
        pytest.param([Span(3, 20)], 20, "gap at frame 0", id="late-start"),
        pytest.param([Span(0, 25)], 20, "past the last frame 19", id="too-long"),
        pytest.param([Span(0, 5), Span(5, 5), Span(5, 20)], 20, "empty or reversed clip [5, 5)", id="empty"),
    ],
)
def test_validation_names_the_problem(spans: list[Span], total: int, problem: str) -> None:
    with pytest.raises(MeceViolation, match=problem.replace("[", r"\[").replace(")", r"\)")):
        cuts.validate_spans(spans, total)


@pytest.mark.parametrize(
    ("existing", "frame", "code"),
    [
        pytest.param((), 100, "out_of_range", id="past-end"),
        pytest.param((), -1, "out_of_range", id="negative"),
        pytest.param((), 0, "at_boundary", id="video-start"),
        pytest.param((40,), 40, "at_boundary", id="existing-cut"),
        pytest.param((40,), 42, "too_close", id="too-close"),
    ],
)
def test_add_cut_refusals(existing: tuple[int, ...], frame: int, code: str) -> None:
    with pytest.raises(InvalidCut) as info:
        cuts.add_cut(existing, frame, 100, min_length=5)
    assert info.value.code == code


def test_remove_and_move_refusals() -> None:
    with pytest.raises(InvalidCut, match="not a cut"):
        cuts.remove_cut((10, 20), 15, 100)
    with pytest.raises(InvalidCut, match="may not pass its neighbours"):
        cuts.move_cut((10, 20), 10, 25, 100)
    assert cuts.move_cut((10, 20), 10, 15, 100) == (15, 20)


TOTAL = 200
operation = st.one_of(
    st.tuples(st.just("add"), st.integers(-5, TOTAL + 5)),
    st.tuples(st.just("remove"), st.integers(-5, TOTAL + 5)),
    st.tuples(st.just("move"), st.integers(-5, TOTAL + 5), st.integers(-5, TOTAL + 5)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=40), st.integers(1, 4))
def test_any_sequence_keeps_mece(ops: list[tuple[int | str, ...]], min_length: int) -> None:
    current: cuts.Cuts = ()
    for op in ops:
        before = current
        try:
            if op[0] == "add":
                current = cuts.add_cut(current, int(op[1]), TOTAL, min_length)
            elif op[0] == "remove":
                current = cuts.remove_cut(current, int(op[1]), TOTAL)
            else:
                current = cuts.move_cut(current, int(op[1]), int(op[2]), TOTAL, min_length)
        except InvalidCut:
            assert current == before
        cuts.validate_spans(cuts.spans_from_cuts(current, TOTAL), TOTAL)
        assert list(current) == sorted(set(current))


@given(st.sets(st.integers(1, TOTAL - 1), max_size=30), st.integers(1, TOTAL - 1))
def test_add_then_remove_is_identity(existing: set[int], frame: int) -> None:
    start = tuple(sorted(existing))
    try:
        added = cuts.add_cut(start, frame, TOTAL)
    except InvalidCut:
        return
    assert cuts.remove_cut(added, frame, TOTAL) == start


@given(st.sets(st.integers(1, TOTAL - 1), min_size=1, max_size=30), st.data())
def test_move_keeps_order(existing: set[int], data: st.DataObject) -> None:
    start = tuple(sorted(existing))
    old = data.draw(st.sampled_from(start))
    new = data.draw(st.integers(1, TOTAL - 1))
    try:
        moved = cuts.move_cut(start, old, new, TOTAL)
    except InvalidCut:
        return
    index = start.index(old)
    assert moved.index(new) == index
    assert moved[:index] + moved[index + 1:] == start[:index] + start[index + 1:]
