"""The pipeline as one table: every stage, the table it works on, its states, actor, queue, limits and successor.

This module is the single source of the pipeline's shape. The stage runner, the actors, the dispatcher,
``heaters retry``, the ``--wait`` display, the console's state lists and the review page's list of locked clip
states are all built from ``STAGES``; a new stage is one row here and one work function in
``heaters.services.stages``. It is pure (no I/O stack): the table is named, not imported.

A row of a stage's table is

* in ``ready`` while it waits for the stage (its message may be queued, or lost: the dispatcher resends it);
* in ``working`` while a worker holds it under a lease (the same as ``ready`` for stages that keep the
  state: an expired lease, not the state, tells the dispatcher that the worker died);
* in ``done`` when the stage has written its result, which is the ``ready`` state of ``next``;
* in ``failed`` when the input is bad or the attempts ran out; ``retry_to`` is where a retry puts it back.
  With ``retry="backoff"`` the dispatcher does that by itself after a growing delay, up to the attempt cap;
  with ``retry="manual"`` the row waits for ``heaters retry`` (or the web app's Retry button).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Table = Literal["video", "clip", "segment", "audio"]
HOUR_MS = 3600 * 1000


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline (see the module docstring for what each state means)."""

    name: str
    table: Table
    ready: str
    working: str
    done: str
    failed: str
    actor: str
    queue: str  # Dramatiq queue: separate queues let encodes and exports scale apart
    time_limit_ms: int  # a last resort against a stuck process; the lease is how a dead worker is found
    retry: Literal["manual", "backoff"]
    next: str | None

    @property
    def retry_to(self) -> str:
        """The state a failed row goes back to when retried: where the stage picks it up."""
        return self.ready

    @property
    def holds_own_state(self) -> bool:
        """Whether a worker moves the row into a state of its own while it works."""
        return self.working != self.ready


STAGES: tuple[Stage, ...] = (
    Stage("download", "video", "new", "downloading", "downloaded", "download_failed",
          "download_video", "ingest", 6 * HOUR_MS, "manual", "encode"),
    Stage("encode", "video", "downloaded", "encoding", "encoded", "encode_failed",
          "encode_video", "encode", 24 * HOUR_MS, "manual", "detect"),
    # A long video's encode hands its frame ranges to segment rows that any encode worker takes (the video
    # stays ``encoding`` until the last one is in; see ``heaters.services.stages.segments``).
    Stage("segment", "segment", "pending", "encoding", "encoded", "failed",
          "encode_segment", "encode", 2 * HOUR_MS, "manual", None),
    # Its sound is one track for the whole source, made beside the segments by a job of its own (only the
    # audio is decoded); reviewers hear it once it is in (``heaters.services.stages.review_audio``).
    Stage("audio", "audio", "pending", "encoding", "encoded", "audio_failed",
          "encode_review_audio", "encode", 6 * HOUR_MS, "manual", None),
    Stage("detect", "video", "encoded", "detecting", "ready", "detect_failed",
          "detect_scenes", "encode", 1 * HOUR_MS, "manual", None),
    Stage("export", "clip", "approved", "exporting", "exported", "export_failed",
          "export_clip", "export", 6 * HOUR_MS, "backoff", "keyframes"),
    Stage("keyframes", "clip", "exported", "exported", "keyframed", "keyframe_failed",
          "extract_keyframes", "export", 1 * HOUR_MS, "backoff", "embed"),
    Stage("embed", "clip", "keyframed", "keyframed", "embedded", "embed_failed",
          "embed_clip", "embed", 1 * HOUR_MS, "backoff", None),
)

# States outside any stage: where clips start (review) and the review's other outcomes.
FIRST_STATES: dict[Table, tuple[str, ...]] = {
    "video": (), "clip": ("pending_review",), "segment": (), "audio": (),
}
# The unencoded rest of a video being encoded in segments is one clip in this state, locked until encoded.
TAIL_CLIP_STATE = "encoding"
OTHER_STATES: dict[Table, tuple[str, ...]] = {
    "video": (), "clip": ("skipped", "rejected", "superseded", TAIL_CLIP_STATE), "segment": (), "audio": (),
}

_BY_NAME = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    """The stage called ``name``; ``KeyError`` names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no stage {name!r}; stages are {', '.join(_BY_NAME)}") from None


def stages_of(table: Table) -> tuple[Stage, ...]:
    """The stages working on ``table``, in pipeline order."""
    return tuple(s for s in STAGES if s.table == table)


def states(table: Table) -> tuple[str, ...]:
    """Every state a row of ``table`` can be in: the pipeline's order, the other outcomes, then failures."""
    flow = list(FIRST_STATES[table])
    for s in stages_of(table):
        flow += [s.ready, s.working, s.done]
    flow += OTHER_STATES[table]
    flow += [s.failed for s in stages_of(table)]
    return tuple(dict.fromkeys(flow))


def failed_states(table: Table) -> tuple[str, ...]:
    return tuple(s.failed for s in stages_of(table))


def stage_of_failure(failed: str) -> Stage:
    """The stage whose failed state is ``failed``."""
    for s in STAGES:
        if s.failed == failed:
            return s
    raise KeyError(f"{failed!r} is not a failed state")


def dispatch_states(table: Table) -> Iterator[tuple[str, Stage]]:
    """(state, stage) for every state whose rows the dispatcher may have to send to a stage: waiting ones
    (a lost message) and held ones whose lease expired (a dead worker)."""
    for s in stages_of(table):
        yield s.ready, s
        if s.holds_own_state:
            yield s.working, s


def working_states(table: Table) -> tuple[str, ...]:
    """States in which a worker holds the row (stages with a working state of their own)."""
    return tuple(s.working for s in stages_of(table) if s.holds_own_state)


def states_from(name: str) -> tuple[str, ...]:
    """States of rows that stage ``name`` has finished or is working on, and every later stage's states,
    except failures of ``name`` itself: e.g. from ``export`` on, a clip's frames are fixed."""
    first = stage(name)
    later = stages_of(first.table)[stages_of(first.table).index(first) + 1 :]
    found = [first.working, first.done] if first.holds_own_state else [first.done]
    for s in later:
        found += [s.ready, s.working, s.done, s.failed]
    return tuple(dict.fromkeys(found))


def finished_states(name: str) -> tuple[str, ...]:
    """States of rows stage ``name`` has finished (its output exists), including later stages' failures."""
    return tuple(state for state in states_from(name) if state != stage(name).working)


def positions(table: Table) -> dict[str, tuple[Stage, bool]]:
    """For every state of ``table`` that waits for or is in a stage: (that stage, whether it is running)."""
    found: dict[str, tuple[Stage, bool]] = {}
    for s in stages_of(table):
        found[s.ready] = (s, False)
        if s.holds_own_state:
            found[s.working] = (s, True)
    return found
