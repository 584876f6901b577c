"""Segment arithmetic on the constant-frame-rate timeline (pure: no I/O).

A long source is encoded as independent segments, each a half-open frame range ``[start, end)`` of the CFR
grid. Boundaries are ``ceil(k * seconds * fps)``, so they depend only on the frame rate and the segment
length: frame N belongs to the same segment (and is the same picture) whichever worker encodes it. The last
segment is open-ended (``end`` None): only decoding to the end of the source says how many frames it has, so
the video's exact frame count comes from the pieces, never from the container's duration estimate.

While segments finish in any order, ``encoded_prefix`` says how far the video is encoded without a gap, and
``committed_edge`` how much of that scene detection may already decide: cuts near the edge of the encoded
part wait for the next segment, whose frames they need as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

# Frames of context the scene detector reads on each side of a cut (features look 11 frames around a frame,
# gradual transitions are judged against a baseline up to 4x10 frames away, plus the shortest-shot rule).
DETECT_CONTEXT = 128


@dataclass(frozen=True)
class Planned:
    """One segment of the plan: frames ``[start, end)``; ``end`` None for the last one (to the source's end)."""

    index: int
    start: int
    end: int | None


@dataclass(frozen=True)
class Done:
    """A finished segment: ``frames`` written from ``start``; ``reached_end`` if decoding hit the source's end."""

    index: int
    start: int
    end: int | None
    frames: int
    reached_end: bool


def frame_at(seconds: Fraction, fps: Fraction) -> int:
    """The first grid frame at or after ``seconds``: ``ceil(seconds * fps)``."""
    value = Fraction(seconds) * fps
    return -(-value.numerator // value.denominator)


def plan(estimated_frames: int, fps: Fraction, seconds: float) -> list[Planned]:
    """Segments of about ``seconds`` each for a source of about ``estimated_frames`` frames.

    ``seconds <= 0`` or a source shorter than two segments gives one open-ended segment. The last segment
    absorbs the remainder (between one and two segment lengths), so a duration estimate that is a little long
    does not leave an empty segment at the end.
    """
    if seconds <= 0:
        return [Planned(0, 0, None)]
    length = Fraction(seconds).limit_denominator(1000)
    bounds = [0]
    k = 1
    while True:
        b = frame_at(k * length, fps)
        nxt = frame_at((k + 1) * length, fps)
        if nxt > estimated_frames:
            break
        bounds.append(b)
        k += 1
    return [
        Planned(i, a, bounds[i + 1] if i + 1 < len(bounds) else None) for i, a in enumerate(bounds)
    ]


def encoded_prefix(done: Sequence[Done], planned: int) -> tuple[int, bool, int]:
    """``(frames, complete, segments)``: how many leading frames are encoded without a gap, whether that is the
    whole video (its exact frame count then), and how many leading segments that covers.

    A segment that reached the source's end early ends the video there; later segments must then be empty.
    Raises ``ValueError`` for pieces that do not fit together (a bug or a changed original).
    """
    by_index = {d.index: d for d in done}
    frames = 0
    for i in range(planned):
        d = by_index.get(i)
        if d is None:
            return frames, False, i
        if d.start != frames and not (d.frames == 0 and d.reached_end):
            raise ValueError(f"segment {i} starts at frame {d.start}, the pieces before it end at {frames}")
        if d.end is not None and d.frames > d.end - d.start:
            raise ValueError(f"segment {i} holds {d.frames} frames, more than its range [{d.start}, {d.end})")
        frames = d.start + d.frames if d.frames else frames
        full = d.end is not None and d.frames == d.end - d.start and not d.reached_end
        if not full:
            later = [e for e in done if e.index > i and e.frames]
            if later:
                raise ValueError(f"segment {i} ended the source at frame {frames}; segment {later[0].index} has more")
            if frames == 0:
                raise ValueError("the source holds no frame")
            return frames, True, planned
    return frames, True, planned


def committed_edge(prefix_frames: int, complete: bool) -> int:
    """Frames before which scene detection's answer is final: all of them once the video is encoded, else the
    encoded prefix minus the detector's context (the next segment decides the cuts near the edge)."""
    if complete:
        return prefix_frames
    return max(0, prefix_frames - DETECT_CONTEXT)


def split_tail(tail_start: int, cuts: Sequence[int], edge: int) -> tuple[int, ...]:
    """The detected cuts that split the locked tail clip starting at ``tail_start``, up to ``edge``."""
    return tuple(sorted({int(c) for c in cuts if tail_start < c < edge}))
