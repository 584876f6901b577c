"""Review operations against a real database: audit rows, versions, refusals, undo/redo, MECE."""

from __future__ import annotations

from fractions import Fraction

import pytest

from heaters.db.tables import Clip, CutOperation
from heaters.errors import Conflict, InvalidCut, NotFound
from heaters.services import review, videos

pytestmark = pytest.mark.usefixtures("db")


async def make_video(cuts: tuple[int, ...] = (100, 200), total: int = 300) -> int:
    return await videos.create_video("sample", state="ready", fps=Fraction(30000, 1001), total_frames=total,
                                     initial_cuts=cuts)


async def spans(video_id: int) -> list[tuple[int, int, str]]:
    return [(c["start_frame"], c["end_frame"], c["state"]) for c in await videos.live_clips(video_id)]


async def test_add_cut_splits_and_audits() -> None:
    video = await make_video()
    result = await review.add_cut(video, 150, user="ana", expected_version=0)
    assert await spans(video) == [(0, 100, "pending_review"), (100, 150, "pending_review"),
                                  (150, 200, "pending_review"), (200, 300, "pending_review")]
    assert result.cut_version == 1 and len(result.removed) == 1 and len(result.created) == 2
    superseded = await Clip.select().where(Clip.id == result.removed[0]).first()
    assert superseded["state"] == "superseded" and superseded["superseded_by_op"] == result.operation_id
    ops = await CutOperation.select()
    assert [(o["kind"], o["frame"], o["user"]) for o in ops] == [("add", 150, "ana")]
    assert await videos.mece_problems(video) == []


async def test_remove_and_move() -> None:
    video = await make_video()
    await review.move_cut(video, 100, 120, user="ana")
    assert [s[:2] for s in await spans(video)] == [(0, 120), (120, 200), (200, 300)]
    await review.remove_cut(video, 200, user="ana")
    assert [s[:2] for s in await spans(video)] == [(0, 120), (120, 300)]


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        pytest.param(lambda v: review.add_cut(v, 300, user="u"), InvalidCut, "out of range", id="past-end"),
        pytest.param(lambda v: review.add_cut(v, 100, user="u"), InvalidCut, "already a cut", id="existing"),
        pytest.param(lambda v: review.add_cut(v, 0, user="u"), InvalidCut, "not a cut point", id="start"),
        pytest.param(lambda v: review.add_cut(v, 101, user="u", min_length=5), InvalidCut, "too close",
                     id="too-close"),
        pytest.param(lambda v: review.remove_cut(v, 150, user="u"), InvalidCut, "not a cut", id="not-a-cut"),
        pytest.param(lambda v: review.move_cut(v, 100, 250, user="u"), InvalidCut, "neighbours", id="pass"),
        pytest.param(lambda v: review.add_cut(v, 50, user="u", expected_version=7), Conflict, "changed",
                     id="stale"),
        pytest.param(lambda v: review.add_cut(v + 99, 50, user="u"), NotFound, "does not exist", id="no-video"),
        pytest.param(lambda v: review.undo(v, user="u"), Conflict, "nothing to undo", id="no-undo"),
    ],
)
async def test_refusals_change_nothing(call, error, text) -> None:  # type: ignore[no-untyped-def]
    video = await make_video()
    before = await spans(video)
    with pytest.raises(error, match=text):
        await call(video)
    assert await spans(video) == before
    assert await CutOperation.count() == 0
    assert (await videos.get_video(video))["cut_version"] == 0


async def test_exported_clips_are_frozen() -> None:
    video = await make_video()
    first = (await videos.live_clips(video))[0]
    await Clip.update({Clip.state: "exported"}).where(Clip.id == first["id"])
    with pytest.raises(Conflict, match="not exported yet"):
        await review.add_cut(video, 50, user="u")
    with pytest.raises(Conflict, match="not exported yet"):
        await review.remove_cut(video, 100, user="u")
    await review.add_cut(video, 150, user="u")  # the rest of the video stays editable


async def test_undo_redo_restore_clips_and_states() -> None:
    video = await make_video()
    original = await spans(video)
    clips = await videos.live_clips(video)
    await review.approve(clips[0]["id"], user="ana")
    await review.remove_cut(video, 100, user="ana")
    await review.add_cut(video, 250, user="bob")
    after_all = await spans(video)
    undone = await review.undo(video, user="ana")  # ana's remove, not bob's add
    assert undone.kind == "undo"
    assert await spans(video) == [(0, 100, "approved"), (100, 200, "pending_review"),
                                  (200, 250, "pending_review"), (250, 300, "pending_review")]
    await review.undo(video, user="ana")  # ana's approve
    assert (await spans(video))[0] == (0, 100, "pending_review")
    await review.redo(video, user="ana")
    await review.redo(video, user="ana")
    assert await spans(video) == after_all
    await review.undo(video, user="bob")
    await review.undo(video, user="ana")
    await review.undo(video, user="ana")
    assert await spans(video) == original
    with pytest.raises(Conflict, match="nothing to undo"):
        await review.undo(video, user="ana")


async def test_new_operation_clears_redo() -> None:
    video = await make_video()
    await review.add_cut(video, 50, user="ana")
    await review.undo(video, user="ana")
    await review.add_cut(video, 60, user="ana")
    with pytest.raises(Conflict, match="nothing to redo"):
        await review.redo(video, user="ana")


async def test_undo_refused_when_someone_changed_the_clips() -> None:
    video = await make_video()
    await review.add_cut(video, 50, user="ana")
    await review.move_cut(video, 50, 60, user="bob")
    with pytest.raises(Conflict, match="changed since"):
        await review.undo(video, user="ana")
    assert await videos.mece_problems(video) == []


async def test_replay_of_audit_log_reproduces_cuts() -> None:
    video = await make_video()
    await review.add_cut(video, 50, user="ana")
    await review.move_cut(video, 200, 210, user="bob")
    await review.undo(video, user="ana")
    await review.undo(video, user="bob")
    await review.redo(video, user="bob")
    await review.remove_cut(video, 100, user="ana")
    ops = list(reversed(await videos.audit_log(video)))
    replayed = videos.replay(await videos.detected_cuts(video), 300, ops)
    assert replayed == await videos.current_cuts(video)
