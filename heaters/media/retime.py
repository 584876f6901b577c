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
        relative = time - self._origin
        # slot n is filled while (n + 1/2) / fps < relative  ->  n < relative * fps - 1/2
        limit = relative * self.fps - Fraction(1, 2)
        count = max(0, -(-limit.numerator // limit.denominator))  # ceil
        return max(0, count - self.next_slot)

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
    grid = CfrGrid(fps)
    starts: list[int | None] = []
    last: Fraction | None = None
    last_duration = 1 / fps
    for time in times:
        if time is None:
            time = (last or Fraction(0)) + 1 / fps
        elif last is not None and time <= last:
            starts.append(None)  # resolved below
            continue
        elif last is not None:
            last_duration = time - last
        grid.start(time)
        starts.append(grid.next_slot)
        last = time
    if last is None:
        return [], 0
    total = grid.next_slot + grid.finish(last + last_duration)
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
