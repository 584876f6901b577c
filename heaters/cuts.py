"""Pure cut algebra on integer frames.

A video of ``total`` frames is partitioned into half-open spans ``[start, end)``. A *cut* is a frame where a
span starts, other than 0. The partition and the sorted tuple of cuts are two views of the same thing; every
operation here takes and returns plain values and raises ``InvalidCut`` / ``MeceViolation`` naming the exact
problem, so the services layer, the CLI, the web app and the property tests share one definition of "valid".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from heaters.errors import InvalidCut, MeceViolation

Cuts = tuple[int, ...]


@dataclass(frozen=True, order=True)
class Span:
    """Half-open frame range ``[start, end)``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def __contains__(self, frame: object) -> bool:
        return isinstance(frame, int) and self.start <= frame < self.end


def spans_from_cuts(cuts: Iterable[int], total: int) -> tuple[Span, ...]:
    """The partition of ``[0, total)`` that starts a span at 0 and at every cut."""
    ordered = sorted(set(cuts))
    for frame in ordered:
        if not 0 < frame < total:
            raise InvalidCut(f"cut at frame {frame} is outside 1..{total - 1}", code="out_of_range")
    bounds = [0, *ordered, total]
    return tuple(Span(a, b) for a, b in pairwise(bounds))


def cuts_from_spans(spans: Sequence[Span]) -> Cuts:
    return tuple(span.start for span in sorted(spans) if span.start != 0)


def mece_problems(spans: Sequence[Span], total: int) -> list[str]:
    """Every way ``spans`` fails to partition ``[0, total)`` exactly; empty when they do."""
    problems: list[str] = []
    ordered = sorted(spans)
    if not ordered:
        return [] if total == 0 else [f"no clips cover frames 0..{total - 1}"]
    for span in ordered:
        if span.length <= 0:
            problems.append(f"empty or reversed clip [{span.start}, {span.end})")
    if ordered[0].start > 0:
        problems.append(f"gap at frame 0: first clip starts at {ordered[0].start}")
    if ordered[0].start < 0:
        problems.append(f"clip [{ordered[0].start}, {ordered[0].end}) starts before frame 0")
    for left, right in pairwise(ordered):
        if right.start > left.end:
            problems.append(f"gap at frame {left.end}: frames {left.end}..{right.start - 1} are in no clip")
        elif right.start < left.end:
            problems.append(
                f"overlap between clips [{left.start}, {left.end}) and [{right.start}, {right.end})"
            )
    last = max(span.end for span in ordered)
    if last < total:
        problems.append(f"coverage short of the end: frames {last}..{total - 1} are in no clip")
    elif last > total:
        problems.append(f"clip ends at {last}, past the last frame {total - 1}")
    return problems


def validate_spans(spans: Sequence[Span], total: int) -> None:
    """Raise ``MeceViolation`` naming every problem unless ``spans`` partition ``[0, total)``."""
    problems = mece_problems(spans, total)
    if problems:
        raise MeceViolation("; ".join(problems), "run `heaters validate` and restore from the audit log")


def check_new_cut(cuts: Cuts, frame: int, total: int, min_length: int = 1) -> None:
    """Raise unless a cut may be placed at ``frame`` given the other ``cuts``."""
    if not 0 <= frame < total:
        raise InvalidCut(f"frame {frame} is out of range 0..{total - 1}", code="out_of_range")
    if frame == 0:
        raise InvalidCut("frame 0 is the start of the video, not a cut point", code="at_boundary")
    if frame in cuts:
        raise InvalidCut(f"frame {frame} is already a cut", "move or remove it instead", code="at_boundary")
    left, right = neighbours(cuts, frame, total)
    if frame - left < min_length or right - frame < min_length:
        raise InvalidCut(
            f"a cut at frame {frame} is too close to its neighbours at {left} and {right}",
            f"clips must be at least {min_length} frames long",
            code="too_close",
        )


def neighbours(cuts: Cuts, frame: int, total: int) -> tuple[int, int]:
    """The nearest span boundaries strictly left and right of ``frame`` (0 and ``total`` at the ends)."""
    left = max((c for c in cuts if c < frame), default=0)
    right = min((c for c in cuts if c > frame), default=total)
    return left, right


def add_cut(cuts: Cuts, frame: int, total: int, min_length: int = 1) -> Cuts:
    check_new_cut(cuts, frame, total, min_length)
    return tuple(sorted((*cuts, frame)))


def remove_cut(cuts: Cuts, frame: int, total: int) -> Cuts:
    if frame not in cuts:
        if not 0 <= frame < total:
            raise InvalidCut(f"frame {frame} is out of range 0..{total - 1}", code="out_of_range")
        raise InvalidCut(f"frame {frame} is not a cut", "list cuts with `heaters cuts list`", code="not_a_cut")
    return tuple(c for c in cuts if c != frame)


def move_cut(cuts: Cuts, old: int, new: int, total: int, min_length: int = 1) -> Cuts:
    remaining = remove_cut(cuts, old, total)
    if old == new:
        raise InvalidCut(f"the cut is already at frame {new}", code="at_boundary")
    left, right = neighbours(remaining, old, total)
    if not left < new < right:
        raise InvalidCut(
            f"cannot move the cut at {old} to {new}: a cut may not pass its neighbours at {left} and {right}",
            "remove it and add a new one instead",
            code="too_close" if 0 <= new < total else "out_of_range",
        )
    return add_cut(remaining, new, total, min_length)
