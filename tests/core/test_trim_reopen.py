"""Trim (in/out point in one operation) and reopen (taking an approval back) against a real database."""

from __future__ import annotations

from fractions import Fraction

import pytest

from heaters.db.tables import Artifact, Clip, CutOperation, Embedding
from heaters.errors import Conflict, InvalidCut, StaleVersion
from heaters.services import review, videos

pytestmark = pytest.mark.usefixtures("db")


async def make_video() -> int:
    return await videos.create_video("sample", state="ready", fps=Fraction(25), total_frames=300,
                                     initial_cuts=(100, 200))


async def spans(video_id: int) -> list[tuple[int, int, str]]:
    return [(c["start_frame"], c["end_frame"], c["state"]) for c in await videos.live_clips(video_id)]


async def clip_at(video_id: int, frame: int) -> dict:
    return next(c for c in await videos.live_clips(video_id) if c["start_frame"] <= frame < c["end_frame"])


@pytest.mark.parametrize(
    ("side", "frame", "expected"),
    [
        pytest.param("in", 130, [(100, 130, "rejected"), (130, 200, "pending_review")], id="in"),
        pytest.param("out", 169, [(100, 170, "pending_review"), (170, 200, "rejected")], id="out"),
    ],
)
async def test_trim_cuts_and_rejects_the_part_cut_off_in_one_undoable_operation(
    side: str, frame: int, expected: list[tuple[int, int, str]]
) -> None:
    video = await make_video()
    clip = await clip_at(video, 150)
    result = await review.trim(clip["id"], side, frame, user="ana", expected_version=0)
    assert (await spans(video))[1:3] == expected
    assert result.cut_version == 1
    ops = await CutOperation.select(CutOperation.kind, CutOperation.user)
    assert ops == [{"kind": "trim", "user": "ana"}]
    rejected = next(c for c in await videos.live_clips(video) if c["state"] == "rejected")
    assert rejected["reviewed_by"] == "ana"
    await review.undo(video, user="ana")
    assert await spans(video) == [(0, 100, "pending_review"), (100, 200, "pending_review"),
                                  (200, 300, "pending_review")]
    await review.redo(video, user="ana")
    assert (await spans(video))[1:3] == expected
    assert await videos.mece_problems(video) == []


async def test_trim_refuses_a_point_that_cuts_nothing_off() -> None:
    video = await make_video()
    clip = await clip_at(video, 150)
    with pytest.raises(InvalidCut, match="nothing would be cut off"):
        await review.trim(clip["id"], "in", 100, user="ana")
    with pytest.raises(InvalidCut, match="nothing would be cut off"):
        await review.trim(clip["id"], "out", 199, user="ana")


async def exported(clip_id: int) -> None:
    """Stand in for the export, keyframe and embed stages having finished."""
    await Clip.update({Clip.state: "embedded", Clip.export_key: f"clips/1/{clip_id}.mp4"}).where(Clip.id == clip_id)
    await Artifact.insert(Artifact(clip=clip_id, kind="export", key=f"clips/1/{clip_id}.mp4"),
                          Artifact(clip=clip_id, kind="keyframe", key=f"keyframes/{clip_id}/0.jpg"))
    await Embedding.insert(Embedding(clip=clip_id, model="m", dim=1, vector=b"\0\0\0\0"))


async def test_undo_right_after_approving_cancels_the_export_that_started() -> None:
    video = await make_video()
    clip = await clip_at(video, 0)
    await review.approve(clip["id"], user="ana")
    await Clip.update({Clip.state: "exporting"}).where(Clip.id == clip["id"])  # a worker took it at once
    result = await review.undo(video, user="ana")
    row = await videos.get_clip(clip["id"])
    assert row["state"] == "pending_review" and row["reviewed_by"] == ""
    assert result.kind == "undo"
    # Redo approves it again.
    await review.redo(video, user="ana")
    assert (await videos.get_clip(clip["id"]))["state"] == "approved"


async def test_reopen_withdraws_an_exported_clip_and_says_who_and_why() -> None:
    video = await make_video()
    clip = await clip_at(video, 0)
    await review.approve(clip["id"], user="ana")
    await exported(clip["id"])
    result = await review.reopen(clip["id"], user="bo", reason="cut lands mid-sentence")
    assert set(result.withdrawn) == {f"clips/1/{clip['id']}.mp4", f"keyframes/{clip['id']}/0.jpg"}
    row = await videos.get_clip(clip["id"])
    assert (row["state"], row["export_key"]) == ("pending_review", "")
    assert await Artifact.count().where(Artifact.clip == clip["id"]) == 0
    assert await Embedding.count().where(Embedding.clip == clip["id"]) == 0
    op = await CutOperation.select().where(CutOperation.kind == "reopen").output(load_json=True).first()
    assert op["user"] == "bo"
    assert op["metadata"]["reason"] == "cut lands mid-sentence"
    assert op["metadata"]["old_state"] == "embedded"
    # A pending clip has nothing to reopen; undoing the reopen approves the clip again.
    with pytest.raises(Conflict, match="pending review, not approved"):
        await review.reopen(clip["id"], user="bo")
    await review.undo(video, user="bo")
    assert (await videos.get_clip(clip["id"]))["state"] == "approved"


async def test_refusals_name_the_real_reason() -> None:
    video = await make_video()
    clip = await clip_at(video, 0)
    await review.approve(clip["id"], user="ana")
    await Clip.update({Clip.state: "exporting"}).where(Clip.id == clip["id"])
    with pytest.raises(Conflict, match=f"clip {clip['id']} .* is exporting"):
        await review.add_cut(video, 50, user="ana")
    with pytest.raises(StaleVersion, match="ana edited it"):
        await review.add_cut(video, 150, user="bo", expected_version=0)
    with pytest.raises(StaleVersion, match="you edited it elsewhere"):
        await review.add_cut(video, 150, user="ana", expected_version=0)
