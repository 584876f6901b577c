"""The stand-alone scene decode: every frame's thumbnail, leaving B-frames undecoded where nothing happens.

About half the frames of internet video (H.264, HEVC) are B-frames that no other frame predicts from, and the
decoder can leave any of them out without touching another frame (FFmpeg's ``skip_frame = NONREF``, set
packet by packet). The detector needs every frame where the picture changes, but not those of a still or
slowly changing stretch, where a left-out frame is the blend of its two neighbours to within compression
noise. So while the recent frames are quiet, such frames are left out; when both neighbours of a gap are
decoded, the gap is checked: if they differ by less than the detector's floor (below which it fires on
nothing) the gap is filled with their blend, otherwise its frames are decoded after all, from the keyframe
before them. Every frame where the picture changes enough to matter is therefore a decoded frame; a left-out
frame costs nothing but its share of the bitstream's parsing. Decoding again is dear, so the choice is
cautious: the frames it rests on were shown several packets ago, and a cut shows first in the bitstream (a
keyframe, or a packet far bigger than the last ones), which stops the leaving-out until the cut has passed.
A file of some length is skimmed in parts that begin on keyframes, one per core at once, each with a skimmer
of its own: every frame once, in order, decoded frames the same as a whole decode's.

No library decodes selectively like this (decoders drop non-reference frames all or none), hence this module.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal, NamedTuple

import av
import cv2
import numpy as np

from heaters.media.features import RETURN_CHECK, hsv_distance, thumbnails

SKIMMABLE = {"h264", "hevc"}  # codecs whose decoder honours skip_frame = NONREF
QUIET = 2.8  # frames as far apart as a gap's neighbours differing by less than this (mean HSV, 0..255)
MAX_SPAN = 8
QUIET_FRAMES = 6  # this many quiet frames in a row before frames are left out; twice as many after each
# gap that had to be decoded again (a picture that changes unevenly, like a drift of light, is a poor bet)
# A packet this many times the largest of the last 16 carries a new picture (a cut, a burst of motion): the
# frames around it are decoded until it has been shown and QUIET_FRAMES quiet frames have followed.
BIG = 1.5
FILL_BELOW = RETURN_CHECK  # a gap whose neighbours differ by less is filled with their blend
# The loop filter is invisible at 32x18, but only a frame no other frame is predicted from may go without it:
# a reference decoded unfiltered makes every frame predicted from it drift from the encoder's picture (on a
# smooth gradient by 8 brightness levels within one group of pictures, snapping back at the next keyframe: a
# false cut).
DECODE_OPTIONS = {"skip_loop_filter": "noref", "flags2": "+fast"}
# More frame threads than FFmpeg's default (cores + 1): packets go to the threads in turn, and the turn of a
# left-out frame is over at once, so with three per core the cores stay busy on the frames that are decoded.
FRAME_THREADS = min(16, 3 * (os.cpu_count() or 1))
# A file of some length is skimmed in parts, each from a keyframe, PARTS of them at once: one decoder's frame
# threads wait on each other (a P-frame on the rows of the one it is predicted from) and keep two cores ~80%
# busy, independent parts keep them busy. Parts are found by seeking, so only containers whose seeks land on
# the keyframe at or before the time asked for are split; a few parts ahead are held, so memory stays small.
PARTS = max(1, min(4, os.cpu_count() or 1))
PART_SECONDS = 30.0  # the length of a part, if the file has more than PARTS of them
MIN_PART_SECONDS = 10.0  # a shorter part does not repay its start (a container opened, a seek)
SPLITTABLE = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}


def open_decoder(stream: av.VideoStream, threads: int = FRAME_THREADS) -> None:
    """Decode only what 32x18 features need: no H.264/HEVC loop filter on non-reference frames, frame
    threads."""
    stream.thread_type = "AUTO"
    stream.codec_context.thread_count = threads
    stream.codec_context.options = dict(DECODE_OPTIONS)


class Thumbnail(NamedTuple):
    thumb: np.ndarray  # THUMB_H x THUMB_W RGB
    small: np.ndarray | None = None  # SMALL_H x SMALL_W RGB, when asked for
    # decoded; left out of the decode and filled in as the blend of its neighbours; or left out, then decoded
    # after all because its neighbours differ
    how: Literal["decoded", "filled", "decoded again"] = "decoded"
    pts: int | None = None  # the frame's presentation time, in the stream's time base

    @property
    def filled(self) -> bool:
        return self.how == "filled"


class Unskimmable(Exception):
    """The stream lacks what leaving frames out needs (timestamps on every packet and frame, undamaged data):
    decode it whole."""


def frame_thumbnails(
    path: str | Path, container: av.container.InputContainer, stream: av.VideoStream, small: bool = False,
    skim: bool = True,
) -> Iterator[Thumbnail]:
    """The thumbnail (and with ``small`` the small frame) of every frame of ``stream`` in display order.

    Small frames (for a learned detector) need every frame decoded, so with ``small`` nothing is left out,
    nor for codecs outside SKIMMABLE (or with ``skim=False``). A stream whose packets lack timestamps, or
    whose data is damaged, raises ``Unskimmable``, possibly after some frames: start again with
    ``skim=False``."""
    open_decoder(stream)
    if small or not skim or stream.codec_context.name not in SKIMMABLE:
        for frame in container.decode(stream):
            yield Thumbnail(*thumbnails(frame, small), pts=frame.pts)
        return
    starts = part_starts(container, stream)
    if len(starts) > 1:
        yield from _in_parts(Path(path), stream.index, starts)
        return
    yield from _Skimmer(Path(path), stream).run(container)


def part_starts(
    container: av.container.InputContainer, stream: av.VideoStream, parts: int | None = None
) -> list[int | None]:
    """Where the parts of a split skim begin: None for the first (the stream's start), then the pts of the
    keyframes at or before equal shares of the duration (at least ``parts``, default PARTS, shares, of at most
    PART_SECONDS each); a single None where the file is not split."""
    seconds = (container.duration or 0) / 1e6
    at_once = PARTS if parts is None else parts
    shares = min(max(at_once, math.ceil(seconds / PART_SECONDS)), int(seconds // MIN_PART_SECONDS))
    base = stream.time_base
    if at_once < 2 or shares < 2 or container.format.name not in SPLITTABLE or not base:
        return [None]
    starts: list[int | None] = [None]
    last = stream.start_time or 0
    with av.open(container.name) as probe:
        video = _same_stream(probe, stream.index)
        for k in range(1, shares):
            probe.seek(int(k * seconds / shares / base), stream=video, backward=True)
            first = next((p for p in probe.demux(video) if p.pts is not None), None)
            if first is not None and first.pts is not None and first.is_keyframe and first.pts > last:
                starts.append(last := first.pts)
    return starts


def _same_stream(container: av.container.InputContainer, index: int) -> av.VideoStream:
    return next(s for s in container.streams.video if s.index == index)


def _in_parts(path: Path, index: int, starts: list[int | None]) -> Iterator[Thumbnail]:
    """Skim the parts on PARTS threads, a few ahead of the one being yielded, and yield their frames in order."""
    ends = [*starts[1:], None]
    threads = max(2, FRAME_THREADS // PARTS)
    stop = threading.Event()  # the caller has stopped reading: parts under way end early

    def skim_part(i: int) -> list[Thumbnail]:
        frames = []
        try:
            for thumb in _part(path, index, starts[i], ends[i], threads):
                if stop.is_set():
                    break
                frames.append(thumb)
        except av.error.FFmpegError:  # not a damaged tail to keep the frames before: let a whole decode decide
            raise Unskimmable from None
        return frames

    with ThreadPoolExecutor(PARTS, thread_name_prefix="skim") as pool:
        following = min(PARTS + 1, len(starts))  # the first part not yet under way
        ahead: deque[Future[list[Thumbnail]]] = deque(pool.submit(skim_part, i) for i in range(following))
        try:
            while ahead:
                frames = ahead.popleft().result()  # a part's failure is raised here, after the parts before it
                if following < len(starts):
                    ahead.append(pool.submit(skim_part, following))
                    following += 1
                yield from frames
        finally:
            stop.set()
            for future in ahead:
                future.cancel()


def _part(path: Path, index: int, start: int | None, end: int | None, threads: int) -> Iterator[Thumbnail]:
    """The frames shown from the keyframe at ``start`` (None: the stream's start) up to ``end`` (None: its end).
    Frames that a decode from ``start`` shows before it (an open group of pictures' leading frames) belong to
    the part before, which decodes on past ``end`` until every frame shown before it is out."""
    with av.open(str(path)) as container:
        stream = _same_stream(container, index)
        open_decoder(stream, threads)
        if start is not None:
            container.seek(start, stream=stream, backward=True)
        for thumb in _Skimmer(path, stream).run(container):
            assert thumb.pts is not None  # the skimmer raises Unskimmable for a frame without one
            if start is not None and thumb.pts < start:
                continue
            if end is not None and thumb.pts >= end:
                return
            yield thumb


def _hsv(thumb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV).astype(np.float32)


class _Skimmer:
    def __init__(self, path: Path, stream: av.VideoStream) -> None:
        self.path = path
        self.stream = stream
        self.pending: list[tuple[int, bool]] = []  # (pts, sent as skippable) of packets not yet accounted for
        # How far apart the neighbours of a gap lie: 2 for single left-out frames, more for longer B-runs.
        self.span = 2
        self.quiet_run = 0  # frames in a row that changed by less than QUIET over ``span`` frames
        self.patience = QUIET_FRAMES
        self.last_hsv: deque[np.ndarray] = deque(maxlen=MAX_SPAN)
        self.sizes: deque[int] = deque(maxlen=32)
        self.unsettled: int | None = None  # pts of a big packet not yet shown
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # the last frame's RGB and HSV thumbnail
        self.again: av.container.InputContainer | None = None  # for decoding gaps after all

    def run(self, container: av.container.InputContainer) -> Iterator[Thumbnail]:
        codec = self.stream.codec_context
        try:
            mode: Literal["DEFAULT", "NONREF"] = "DEFAULT"
            for packet in container.demux(self.stream):
                if packet.size == 0:  # the demuxer's end-of-stream marker: flush
                    frames = codec.decode(None)
                else:
                    if packet.pts is None:
                        raise Unskimmable
                    self._note_size(packet, packet.pts)
                    leave_out = self._quiet() and not packet.is_keyframe and self._small(packet)
                    wanted: Literal["DEFAULT", "NONREF"] = "NONREF" if leave_out else "DEFAULT"
                    if wanted != mode:
                        codec.skip_frame = mode = wanted
                    heapq.heappush(self.pending, (packet.pts, wanted == "NONREF"))
                    frames = codec.decode(packet)
                for frame in frames:
                    yield from self._arrived(frame)
            yield from self._tail()
        except av.error.FFmpegError:
            # Damaged data: a decode of every frame decides what is kept, so that frame N stays frame N.
            raise Unskimmable from None
        finally:
            if self.again is not None:
                self.again.close()

    def _note_size(self, packet: av.Packet, pts: int) -> None:
        # Decisions are made on frames shown several packets ago (the decoder's threads and reordering delay
        # them), so a cut is seen in the bitstream first: its frame costs many more bits than the last ones.
        recent = list(self.sizes)[-16:]
        if packet.is_keyframe or (len(recent) == 16 and packet.size > BIG * max(recent)):
            self.unsettled = pts if self.unsettled is None else max(pts, self.unsettled)
        self.sizes.append(packet.size)

    def _quiet(self) -> bool:
        return self.unsettled is None and self.quiet_run >= self.patience

    def _small(self, packet: av.Packet) -> bool:
        """No bigger than the typical recent packet: a frame that is hard to predict (a flash, a new picture)
        costs more bits, and is decoded rather than left out and then decoded again."""
        return len(self.sizes) < 8 or packet.size <= sorted(self.sizes)[len(self.sizes) // 2]

    def _arrived(self, frame: av.VideoFrame) -> Iterator[Thumbnail]:
        if frame.pts is None:
            raise Unskimmable
        # Every packet shown before this frame has been sent: the skippable ones still pending were left out.
        gap = []
        while self.pending and self.pending[0][0] <= frame.pts:
            pts, skippable = heapq.heappop(self.pending)
            if pts < frame.pts and skippable:
                gap.append(pts)
        if self.unsettled is not None and frame.pts >= self.unsettled:
            self.unsettled = None
            self.quiet_run = 0  # quiet again only after more quiet frames
        thumb, _ = thumbnails(frame, False)
        hsv = _hsv(thumb)
        if gap and self.previous is not None:
            self.span = min(MAX_SPAN, max(self.span, len(gap) + 1))
            yield from self._fill(gap, thumb, hsv)
        elif gap:  # left out before any frame arrived: cannot happen for a stream that starts on a keyframe
            raise Unskimmable
        self._step(thumb, hsv)
        yield Thumbnail(thumb, pts=frame.pts)

    def _fill(self, gap: list[int], thumb: np.ndarray, hsv: np.ndarray) -> Iterator[Thumbnail]:
        assert self.previous is not None
        before, before_hsv = self.previous
        if float(hsv_distance(before_hsv, hsv, axis=(0, 1, 2))) < FILL_BELOW:
            for i, pts in enumerate(gap, 1):
                w = i / (len(gap) + 1)
                blend = np.rint(before * (1 - w) + thumb * w).astype(np.uint8)
                self._step(blend, _hsv(blend))
                yield Thumbnail(blend, how="filled", pts=pts)
            return
        yield from self._decoded_again(gap)

    def _tail(self) -> Iterator[Thumbnail]:
        """Frames left out after the last decoded one (no later neighbour to blend with): decode them."""
        gap = sorted(pts for pts, skippable in self.pending if skippable)
        if gap:
            yield from self._decoded_again(gap)

    def _decoded_again(self, gap: list[int]) -> Iterator[Thumbnail]:
        self.patience = min(16 * QUIET_FRAMES, 2 * self.patience)
        self.quiet_run = 0
        decoded = self._decode_again(gap)
        for pts in gap:
            if pts not in decoded:
                raise Unskimmable
            self._step(decoded[pts], _hsv(decoded[pts]))
            yield Thumbnail(decoded[pts], how="decoded again", pts=pts)

    def _step(self, thumb: np.ndarray, hsv: np.ndarray) -> None:
        # Two frames apart: what the neighbours of a left-out frame will differ by.
        if len(self.last_hsv) >= self.span:
            change = float(hsv_distance(self.last_hsv[-self.span], hsv, axis=(0, 1, 2)))
            self.quiet_run = self.quiet_run + 1 if change < QUIET else 0
        self.last_hsv.append(hsv)
        self.previous = (thumb, hsv)

    def _decode_again(self, gap: list[int]) -> dict[int, np.ndarray]:
        """Thumbnails of the frames at ``gap`` (sorted pts), decoded from the keyframe before them."""
        fresh = self.again is None
        if self.again is None:
            self.again = av.open(str(self.path))
        stream = _same_stream(self.again, self.stream.index)  # the one skimmed
        if fresh:
            open_decoder(stream)
        self.again.seek(gap[0], stream=stream, backward=True)
        wanted, found = set(gap), {}
        codec = stream.codec_context
        for packet in self.again.demux(stream):
            # On the way only the frames others are predicted from (and the wanted ones) are decoded.
            codec.skip_frame = "DEFAULT" if packet.pts in wanted else "NONREF"
            for frame in codec.decode(packet if packet.size else None):
                if frame.pts in wanted:
                    found[frame.pts] = thumbnails(frame, False)[0]
            if len(found) == len(wanted) or (packet.pts is not None and packet.pts > gap[-1] and packet.is_keyframe):
                break
        return found
