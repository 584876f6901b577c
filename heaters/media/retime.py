"""Put decoded frames on one constant-frame-rate grid, upright.

Phones and screen recorders write variable frame rate; the whole project counts integer frames, so the
encode stage maps every source frame onto the grid ``n / fps`` (duplicating a frame that lasts several slots,
dropping one that falls between slots) — the same rule as FFmpeg's ``fps`` filter: slot n shows the last
frame that started before the middle of the slot. Display rotation is applied to the pixels once here, so
masters, proxies and exports never depend on a player honouring a rotation flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

import av
from av.filter import Graph


def first_slot(time: Fraction, origin: Fraction, fps: Fraction) -> int:
    """The first grid slot a frame starting at ``time`` fills: slot n shows the last frame that started before
    its middle, (n + 1/2) / fps after ``origin``, so n = ceil((time - origin) * fps - 1/2), at least 0."""
    limit = (time - origin) * fps - Fraction(1, 2)
    return max(0, -(-limit.numerator // limit.denominator))


def frame_time(frame: av.VideoFrame | av.AudioFrame) -> Fraction | None:
    """When ``frame`` starts, in seconds, or None if it carries no timestamp."""
    if frame.pts is None or frame.time_base is None:
        return None
    return Fraction(frame.pts) * frame.time_base


class SourceClock:
    """The start time of each decoded frame as the encode counts it: its timestamp, or one frame period after
    the last when it has none. A frame whose timestamp repeats or goes back shows nothing new and is skipped.
    ``end`` is when the last frame ends, taking it to last as long as the gap before it."""

    def __init__(self, fps: Fraction) -> None:
        self.fps = fps
        self.last: Fraction | None = None
        self._last_duration = 1 / fps

    def start(self, time: Fraction | None) -> Fraction | None:
        """Account for the next decoded frame, whose timestamp says ``time``: its start time, or None to skip
        it."""
        if time is None:
            time = (self.last if self.last is not None else Fraction(0)) + 1 / self.fps
        elif self.last is not None:
            if time <= self.last:
                return None
            self._last_duration = time - self.last
        self.last = time
        return time

    @property
    def end(self) -> Fraction:
        assert self.last is not None, "no frame has started"
        return self.last + self._last_duration


class CfrGrid:
    """Feed frames' start times (seconds, any origin) in order; ``slots`` says how many grid slots each
    previous frame fills. Call ``finish`` with the last frame's end time for the final count."""

    def __init__(self, fps: Fraction) -> None:
        self.fps = fps
        self.next_slot = 0
        self._origin: Fraction | None = None

    def _slots_before(self, time: Fraction) -> int:
        """Slots whose midpoint lies before ``time`` minus those already filled."""
        assert self._origin is not None
        return max(0, first_slot(time, self._origin, self.fps) - self.next_slot)

    def start(self, time: Fraction) -> int:
        """A frame starting at ``time`` arrived: return how many slots the *previous* frame fills."""
        if self._origin is None:
            self._origin = time
            return 0
        count = self._slots_before(time)
        self.next_slot += count
        return count

    def finish(self, end_time: Fraction) -> int:
        """The last frame ends at ``end_time``: return how many slots it fills (at least one)."""
        if self._origin is None:
            return 0
        count = max(1, self._slots_before(end_time))
        self.next_slot += count
        return count


def grid_starts(times: Iterable[Fraction | None], fps: Fraction) -> tuple[list[int], int]:
    """Where each decoded frame (start time in seconds, None if unknown) first shows on the encode's grid,
    and the grid's length: frame numbers as ingest will count them. A frame that fills no slot, or that the
    encode skips (its time repeats or goes back), lands where the next frame shown starts."""
    grid, clock = CfrGrid(fps), SourceClock(fps)
    starts: list[int | None] = []
    for stamped in times:
        time = clock.start(stamped)
        if time is None:
            starts.append(None)  # resolved below
            continue
        grid.start(time)
        starts.append(grid.next_slot)
    if clock.last is None:
        return [], 0
    total = grid.next_slot + grid.finish(clock.end)
    following, resolved = total - 1, []
    for start in reversed(starts):
        following = following if start is None else start
        resolved.append(following)
    return resolved[::-1], total


class Upright:
    """Turns frames by their display rotation (counter-clockwise degrees, as PyAV reports it)."""

    def __init__(self, template: av.VideoFrame, rotation: int) -> None:
        self.rotation = rotation % 360
        self._graph: Graph | None = None
        if self.rotation == 0:
            return
        graph = Graph()
        source = graph.add_buffer(
            width=template.width, height=template.height, format=template.format,
            time_base=template.time_base or Fraction(1, 1000),
        )
        steps = {90: ["transpose=cclock"], 270: ["transpose=clock"], 180: ["hflip", "vflip"]}[self.rotation]
        nodes = [source]
        for step in steps:
            name, _, args = step.partition("=")
            nodes.append(graph.add(name, args or None))
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes).configure()
        self._graph = graph

    def __call__(self, frame: av.VideoFrame) -> Iterator[av.VideoFrame]:
        if self._graph is None:
            yield frame
            return
        self._graph.push(frame)
        while True:
            try:
                out = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            assert isinstance(out, av.VideoFrame)
            yield out


def rotation_of(frame: av.VideoFrame) -> int:
    """Counter-clockwise degrees, multiple of 90, from the frame's display matrix (0 when absent)."""
    try:
        return round(float(frame.rotation) / 90) * 90 % 360
    except (AttributeError, TypeError, ValueError):
        return 0
