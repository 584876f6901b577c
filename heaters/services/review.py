"""Review operations: cut edits and review decisions, each one database transaction.

Every operation locks its video (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on Postgres), checks
``expected_version``, archives the clips it replaces as ``superseded``, creates or revives clips, bumps
``cut_version``, appends one ``cut_operation`` row and verifies that the clips around the change still
partition the range they covered. Any failure rolls the whole transaction back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from heaters import cuts
from heaters.db.engine import write_transaction
from heaters.db.numbers import highest_clip_number
from heaters.db.tables import APPROVED_CLIP_STATES, LOCKED_CLIP_STATES, Clip, CutOperation, SourceVideo, is_reviewable
from heaters.errors import Conflict, InvalidCut, MeceViolation, NotFound, StaleVersion
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.services.withdraw import forget_export

CUT_KINDS = frozenset({"add", "remove", "move", "trim"})
DECISION_STATES = {"approve": "approved", "skip": "skipped", "reject": "rejected"}
REGULAR_KINDS = CUT_KINDS | DECISION_STATES.keys() | {"reopen"}
TRIM_SIDES = ("in", "out")


@dataclass(frozen=True)
class OpResult:
    """What an operation did: its audit row, the video's new version and the clips it touched."""

    operation_id: int
    kind: str
    video_id: int
    cut_version: int
    removed: tuple[int, ...]
    created: tuple[int, ...]
    withdrawn: tuple[str, ...] = ()  # storage keys of a withdrawn export, to discard after the commit

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id, "kind": self.kind, "video_id": self.video_id,
            "cut_version": self.cut_version, "removed": list(self.removed), "created": list(self.created),
        }


def now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def locked_video(
    video_id: int, expected_version: int | None = None, user: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Open a write transaction holding the video row; yield it (as a dict). A stale ``expected_version`` is
    refused with ``StaleVersion`` naming who changed the video since (``user`` is the one asking)."""
    async with write_transaction(SourceVideo._meta.db):
        query = SourceVideo.select().where(SourceVideo.id == video_id)
        if SourceVideo._meta.db.engine_type == "postgres":
            query = query.lock_rows("UPDATE")
        video = await query.first()
        if video is None:
            raise NotFound(f"video {video_id} does not exist", "list videos with `heaters videos`")
        if expected_version is not None and expected_version != video["cut_version"]:
            raise StaleVersion(
                f"video {video_id} changed since you loaded it: {await _changed_by(video_id, expected_version, user)}"
                f" (version is {video['cut_version']}, not {expected_version})",
                "look at the clips again (the page reloads them; `heaters clips VIDEO`), then retry",
            )
        yield video


async def _changed_by(video_id: int, since: int, user: str | None) -> str:
    """Who made the operations after version ``since``, in words."""
    rows = await CutOperation.select(CutOperation.user).where(
        (CutOperation.source_video == video_id) & (CutOperation.cut_version > since)
    )
    others = sorted({row["user"] for row in rows} - {user})
    if others:
        return f"{', '.join(others)} edited it"
    if rows:
        return "you edited it elsewhere (another window or the console)"
    return "its clips were replaced"


def _require_ready(video: dict[str, Any]) -> None:
    # A video encoded in segments is reviewable while the rest encodes (its unencoded tail is a locked clip).
    if not is_reviewable(video):
        failed = video["state"].endswith("_failed")
        raise Conflict(f"video {video['id']} is {video['state']}, not ready for review",
                       f"`heaters retry {video['id']}` once the cause is fixed" if failed else
                       "wait until its clips are detected (`heaters ingest --wait` shows the stages)")


def _require_unlocked(clips: Sequence[dict[str, Any]]) -> None:
    for clip in clips:
        if clip["state"] in LOCKED_CLIP_STATES:
            raise Conflict(
                f"clip {clip['id']} [{clip['start_frame']}, {clip['end_frame']}) is {clip['state']}",
                "cut operations touch only clips that are not exported yet",
            )


def _live():  # type: ignore[no-untyped-def]
    return Clip.state != "superseded"


async def _clip_at(video_id: int, frame: int) -> dict[str, Any] | None:
    """The live clip containing ``frame``.

    Queries walk the (video, start_frame) index backwards from the frame: a range condition on end_frame would
    scan every earlier clip of the video, which is what makes long videos slow.
    """
    row = await Clip.select().where(
        (Clip.source_video == video_id) & _live() & (Clip.start_frame <= frame)
    ).order_by(Clip.start_frame, ascending=False).first()
    return row if row is not None and row["end_frame"] > frame else None


async def _clips_around(video: dict[str, Any], frame: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two live clips that meet at cut ``frame``; ``InvalidCut`` if ``frame`` is not a cut."""
    total = video["total_frames"]
    if not 0 <= frame < total:
        raise InvalidCut(f"frame {frame} is out of range 0..{total - 1}", code="out_of_range")
    right = await _clip_at(video["id"], frame) if frame > 0 else None
    if right is None or right["start_frame"] != frame:
        raise InvalidCut(f"frame {frame} is not a cut", "list cuts with `heaters cuts list`", code="not_a_cut")
    left = await _clip_at(video["id"], frame - 1)
    assert left is not None and left["end_frame"] == frame, "partition broken before this operation"
    return left, right


async def _swap(
    video: dict[str, Any],
    *,
    kind: str,
    user: str,
    removed: Sequence[dict[str, Any]],
    new_spans: Sequence[cuts.Span] = (),
    new_states: Sequence[str] | None = None,
    numbers: Sequence[int | None] | None = None,
    revive: dict[int, str] | None = None,
    frame: int | None = None,
    old_frame: int | None = None,
    undoes: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> OpResult:
    """Replace ``removed`` by new clips over ``new_spans`` (``pending_review`` unless ``new_states`` says
    otherwise; numbered as ``numbers`` says, a None there meaning the next free number) or by revived clips
    ``{id: state}``; audit it."""
    stamp = now()
    created: list[int] = []
    if new_spans:
        states = list(new_states or ["pending_review"] * len(new_spans))
        given = await _numbers_for(video["id"], numbers or [None] * len(new_spans))
        # A clip that still starts where a removed one did keeps what detection said about that cut.
        seen = {c["start_frame"]: (c.get("cut_kind", ""), c.get("cut_confidence")) for c in removed}
        rows = await Clip.insert(
            *(Clip(source_video=video["id"], start_frame=s.start, end_frame=s.end, state=state,
                   reviewed_by="" if state == "pending_review" else user,
                   reviewed_at=None if state == "pending_review" else stamp,
                   created_at=stamp, updated_at=stamp, cut_kind=seen.get(s.start, ("", None))[0],
                   cut_confidence=seen.get(s.start, ("", None))[1], number=number)
              for s, state, number in zip(new_spans, states, given, strict=True))
        ).returning(Clip.id)
        created = [row["id"] for row in rows]
    for clip_id, state in (revive or {}).items():
        await Clip.update({Clip.state: state, Clip.superseded_by_op: None, Clip.updated_at: stamp}).where(
            (Clip.id == clip_id) & (Clip.state == "superseded")
        )
        created.append(clip_id)
    version = video["cut_version"] + 1
    removed_ids = [clip["id"] for clip in removed]
    meta = {"removed_states": {str(c["id"]): c["state"] for c in removed}, **(metadata or {})}
    op = await CutOperation.insert(
        CutOperation(source_video=video["id"], kind=kind, frame=frame, old_frame=old_frame, user=user,
                     removed_clip_ids=removed_ids, created_clip_ids=created, undoes=undoes,
                     cut_version=version, created_at=stamp, metadata=meta)
    ).returning(CutOperation.id)
    op_id = op[0]["id"]
    if removed_ids:
        await Clip.update(
            {Clip.state: "superseded", Clip.superseded_by_op: op_id, Clip.updated_at: stamp}
        ).where(Clip.id.is_in(removed_ids))
    await SourceVideo.update({SourceVideo.cut_version: version, SourceVideo.updated_at: stamp}).where(
        SourceVideo.id == video["id"]
    )
    if revive:
        await _keep_numbers_unique(video["id"], list(revive))
    if removed:
        await _check_partition(video["id"], removed, created)
    return OpResult(op_id, kind, video["id"], version, tuple(removed_ids), tuple(created))


async def _numbers_for(video_id: int, wanted: Sequence[int | None]) -> list[int]:
    """``wanted`` with each None replaced by the next free number of the video, in order."""
    top = await highest_clip_number(video_id) if None in wanted else 0
    given = []
    for number in wanted:
        if number is None:
            top += 1
            number = top
        given.append(number)
    return given


async def _keep_numbers_unique(video_id: int, revived: Sequence[int]) -> None:
    """A clip brought back by undo or redo keeps its number, unless a live clip made since holds it (another
    reviewer's edit in between): then it gets the next free one."""
    rows = await Clip.select(Clip.id, Clip.number).where(Clip.id.is_in(list(revived)))
    numbers = [r["number"] for r in rows]
    holders = await Clip.select(Clip.number).where(
        (Clip.source_video == video_id) & _live() & Clip.number.is_in(numbers) & Clip.id.not_in(list(revived))
    ) if numbers else []
    taken = {r["number"] for r in holders}
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["number"] in taken:
            number = await highest_clip_number(video_id) + 1
            await Clip.update({Clip.number: number}).where(Clip.id == row["id"])


async def _check_partition(video_id: int, removed: Sequence[dict[str, Any]], created: Sequence[int]) -> None:
    """The live clips over the range the removed clips covered must be exactly the new ones, gap-free."""
    lo = min(c["start_frame"] for c in removed)
    hi = max(c["end_frame"] for c in removed)
    rows = await Clip.select(Clip.id, Clip.start_frame, Clip.end_frame).where(
        (Clip.source_video == video_id) & _live() & (Clip.start_frame >= lo) & (Clip.start_frame < hi)
    )
    spans = [cuts.Span(r["start_frame"] - lo, r["end_frame"] - lo) for r in rows]
    problems = cuts.mece_problems(spans, hi - lo)
    before = await _clip_at(video_id, lo - 1) if lo > 0 else None
    if before is not None and before["end_frame"] != lo:
        problems.append(f"clip {before['id']} ends at {before['end_frame']}, not at {lo}")
    if problems or {r["id"] for r in rows} != set(created):
        raise MeceViolation(f"operation would break the partition of frames {lo}..{hi - 1}: {problems}")


async def add_cut(
    video_id: int, frame: int, *, user: str, expected_version: int | None = None, min_length: int = 1
) -> OpResult:
    """Split the clip containing ``frame`` so that a new clip starts at ``frame``."""
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        total = video["total_frames"]
        clip = await _clip_at(video_id, frame) if 0 <= frame < total else None
        if clip is None:
            raise InvalidCut(f"frame {frame} is out of range 0..{total - 1}", code="out_of_range")
        local = tuple(c for c in (clip["start_frame"], clip["end_frame"]) if 0 < c < total)
        cuts.check_new_cut(local, frame, total, min_length)
        _require_unlocked([clip])
        spans = (cuts.Span(clip["start_frame"], frame), cuts.Span(frame, clip["end_frame"]))
        # The left part keeps the clip's number; the right part is a new clip with the next free one.
        return await _swap(video, kind="add", user=user, removed=[clip], new_spans=spans,
                           numbers=(clip["number"], None), frame=frame)


async def remove_cut(video_id: int, frame: int, *, user: str, expected_version: int | None = None) -> OpResult:
    """Merge the two clips that meet at ``frame``."""
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        left, right = await _clips_around(video, frame)
        _require_unlocked([left, right])
        span = cuts.Span(left["start_frame"], right["end_frame"])
        return await _swap(video, kind="remove", user=user, removed=[left, right], new_spans=[span],
                           numbers=(left["number"],), frame=frame)


async def move_cut(
    video_id: int, old: int, new: int, *, user: str, expected_version: int | None = None, min_length: int = 1
) -> OpResult:
    """Move the cut at ``old`` to ``new`` between its neighbouring cuts."""
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        total = video["total_frames"]
        left, right = await _clips_around(video, old)
        local = tuple(c for c in (left["start_frame"], old, right["end_frame"]) if 0 < c < total)
        cuts.move_cut(local, old, new, total, min_length)
        _require_unlocked([left, right])
        spans = (cuts.Span(left["start_frame"], new), cuts.Span(new, right["end_frame"]))
        return await _swap(  # both clips are only resized: they keep their numbers
            video, kind="move", user=user, removed=[left, right], new_spans=spans,
            numbers=(left["number"], right["number"]), frame=new, old_frame=old,
        )


async def trim(
    clip_id: int, side: str, frame: int, *, user: str, expected_version: int | None = None, min_length: int = 1
) -> OpResult:
    """Set a clip's in point (``side="in"``: ``frame`` becomes its first frame) or out point (``"out"``: its
    last frame) in one operation: the cut is added and the part cut off is rejected; one Z undoes both."""
    if side not in TRIM_SIDES:
        raise InvalidCut(f"unknown side {side!r}", "trim the clip's in or out point", code="bad_side")
    video_id = await _video_of(clip_id)
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        row = await _live_clip(clip_id)
        _require_unlocked([row])
        start, end = row["start_frame"], row["end_frame"]
        cut = frame if side == "in" else frame + 1
        if not start < cut < end:
            raise InvalidCut(
                f"frame {frame} cannot be the {side} point of clip {clip_id} (frames {start}-{end - 1}):"
                f" nothing would be cut off", "move the playhead inside the clip", code="out_of_range",
            )
        total = video["total_frames"]
        cuts.check_new_cut(tuple(c for c in (start, end) if 0 < c < total), cut, total, min_length)
        states = ("rejected", "pending_review") if side == "in" else ("pending_review", "rejected")
        # The part kept for review is still the clip the reviewer trimmed: it keeps the number.
        numbers = (None, row["number"]) if side == "in" else (row["number"], None)
        return await _swap(
            video, kind="trim", user=user, removed=[row], new_spans=(cuts.Span(start, cut), cuts.Span(cut, end)),
            new_states=states, numbers=numbers, frame=cut, metadata={"side": side, "clip_id": clip_id},
        )


async def _video_of(clip_id: int) -> int:
    clip = await Clip.select(Clip.source_video).where(Clip.id == clip_id).first()
    if clip is None:
        raise NotFound(f"clip {clip_id} does not exist")
    return int(clip["source_video"])


async def _live_clip(clip_id: int) -> dict[str, Any]:
    row = await Clip.select().where(Clip.id == clip_id).first()
    if row is None:
        raise NotFound(f"clip {clip_id} does not exist")
    if row["state"] == "superseded":
        raise Conflict(f"clip {clip_id} was replaced by a cut operation", "reload the clips")
    return row


async def reopen(clip_id: int, *, user: str, reason: str = "", expected_version: int | None = None) -> OpResult:
    """Take an approval back: cancel or withdraw the clip's export and return it to ``pending_review``.

    The operation's ``withdrawn`` keys are the files to delete once it has committed (``withdraw.discard``)."""
    video_id = await _video_of(clip_id)
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        row = await _live_clip(clip_id)
        if row["state"] not in APPROVED_CLIP_STATES:
            raise Conflict(f"clip {clip_id} is {row['state'].replace('_', ' ')}, not approved",
                           "only an approved or exported clip can be reopened")
        return await _reopen(video, row, kind="reopen", user=user, reason=reason or "reopened")


async def _reopen(
    video: dict[str, Any], clip: dict[str, Any], *, kind: str, user: str, reason: str, undoes: int | None = None
) -> OpResult:
    withdrawn = await forget_export(clip)
    result = await _set_state(
        video, clip, "pending_review", kind=kind, user=user, undoes=undoes,
        fields={Clip.export_key: "", Clip.lease_until: None}, metadata={"reason": reason, "withdrawn": list(withdrawn)},
    )
    return replace(result, withdrawn=withdrawn)


async def decide(
    clip_id: int, decision: str, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    """Record a review decision (``approve``, ``skip`` or ``reject``) on a live clip; an approval's export
    goes to ``tasks`` at once."""
    if decision not in DECISION_STATES:
        raise InvalidCut(f"unknown decision {decision!r}", "use approve, skip or reject", code="bad_decision")
    clip = await Clip.select(Clip.source_video).where(Clip.id == clip_id).first()
    if clip is None:
        raise NotFound(f"clip {clip_id} does not exist")
    async with locked_video(clip["source_video"], expected_version, user) as video:
        _require_ready(video)
        row = await Clip.select().where(Clip.id == clip_id).first()
        assert row is not None
        if row["state"] == "superseded":
            raise Conflict(f"clip {clip_id} was replaced by a cut operation", "reload the clips")
        _require_unlocked([row])
        result = await _set_state(video, row, DECISION_STATES[decision], kind=decision, user=user)
    if decision == "approve":
        await tasks.enqueue("export", clip_id)
    return result


async def approve(
    clip_id: int, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    return await decide(clip_id, "approve", user=user, expected_version=expected_version, tasks=tasks)


async def skip(
    clip_id: int, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    return await decide(clip_id, "skip", user=user, expected_version=expected_version, tasks=tasks)


async def reject(
    clip_id: int, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    return await decide(clip_id, "reject", user=user, expected_version=expected_version, tasks=tasks)


async def _set_state(
    video: dict[str, Any], clip: dict[str, Any], state: str, *, kind: str, user: str, undoes: int | None = None,
    fields: dict[Any, Any] | None = None, metadata: dict[str, Any] | None = None,
) -> OpResult:
    stamp = now()
    reviewed: dict[Any, Any] = {Clip.reviewed_by: user, Clip.reviewed_at: stamp}
    if state == "pending_review":
        reviewed = {Clip.reviewed_by: "", Clip.reviewed_at: None}
    await Clip.update({Clip.state: state, Clip.updated_at: stamp, Clip.error: "", Clip.attempts: 0,
                       **reviewed, **(fields or {})}).where(Clip.id == clip["id"])
    version = video["cut_version"] + 1
    meta = {"clip_id": clip["id"], "old_state": clip["state"], "new_state": state, **(metadata or {})}
    op = await CutOperation.insert(
        CutOperation(source_video=video["id"], kind=kind, frame=clip["start_frame"], user=user, undoes=undoes,
                     cut_version=version, created_at=stamp, metadata=meta)
    ).returning(CutOperation.id)
    await SourceVideo.update({SourceVideo.cut_version: version, SourceVideo.updated_at: stamp}).where(
        SourceVideo.id == video["id"]
    )
    return OpResult(op[0]["id"], kind, video["id"], version, (), ())


async def _history(video_id: int, user: str) -> AsyncIterator[dict[str, Any]]:
    """The user's operations on the video, newest first, fetched a page at a time."""
    before: int | None = None
    while True:
        where = (CutOperation.source_video == video_id) & (CutOperation.user == user)
        if before is not None:
            where = where & (CutOperation.id < before)
        page = await CutOperation.select().where(where).order_by(CutOperation.id, ascending=False).limit(
            100
        ).output(load_json=True)
        for row in page:
            yield row
        if len(page) < 100:
            return
        before = page[-1]["id"]


async def _undo_target(video_id: int, user: str) -> dict[str, Any] | None:
    """Top of the user's done stack: the newest of their operations that is not currently undone."""
    decided: dict[int, bool] = {}  # op id -> is applied, by the newest event about it
    targets: dict[int, int] = {}  # undo op id -> the op it undid
    async for op in _history(video_id, user):
        if op["kind"] == "undo":
            targets[op["id"]] = op["undoes"]
            decided.setdefault(op["undoes"], False)
        elif op["kind"] == "redo":
            target = targets.get(op["undoes"]) or await _undone_by(op["undoes"])
            decided.setdefault(target, True)
        elif decided.get(op["id"], True):
            return op
    return None


async def _undone_by(undo_id: int) -> int:
    row = await CutOperation.select(CutOperation.undoes).where(CutOperation.id == undo_id).first()
    assert row is not None
    return int(row["undoes"])


async def _redo_target(video_id: int, user: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Top of the user's redo stack, as ``(undo op, undone op)``; empty after any new regular operation."""
    redone: set[int] = set()
    async for op in _history(video_id, user):
        if op["kind"] in REGULAR_KINDS:
            return None
        if op["kind"] == "redo":
            redone.add(op["undoes"])
        elif op["kind"] == "undo" and op["id"] not in redone:
            target = await CutOperation.select().where(CutOperation.id == op["undoes"]).output(load_json=True).first()
            assert target is not None
            return op, target
    return None


async def _live_clips(ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = await Clip.select().where(Clip.id.is_in(list(ids))) if ids else []
    if len(rows) != len(ids) or any(r["state"] == "superseded" for r in rows):
        raise Conflict("the clips of that operation were changed since", "it can no longer be undone or redone")
    return sorted(rows, key=lambda r: r["start_frame"])


async def undo(
    video_id: int, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    """Reverse the user's last operation on the video that is still in effect; the undo is itself logged."""
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        target = await _undo_target(video_id, user)
        if target is None:
            raise Conflict(f"{user} has nothing to undo on video {video_id}")
        result = await _reverse(video, target, kind="undo", undoes=target["id"], user=user)
    if target["kind"] == "reopen":  # undoing a reopen approves the clip again
        await tasks.enqueue("export", target["metadata"]["clip_id"])
    return result


async def redo(
    video_id: int, *, user: str, expected_version: int | None = None, tasks: TaskQueue = OFFLINE
) -> OpResult:
    """Re-apply the operation the user undid last, unless they have made a new one since."""
    async with locked_video(video_id, expected_version, user) as video:
        _require_ready(video)
        found = await _redo_target(video_id, user)
        if found is None:
            raise Conflict(f"{user} has nothing to redo on video {video_id}")
        undo_op, target = found
        result = await _reapply(video, undo_op, target, user=user)
    if target["kind"] == "approve":
        await tasks.enqueue("export", target["metadata"]["clip_id"])
    return result


async def _reverse(video: dict[str, Any], target: dict[str, Any], *, kind: str, undoes: int, user: str) -> OpResult:
    meta = target["metadata"]
    if target["kind"] == "reopen":
        return await _flip_decision(video, meta["clip_id"], "pending_review", "approved", kind=kind, undoes=undoes,
                                    user=user)
    if target["kind"] in DECISION_STATES:
        return await _flip_decision(video, meta["clip_id"], meta["new_state"], meta["old_state"],
                                    kind=kind, undoes=undoes, user=user)
    current = await _live_clips(target["created_clip_ids"])
    _require_unlocked(current)
    revive = {int(i): meta["removed_states"][str(i)] for i in target["removed_clip_ids"]}
    return await _swap(video, kind=kind, user=user, removed=current, revive=revive, undoes=undoes,
                       frame=target["frame"], old_frame=target["old_frame"],
                       metadata={"target_kind": target["kind"]})


async def _reapply(video: dict[str, Any], undo_op: dict[str, Any], target: dict[str, Any], *, user: str) -> OpResult:
    meta = target["metadata"]
    if target["kind"] == "reopen":
        return await _flip_decision(video, meta["clip_id"], "approved", "pending_review", kind="redo",
                                    undoes=undo_op["id"], user=user)
    if target["kind"] in DECISION_STATES:
        return await _flip_decision(video, meta["clip_id"], meta["old_state"], meta["new_state"],
                                    kind="redo", undoes=undo_op["id"], user=user)
    current = await _live_clips(target["removed_clip_ids"])
    _require_unlocked(current)
    states = undo_op["metadata"]["removed_states"]
    revive = {int(i): states[str(i)] for i in target["created_clip_ids"]}
    return await _swap(video, kind="redo", user=user, removed=current, revive=revive, undoes=undo_op["id"],
                       frame=target["frame"], old_frame=target["old_frame"],
                       metadata={"target_kind": target["kind"]})


async def _flip_decision(
    video: dict[str, Any], clip_id: int, expected: str, state: str, *, kind: str, undoes: int, user: str
) -> OpResult:
    clip = await Clip.select().where(Clip.id == clip_id).first()
    if clip is not None and expected == "approved" and state == "pending_review" and (
        clip["state"] in APPROVED_CLIP_STATES
    ):
        # Taking an approval back after its export started: cancel or withdraw the export as well.
        return await _reopen(video, clip, kind=kind, user=user, undoes=undoes, reason=f"{kind} of the approval")
    if clip is None or clip["state"] != expected:
        found = clip["state"].replace("_", " ") if clip else "gone"
        raise Conflict(f"clip {clip_id} is {found}, not {expected.replace('_', ' ')}",
                       "it was changed since; nothing to undo")
    _require_unlocked([clip])
    return await _set_state(video, clip, state, kind=kind, user=user, undoes=undoes)
