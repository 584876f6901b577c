"""A clip keeps the number a person says ("clip 7 of 31") through every edit around it, on SQLite and Postgres.

A split leaves the number with the left part and gives the right part the next free one; a merge keeps the
left clip's number; a moved cut leaves both numbers; a trim leaves the number with the part kept for review;
undo and redo bring numbers back with the clips; a number, once given, never names another clip.
"""

from __future__ import annotations

from fractions import Fraction

from heaters.db.tables import Clip
from heaters.services import review, videos
from heaters.settings import Settings


async def numbered(video: int) -> list[tuple[int, int]]:
    """(start frame, number) of the live clips in frame order."""
    return [(c["start_frame"], c["number"]) for c in await videos.live_clips(video)]


async def make(cuts: tuple[int, ...] = (30, 60)) -> int:
    return await videos.create_video("numbers", state="ready", fps=Fraction(25), total_frames=90, initial_cuts=cuts)


async def test_detected_clips_are_numbered_in_frame_order(db: Settings) -> None:
    assert await numbered(await make((10, 20, 30, 40))) == [(0, 1), (10, 2), (20, 3), (30, 4), (40, 5)]


async def test_a_cut_before_a_clip_does_not_change_its_number(db: Settings) -> None:
    video = await make()
    await review.add_cut(video, 15, user="ana")
    # Clip 3 (from 60) is now the fourth in frame order, and still clip 3.
    assert await numbered(video) == [(0, 1), (15, 4), (30, 2), (60, 3)]
    await review.add_cut(video, 40, user="ana")
    assert await numbered(video) == [(0, 1), (15, 4), (30, 2), (40, 5), (60, 3)]


async def test_move_keeps_both_numbers_and_remove_keeps_the_left_one(db: Settings) -> None:
    video = await make()
    await review.move_cut(video, 30, 35, user="ana")
    assert await numbered(video) == [(0, 1), (35, 2), (60, 3)]
    await review.remove_cut(video, 35, user="ana")
    assert await numbered(video) == [(0, 1), (60, 3)]
    await review.add_cut(video, 20, user="ana")
    # 2 was the merged-away clip's: numbers are never given again, so the new clip is 4.
    assert await numbered(video) == [(0, 1), (20, 4), (60, 3)]


async def test_undo_and_redo_bring_the_numbers_back(db: Settings) -> None:
    video = await make()
    await review.add_cut(video, 45, user="ana")
    split = await numbered(video)
    assert split == [(0, 1), (30, 2), (45, 4), (60, 3)]
    await review.undo(video, user="ana")
    assert await numbered(video) == [(0, 1), (30, 2), (60, 3)]
    await review.redo(video, user="ana")
    assert await numbered(video) == split
    await review.remove_cut(video, 60, user="ana")
    assert await numbered(video) == [(0, 1), (30, 2), (45, 4)]
    await review.undo(video, user="ana")
    assert await numbered(video) == split
    await review.add_cut(video, 10, user="bob")
    assert await numbered(video) == [(0, 1), (10, 5), (30, 2), (45, 4), (60, 3)]


async def test_a_trim_leaves_the_number_with_the_part_kept(db: Settings) -> None:
    video = await make()
    middle = (await videos.live_clips(video))[1]["id"]
    await review.trim(middle, "in", 35, user="ana")
    clips = await videos.live_clips(video)
    assert [(c["start_frame"], c["number"], c["state"]) for c in clips] == [
        (0, 1, "pending_review"), (30, 4, "rejected"), (35, 2, "pending_review"), (60, 3, "pending_review")]
    kept = clips[2]["id"]
    await review.trim(kept, "out", 49, user="ana")
    assert [(c["start_frame"], c["number"], c["state"]) for c in await videos.live_clips(video)] == [
        (0, 1, "pending_review"), (30, 4, "rejected"), (35, 2, "pending_review"), (50, 5, "rejected"),
        (60, 3, "pending_review")]


async def test_a_revived_clip_whose_number_is_taken_gets_the_next_free_one(db: Settings) -> None:
    video = await make()
    await review.add_cut(video, 45, user="ana")
    await review.undo(video, user="ana")
    # Stand-in for an edit elsewhere that took the number the redo brings back.
    third = (await videos.live_clips(video))[2]["id"]
    await Clip.update({Clip.number: 4}).where(Clip.id == third)
    await review.redo(video, user="ana")
    numbers = [n for _, n in await numbered(video)]
    assert sorted(numbers) == [1, 2, 4, 5] and numbers[2] == 5  # the revived right part moved to 5


async def test_the_migration_numbers_existing_clips_live_first_in_frame_order(db: Settings) -> None:
    from heaters.db.migrate import _load, migrations_dir

    first, second = await make(), await make((45,))
    await review.add_cut(first, 45, user="ana")  # supersedes the clip [30, 60)
    await Clip.update({Clip.number: 0}).where(Clip.id > 0)  # as they were before clips had numbers
    await _load(migrations_dir() / "m0009_clip_number.py").number_existing(Clip._meta.db)
    assert await numbered(first) == [(0, 1), (30, 2), (45, 3), (60, 4)]
    assert await numbered(second) == [(0, 1), (45, 2)]
    replaced = await Clip.select(Clip.number).where((Clip.source_video == first) & (Clip.state == "superseded"))
    assert [r["number"] for r in replaced] == [5]
    await review.add_cut(first, 10, user="ana")
    assert (await numbered(first))[1] == (10, 6)
