"""Property tests through the database: any sequence of operations keeps MECE and the clip numbers unique;
undo restores the spans and their numbers."""

from __future__ import annotations

import asyncio
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heaters.db.engine import connect
from heaters.errors import Conflict, InvalidCut
from heaters.services import review, videos
from heaters.settings import Settings

TOTAL = 120
step = st.one_of(
    st.tuples(st.just("add"), st.integers(-2, TOTAL + 2)),
    st.tuples(st.just("remove"), st.integers(0, TOTAL)),
    st.tuples(st.just("move"), st.integers(0, TOTAL), st.integers(-2, TOTAL + 2)),
    st.tuples(st.just("undo"), st.sampled_from(["ana", "bob"])),
    st.tuples(st.just("redo"), st.sampled_from(["ana", "bob"])),
)


async def spans(video: int) -> list[tuple[int, int, str, int]]:
    """The live clips with their numbers: undo gives back the numbers as well as the spans."""
    return [(c["start_frame"], c["end_frame"], c["state"], c["number"]) for c in await videos.live_clips(video)]


async def numbers_are_unique(video: int) -> bool:
    numbers = [c["number"] for c in await videos.live_clips(video)]
    return len(set(numbers)) == len(numbers) and min(numbers) >= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, max_size=15), st.lists(st.integers(1, TOTAL - 1), max_size=6, unique=True))
def test_operations_keep_mece_and_undo_restores(db: Settings, steps: list[tuple], initial: list[int]) -> None:  # type: ignore[type-arg]
    async def run() -> None:
        async with connect(db):
            video = await videos.create_video("p", state="ready", fps=Fraction(25), total_frames=TOTAL,
                                              initial_cuts=initial)
            for index, op in enumerate(steps):
                user = "ana" if index % 2 else "bob"
                before = await spans(video)
                try:
                    if op[0] == "add":
                        await review.add_cut(video, op[1], user=user, min_length=2)
                    elif op[0] == "remove":
                        await review.remove_cut(video, op[1], user=user)
                    elif op[0] == "move":
                        await review.move_cut(video, op[1], op[2], user=user, min_length=2)
                    elif op[0] == "undo":
                        await review.undo(video, user=op[1])
                    else:
                        await review.redo(video, user=op[1])
                except (InvalidCut, Conflict):
                    assert await spans(video) == before  # a refusal changes nothing
                    continue
                assert await videos.mece_problems(video) == []
                assert await numbers_are_unique(video)
                if op[0] in ("add", "remove", "move"):
                    await review.undo(video, user=user)
                    assert await spans(video) == before
                    await review.redo(video, user=user)
                    assert await videos.mece_problems(video) == []

    asyncio.run(run())
