"""Encode one segment of a source: frames ``[start, end)`` of its constant-frame-rate grid, from one decode.

A segment job reads only its part of the original: it seeks to the keyframe before its first frame, decodes
and drops what lies before, and stops as soon as the picture for its last frame is known. Each decoded frame
is placed on the grid exactly as the whole-file encode (``transcode``) places it — slot n shows the last
frame that started before the middle of slot n, measured from the source's first frame — so frame N is the
same picture whichever worker made it. The frame objects go to the same outputs as there (``_Outputs``):

* a **master piece** (FFV1/MKV) with the audio of exactly the segment's time span (FLAC), sample
  ``round(n / fps * rate)`` of the whole track being frame n's first, so the pieces' audio joins gaplessly;
* a **proxy piece** (all-intra H.264/MP4) whose frame index is read back from the finished file;
* the **thumbnails** scene detection needs, one per frame (features are computed over the joined
  thumbnails, so frames near a seam see their neighbours in the next piece).

Timestamps inside a piece start at 0; the piece's place on the timeline is its ``start``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import av
import numpy as np

from heaters.errors import Abandoned, MediaError
from heaters.media.audio import AudioTrack
from heaters.media.features import FeatureBuilder
from heaters.media.frame_index import build_index
from heaters.media.pipeline_threads import Channel, Pipeline
from heaters.media.probe import normalise_rate, open_media, refuse_references, require_video
from heaters.media.retime import SourceClock, Upright, first_slot, frame_time, rotation_of
from heaters.media.staging import publish, staged
from heaters.media.transcode import (
    LARGE_PIXELS,
    QUEUE,
    Progress,
    _Outputs,
    _SharedPicture,
    check_pixels,
    count_frames,
    encoder_refusals,
    queue_capacity,
)

# How far before a segment's first frame a seek may land; tried in turn when the demuxer's seek overshoots.
SEEK_MARGINS = (Fraction(0), Fraction(1), Fraction(5), Fraction(30))


@dataclass(frozen=True)
class Timeline:
    """Where a source's grid starts: what every segment job of the source must agree on."""

    fps: Fraction
    origin: Fraction  # seconds of the first decoded video frame: grid slot 0
    audio_start: Fraction  # seconds at which audio sample 0 plays (the video stream's start time)
    estimated_frames: int
    has_audio: bool


@dataclass(frozen=True)
class SegmentResult:
    start: int
    frames: int
    reached_end: bool  # decoding hit the end of the source
    width: int
    height: int
    proxy_width: int
    proxy_height: int
    has_audio: bool
    index: dict[str, Any] | None  # the proxy piece's frame index (None when the segment holds no frame)


def source_timeline(original: str | Path) -> Timeline:
    """Decode the first video frame of ``original`` (cheap) to fix the grid's origin."""
    name = Path(str(original).split("?", 1)[0]).name
    with open_source(original) as container:
        vstream = require_video(container, name)
        fps = normalise_rate(vstream.average_rate, vstream.guessed_rate)
        estimate = vstream.frames or (round(container.duration / av.time_base * fps) if container.duration else 0)
        audio_start = Fraction(vstream.start_time or 0) * vstream.time_base if vstream.time_base else Fraction(0)
        origin: Fraction | None = None
        try:
            for frame in container.decode(vstream):
                origin = _time_of(frame) if frame.pts is not None else Fraction(1) / fps
                break
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{name} is damaged: its first frame does not decode ({exc})", "download it again"
            ) from None
        if origin is None:
            raise MediaError(f"{name}: no video frame could be decoded", "the file is empty, damaged or truncated")
        return Timeline(fps, origin, audio_start, int(estimate), bool(container.streams.audio))


def open_source(original: str | Path) -> av.container.InputContainer:
    """Open the original: a local file, or a URL (a presigned S3 URL) that FFmpeg reads by HTTP ranges, so a
    segment job fetches only the part of the original it decodes, never the whole file."""
    text = str(original)
    if "://" not in text:
        return open_media(original)
    try:
        # Reconnect on a dropped connection; seeking makes FFmpeg ask for the byte range it needs.
        opened = av.open(text, "r", options={"reconnect": "1", "reconnect_streamed": "1", "seekable": "1"})
    except av.error.FFmpegError as exc:
        shown = text.split("?", 1)[0]  # never log a presigned signature
        raise MediaError(f"the original at {shown} cannot be read: {exc}", "check the storage and try again") from None
    return refuse_references("the original", opened)


def _time_of(frame: av.VideoFrame | av.AudioFrame) -> Fraction:
    time = frame_time(frame)
    assert time is not None
    return time


def slot_of(time: Fraction, timeline: Timeline) -> int:
    """Slots whose midpoint lies before ``time``: the first slot a frame starting at ``time`` can fill."""
    return first_slot(time, timeline.origin, timeline.fps)


class _Thumbnails(FeatureBuilder):
    """Keeps the thumbnails themselves (features need neighbours across seams, so they are made later), and with
    ``small_frames`` each frame at 48x27 for a learned detector."""

    def __init__(self, small_frames: bool = False) -> None:
        super().__init__(small_frames=small_frames)
        self.items: list[np.ndarray] = []

    def add(self, thumb: np.ndarray, small: np.ndarray | None = None, *, filled: bool = False) -> None:
        if small is not None:
            self._small.append(small)
        self.items.append(thumb)


class _SpanAudio(AudioTrack):
    """The master piece's audio: samples already cut to the segment's span, written before the picture."""

    def __init__(self, stream: av.AudioStream, samples: np.ndarray) -> None:
        super().__init__(stream, Fraction(0))
        self.skip = 0
        self.pending = [samples.astype(self._dtype).reshape(1, -1)] if samples.size else []


def encode_segment(
    original: str | Path,
    master_path: str | Path,
    proxy_path: str | Path,
    thumbs_path: str | Path,
    *,
    start: int,
    end: int | None,
    timeline: Timeline,
    proxy_crf: int = 23,
    proxy_preset: str = "veryfast",
    proxy_short_side: int = 720,
    progress: Progress | None = None,
    abort: Callable[[], bool] | None = None,
    max_pixels: int = 0,
    keep_master: bool = True,
    small_path: str | Path | None = None,
) -> SegmentResult:
    """Write frames ``[start, end)`` (to the source's end if ``end`` is None) as a master piece, a proxy piece
    and a thumbnail table (``.npy``), and with ``small_path`` the 48x27 frames a learned detector reads. A
    segment past the source's end writes nothing and holds 0 frames. ``abort``, ``max_pixels`` and
    ``keep_master`` work as in ``transcode``."""
    name = Path(str(original).split("?", 1)[0]).name
    if start < 0 or (end is not None and end <= start):
        raise MediaError(f"segment [{start}, {end}) is empty or negative", "this is a bug; report it")
    master_path, proxy_path, thumbs_path = Path(master_path), Path(proxy_path), Path(thumbs_path)
    with staged(master_path, proxy_path) as (master_tmp, proxy_tmp):
        thumbs = _Thumbnails(small_frames=small_path is not None)
        audio = _span_audio(original, timeline, start, end) if timeline.has_audio and keep_master else None
        with encoder_refusals(name):
            frames, reached_end, outputs = _encode_window(
                original, name, master_tmp if keep_master else None, proxy_tmp, start, end, timeline, audio, thumbs,
                proxy_crf, proxy_preset, proxy_short_side, progress, abort, max_pixels,
            )
        if outputs is None:
            return SegmentResult(start, 0, True, 0, 0, 0, 0, False, None)
        index = build_index(proxy_tmp, timeline.fps)
        master_frames = count_frames(master_tmp) if keep_master else frames
        proxy_frames = count_frames(proxy_tmp)
        if not master_frames == proxy_frames == index["frames"] == len(thumbs.items) == frames:
            raise MediaError(
                f"{name}: frame counts of segment [{start}, {end}) disagree (master {master_frames}, proxy "
                f"{proxy_frames}, thumbnails {len(thumbs.items)}, expected {frames})",
                "this is a bug; keep the original and report it",
            )
        np.save(thumbs_path, np.stack(thumbs.items))
        if small_path is not None:
            np.save(small_path, thumbs.small)
        publish(proxy_tmp, *([master_tmp] if keep_master else []))
    return SegmentResult(
        start, frames, reached_end, outputs.width, outputs.height,
        outputs.proxy_w, outputs.proxy_h, outputs.audio is not None, index,
    )


def _decoded_from(
    container: av.container.InputContainer, stream: av.VideoStream, start: int, timeline: Timeline
) -> Iterator[av.VideoFrame]:
    """Decoded frames from one at or before the picture of slot ``start`` onwards (seeking when it helps)."""
    if start == 0:
        yield from container.decode(stream)
        return
    assert stream.time_base is not None
    # Slot ``start`` shows the last frame starting at or before its midpoint.
    wanted = timeline.origin + (Fraction(start) + Fraction(1, 2)) / timeline.fps
    for margin in SEEK_MARGINS:
        target = max(Fraction(0), wanted - margin)
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
        frames = container.decode(stream)
        first = next(frames, None)
        if first is None or (first.pts is not None and _time_of(first) > wanted):
            continue  # landed after the wanted picture: seek further back
        yield first
        yield from frames
        return
    container.seek(0, backward=True)  # a demuxer that cannot seek precisely: read from the start
    yield from container.decode(stream)


def _encode_window(
    original: str | Path, name: str, master_tmp: Path | None, proxy_tmp: Path, start: int, end: int | None,
    timeline: Timeline, audio: AudioTrack | None, thumbs: _Thumbnails, crf: int, preset: str, short_side: int,
    progress: Progress | None, abort: Callable[[], bool] | None, max_pixels: int,
) -> tuple[int, bool, _Outputs | None]:
    """Decode on this thread, encode in the outputs' threads (as ``transcode._encode``), for one window.

    Frames before the window are decoded only to learn which picture fills the window's first slot; they are
    not converted. Returns (frames written, whether the source ended, the outputs if any frame was written).
    """
    fps = timeline.fps
    time_base = 1 / fps
    stop = end if end is not None else 1 << 62
    with open_source(original) as container, Pipeline() as pipeline:
        vstream = require_video(container, name)
        check_pixels(name, vstream.codec_context.width, vstream.codec_context.height, max_pixels)
        pixels = vstream.codec_context.width * vstream.codec_context.height
        vstream.thread_type = "SLICE" if pixels > LARGE_PIXELS else "AUTO"
        outputs: _Outputs | None = None
        to_master: Channel[av.VideoFrame | av.AudioFrame] | None = None
        to_proxy: Channel[av.VideoFrame] | None = None
        upright: Upright | None = None
        shared = _SharedPicture()
        raw: av.VideoFrame | None = None  # the last picture as decoded (upright) ...
        held: tuple[av.VideoFrame, av.VideoFrame] | None = None  # ... and converted, once the outputs exist
        held_slot = 0  # the first slot the last picture fills
        clock = SourceClock(fps)
        written = 0

        def emit(until: int) -> None:
            """Send the last picture for its slots ``[held_slot, until)`` that fall inside the window."""
            nonlocal outputs, to_master, to_proxy, held, written
            lo, hi = max(held_slot, start), min(until, stop)
            if hi <= lo:
                return
            assert raw is not None
            if outputs is None:  # the first picture inside the window: sizes and formats come from it
                check_pixels(name, raw.width, raw.height, max_pixels)
                outputs = _Outputs(master_tmp, proxy_tmp, raw, fps, audio, crf, preset, short_side)
                to_master = pipeline.stage("encode-master", outputs.encode_master, capacity=queue_capacity(raw))
                to_proxy = pipeline.stage(
                    "encode-proxy", partial(outputs.encode_proxy, builder=thumbs), capacity=QUEUE
                )
            if held is None:
                held = (outputs.master_frame(raw), outputs.proxy_frame(raw))
            assert to_master is not None and to_proxy is not None
            master, small = held
            for slot in range(lo, hi):
                if slot > lo:  # the same picture again: new frame objects, as the previous ones are in use
                    again = shared(master)
                    small = again if small is master else shared(small)
                    master = again
                for frame in (master, small):
                    frame.pts = slot - start
                    frame.time_base = time_base
                to_master.put(master)
                to_proxy.put(small)
                written += 1
                if progress is not None and written % 25 == 0:
                    progress(written, (end - start) if end is not None else written)

        reached_end = True
        try:
            for decoded in _decoded_from(container, vstream, start, timeline):
                if abort is not None and abort():
                    raise Abandoned(f"{name}: segment [{start}, {end}) stopped after {written} frames")
                time = clock.start(frame_time(decoded))
                if time is None:
                    continue  # a repeated or out-of-order timestamp: nothing new to show
                if upright is None:
                    upright = Upright(decoded, rotation_of(decoded))
                slot = slot_of(time, timeline)
                for frame in upright(decoded):
                    if raw is not None:
                        emit(slot)
                        if slot >= stop:  # every slot of the window is known
                            reached_end = False
                            break
                    raw = frame
                    held = (outputs.master_frame(frame), outputs.proxy_frame(frame)) if outputs is not None else None
                    held_slot = slot
                if not reached_end:
                    break
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{name} is damaged: decoding segment [{start}, {end}) failed ({exc})", "download the video again"
            ) from None
        if reached_end and raw is not None:
            emit(held_slot + max(1, slot_of(clock.end, timeline) - held_slot))
    if progress is not None:
        progress(written, written)
    return written, reached_end, outputs


def _span_audio(original: str | Path, timeline: Timeline, start: int, end: int | None) -> _SpanAudio | None:
    """The source's audio for frames ``[start, end)``: samples ``round(n / fps * rate)`` up to the end's,
    silence where the source has none (so every piece's audio covers exactly its frames' time)."""
    with open_source(original) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        track = _SpanAudio(stream, np.zeros(0))
        rate, channels = track.rate, track.channels
        first = round(Fraction(start) / timeline.fps * rate)
        last = round(Fraction(end) / timeline.fps * rate) if end is not None else None
        assert stream.time_base is not None
        seek = timeline.audio_start + Fraction(first, rate) - 1
        if first > 0 and seek > 0:
            container.seek(int(seek / stream.time_base), stream=stream, backward=True)
        chunks: list[np.ndarray] = []
        filled = first  # the next sample position wanted
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                pos = round((_time_of(frame) - timeline.audio_start) * rate)
                if last is not None and pos >= last:
                    break
                for out in track.resampler.resample(frame):
                    data = out.to_ndarray().reshape(-1)
                    n = data.size // channels
                    if pos > filled:  # the audio starts (or resumes) later: silence until then
                        gap = pos - filled if last is None else min(pos, last) - filled
                        chunks.append(np.zeros(gap * channels, data.dtype))
                        filled += gap
                    lo = max(filled - pos, 0)
                    hi = n if last is None else min(last - pos, n)
                    if hi > lo:
                        chunks.append(data[lo * channels : hi * channels])
                        filled = pos + hi
                    pos += n
        except av.error.FFmpegError as exc:
            name = Path(str(original).split("?", 1)[0]).name
            raise MediaError(f"{name}: its audio does not decode ({exc})", "download it again") from None
        if last is not None and filled < last:
            chunks.append(np.zeros((last - filled) * channels, track._dtype))
        samples = np.concatenate(chunks) if chunks else np.zeros(0, track._dtype)
        return _SpanAudio(stream, samples)
