"""Reading the original as the master (``HEATERS_MASTER=original``): its frames on the encode's CFR grid.

A lossy internet download is already the best copy there is; an FFV1 master of it is 10–15× its size. With
this setting the encode stage writes only the proxy, and exports decode the original itself. Frame N must be
the same picture as in the proxy, so the original is put on the grid by the very rule the encode used
(``retime.CfrGrid``): slot n shows the last frame that started before the middle of the slot, counted from the
first decoded frame, turned upright. Each frame's slots follow from its own start time and the next one's, so
an export can seek close to its first frame instead of decoding the video from the beginning.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from heaters.errors import MediaError
from heaters.media.probe import normalise_rate, open_media, require_video
from heaters.media.retime import SourceClock, Upright, first_slot, frame_time, rotation_of

# How far before the wanted time the seek lands, so the keyframe before it is surely included.
SEEK_MARGIN_SECONDS = 2


def _times(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    """Decoded frames with their start time, dropping repeated or out-of-order times as the encode does."""
    clock = SourceClock(normalise_rate(stream.average_rate, stream.guessed_rate))
    for frame in container.decode(stream):
        time = clock.start(frame_time(frame))
        if time is not None:
            yield frame, time


def video_start(path: str | Path) -> Fraction:
    """Where the video stream starts, in seconds: the encode aligned the master's audio to this point."""
    with open_media(path) as container:
        stream = require_video(container, Path(path).name)
        return Fraction(stream.start_time or 0) * stream.time_base if stream.time_base else Fraction(0)


def grid_frames(path: str | Path, start: int, end: int) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    """Frames ``start..end-1`` of the original on the encode's grid, upright, each with the grid's fps."""
    name = Path(path).name
    with open_media(path) as container:
        stream = require_video(container, name)
        stream.thread_type = "AUTO"
        fps = normalise_rate(stream.average_rate, stream.guessed_rate)
        opening = next(_times(container, stream), None)
        if opening is None:
            raise MediaError(f"{name}: no video frame could be decoded", "the original is damaged; download it again")
        first, origin = opening
        upright = Upright(first, rotation_of(first))
        if start > 0 and stream.time_base is not None:
            wanted = origin + Fraction(start) / fps - SEEK_MARGIN_SECONDS
            container.seek(max(0, int(wanted / stream.time_base)), stream=stream, backward=True)
        else:
            container.seek(0)
        yield from _place(_times(container, stream), upright, origin, fps, start, end, name, path)


def _place(
    frames: Iterator[tuple[av.VideoFrame, Fraction]], upright: Upright, origin: Fraction, fps: Fraction,
    start: int, end: int, name: str, path: str | Path,
) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    held: av.VideoFrame | None = None
    slot = start
    for decoded, time in frames:
        starts_at = first_slot(time, origin, fps)
        if held is None and starts_at > start:
            # The seek landed after the frame showing at `start` (a sparse index): read from the beginning.
            yield from _from_beginning(path, upright, origin, fps, start, end, name)
            return
        for frame in upright(decoded):
            if held is not None:
                for _ in range(max(slot, start), min(starts_at, end)):
                    yield held, fps
            if starts_at >= end:
                return
            held, slot = frame, starts_at
    if held is not None:  # the last frame lasts to the end of the video
        for _ in range(max(slot, start), end):
            yield held, fps


def _from_beginning(
    path: str | Path, upright: Upright, origin: Fraction, fps: Fraction, start: int, end: int, name: str
) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    with open_media(path) as container:
        stream = require_video(container, name)
        stream.thread_type = "AUTO"
        yield from _place(_times(container, stream), upright, origin, fps, start, end, name, path)
