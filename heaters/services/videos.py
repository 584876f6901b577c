"""Videos and their clips: creation, listing, the MECE report and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from heaters import cuts
from heaters.db.engine import write_transaction
from heaters.db.tables import Clip, CutOperation, SourceVideo
from heaters.errors import Conflict, NotFound
from heaters.services.review import now


async def create_video(
    title: str,
    source: str = "",
    *,
    state: str = "new",
    fps: Fraction | None = None,
    total_frames: int = 0,
    width: int = 0,
    height: int = 0,
    initial_cuts: Iterable[int] | None = None,
) -> int:
    """Insert a video; with ``initial_cuts`` (and ``total_frames``) also its first clips. Returns its id."""
    fps = fps or Fraction(0)
    rows = await SourceVideo.insert(
        SourceVideo(title=title, source=source, state=state, fps_num=fps.numerator, fps_den=fps.denominator,
                    total_frames=total_frames, width=width, height=height)
    ).returning(SourceVideo.id)
    video_id = int(rows[0]["id"])
    if initial_cuts is not None:
        await create_initial_clips(video_id, initial_cuts, total_frames)
    return video_id


async def create_initial_clips(
    video_id: int, initial_cuts: Iterable[int], total_frames: int,
    details: Mapping[int, tuple[str, float]] | None = None,
) -> list[int]:
    """Partition the video at the detected cuts, once: a re-run finds the clips already there. ``details``
    gives the detector's kind and confidence of the cut at each clip's first frame. The clips are numbered
    1..n in frame order."""
    spans = cuts.spans_from_cuts(initial_cuts, total_frames)
    details = details or {}
    async with write_transaction(Clip._meta.db):
        existing = await Clip.select(Clip.id).where(Clip.source_video == video_id).order_by(Clip.start_frame)
        if existing:
            return [row["id"] for row in existing]
        stamp = now()
        ids: list[int] = []
        for first in range(0, len(spans), 1000):  # Postgres caps one statement at 32767 parameters
            rows = await Clip.insert(
                *(Clip(source_video=video_id, start_frame=s.start, end_frame=s.end, created_at=stamp,
                       updated_at=stamp, cut_kind=details.get(s.start, ("", None))[0],
                       cut_confidence=details.get(s.start, ("", None))[1], number=first + n + 1)
                  for n, s in enumerate(spans[first:first + 1000]))
            ).returning(Clip.id)
            ids.extend(row["id"] for row in rows)
        return ids


async def get_video(video_id: int) -> dict[str, Any]:
    row = await SourceVideo.select().where(SourceVideo.id == video_id).output(load_json=True).first()
    if row is None:
        raise NotFound(f"video {video_id} does not exist", "list videos with `heaters videos`")
    return row


async def list_videos(state: str | None = None) -> list[dict[str, Any]]:
    query = SourceVideo.select().order_by(SourceVideo.id).output(load_json=True)
    if state:
        query = query.where(SourceVideo.state == state)
    return await query


async def get_clip(clip_id: int) -> dict[str, Any]:
    row = await Clip.select().where(Clip.id == clip_id).first()
    if row is None:
        raise NotFound(f"clip {clip_id} does not exist", "list clips with `heaters clips VIDEO`")
    return row


async def live_clips(video_id: int) -> list[dict[str, Any]]:
    """The clips currently partitioning the video, in frame order."""
    return await Clip.select().where(
        (Clip.source_video == video_id) & (Clip.state != "superseded")
    ).order_by(Clip.start_frame)


async def current_cuts(video_id: int) -> cuts.Cuts:
    rows = await Clip.select(Clip.start_frame).where(
        (Clip.source_video == video_id) & (Clip.state != "superseded") & (Clip.start_frame > 0)
    ).order_by(Clip.start_frame)
    return tuple(row["start_frame"] for row in rows)


async def mece_problems(video_id: int) -> list[str]:
    """Every way the video's live clips fail to partition it (empty: valid)."""
    video = await get_video(video_id)
    if video["total_frames"] <= 0:
        return []
    clips = await live_clips(video_id)
    return cuts.mece_problems([cuts.Span(c["start_frame"], c["end_frame"]) for c in clips], video["total_frames"])


async def audit_log(
    video_id: int | None = None, *, user: str | None = None, kind: str | None = None, limit: int = 100,
    after_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest operations first (or, with ``after_id``, everything newer than it, oldest first)."""
    query = CutOperation.select()
    conditions = []
    if video_id is not None:
        conditions.append(CutOperation.source_video == video_id)
    if user:
        conditions.append(CutOperation.user == user)
    if kind:
        conditions.append(CutOperation.kind == kind)
    if after_id is not None:
        conditions.append(CutOperation.id > after_id)
    for condition in conditions:
        query = query.where(condition)
    return await query.order_by(CutOperation.id, ascending=after_id is not None).limit(limit).output(
        load_json=True
    )


def replay(initial_cuts: Sequence[int], total: int, operations: Sequence[dict[str, Any]]) -> cuts.Cuts:
    """Re-apply logged operations (oldest first) to the detected cuts; yields the cuts they must have made."""
    state = tuple(sorted(initial_cuts))
    by_id = {op["id"]: op for op in operations}

    def forward(op: dict[str, Any], current: cuts.Cuts) -> cuts.Cuts:
        if op["kind"] == "add":
            return cuts.add_cut(current, op["frame"], total)
        if op["kind"] == "remove":
            return cuts.remove_cut(current, op["frame"], total)
        if op["kind"] == "move":
            return cuts.move_cut(current, op["old_frame"], op["frame"], total)
        return current

    def backward(op: dict[str, Any], current: cuts.Cuts) -> cuts.Cuts:
        if op["kind"] == "add":
            return cuts.remove_cut(current, op["frame"], total)
        if op["kind"] == "remove":
            return cuts.add_cut(current, op["frame"], total)
        if op["kind"] == "move":
            return cuts.move_cut(current, op["frame"], op["old_frame"], total)
        return current

    for op in operations:
        if op["kind"] == "undo":
            state = backward(by_id[op["undoes"]], state)
        elif op["kind"] == "redo":
            state = forward(by_id[by_id[op["undoes"]]["undoes"]], state)
        else:
            state = forward(op, state)
    return state


async def detected_cuts(video_id: int) -> cuts.Cuts:
    """The cuts scene detection made: the starts of the clips no operation created."""
    created: set[int] = set()
    # Only add/remove/move insert clips; undo and redo revive existing rows.
    ops = await CutOperation.select(CutOperation.created_clip_ids).where(
        (CutOperation.source_video == video_id) & CutOperation.kind.is_in(["add", "remove", "move"])
    ).output(load_json=True)
    for op in ops:
        created.update(op["created_clip_ids"])
    rows = await Clip.select(Clip.id, Clip.start_frame).where(Clip.source_video == video_id)
    return tuple(sorted(r["start_frame"] for r in rows if r["id"] not in created and r["start_frame"] > 0))


async def set_state(video_id: int, state: str, *, expected: Sequence[str] | None = None, **fields: Any) -> None:
    """Move a video to ``state`` (only from one of ``expected`` when given)."""
    values: dict[Any, Any] = {SourceVideo.state: state, SourceVideo.updated_at: now()}
    for name, value in fields.items():
        values[getattr(SourceVideo, name)] = value
    where: Any = SourceVideo.id == video_id
    if expected:
        where = where & SourceVideo.state.is_in(list(expected))
    updated = await SourceVideo.update(values).where(where).returning(SourceVideo.id)
    if not updated:
        raise Conflict(f"video {video_id} is not in state {', '.join(expected or [])}")
