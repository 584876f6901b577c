"""Rolling export: one approved clip, cut from the lossless master in a single encoding pass.

FFV1 is intra-only, so seeking lands on a decodable frame at or before the wanted one; frames before
``start_frame`` are decoded and dropped by their timestamp, and exactly ``end_frame - start_frame`` frames are
encoded to H.264 (yuv420p, ``faststart``) with the audio of exactly that span as AAC. The file is written
under a temporary name, its frame count checked, then renamed — a half-written clip is never visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

from heaters.errors import Abandoned, MediaError
from heaters.media.colour import ProxyColour, proxy_colour
from heaters.media.probe import normalise_rate, open_media, require_video
from heaters.media.source_timeline import grid_frames, video_start
from heaters.media.staging import publish, staged
from heaters.media.transcode import count_frames, proxy_size

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    frames: int
    fps: Fraction
    width: int
    height: int
    has_audio: bool


@dataclass(frozen=True)
class MasterPiece:
    """A master file holding frames ``[start, end)`` of the video (its own timestamps start at 0)."""

    path: Path
    start: int
    end: int


Master = str | Path | Sequence[MasterPiece]
WHOLE = 1 << 62  # the end frame of a master that is one file: its own length decides


def as_pieces(master: Master) -> list[MasterPiece]:
    """A master given as one file or as segment pieces, as pieces in frame order."""
    if isinstance(master, (str, Path)):
        return [MasterPiece(Path(master), 0, WHOLE)]
    return sorted(master, key=lambda p: p.start)


def _frame_number(frame: av.VideoFrame | av.AudioFrame, fps: Fraction, origin: Fraction) -> int:
    assert frame.pts is not None and frame.time_base is not None
    return round((Fraction(frame.pts) * frame.time_base - origin) * fps)


def _video_frames(pieces: Sequence[MasterPiece], start: int, end: int) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    """Frames ``start..end-1`` of the master, each with the timeline's fps, read across the pieces they are in."""
    for piece in pieces:
        if piece.end <= start or piece.start >= end:
            continue
        yield from _piece_frames(piece.path, max(start, piece.start) - piece.start, min(end, piece.end) - piece.start)


def _piece_frames(master: Path, start: int, end: int) -> Iterator[tuple[av.VideoFrame, Fraction]]:
    with open_media(master) as container:
        stream = require_video(container, master.name)
        stream.thread_type = "AUTO"  # FFV1 decodes frames in parallel, beside the encoder's threads
        fps = normalise_rate(stream.average_rate, stream.guessed_rate)
        assert stream.time_base is not None
        origin = Fraction(stream.start_time or 0) * stream.time_base
        target = int((Fraction(start) / fps + origin) / stream.time_base)
        container.seek(max(0, target - 1), stream=stream, backward=True)
        for frame in container.decode(stream):
            n = _frame_number(frame, fps, origin)
            if n < start:
                continue
            if n >= end:
                return
            yield frame, fps


def _audio_across(
    pieces: Sequence[MasterPiece], start: int, end: int, fps: Fraction
) -> tuple[np.ndarray, int, str] | None:
    """The audio of frames ``[start, end)`` joined from the pieces they are in; None if no piece has audio."""
    spans = []
    for piece in pieces:
        if piece.end <= start or piece.start >= end:
            continue
        lo, hi = max(start, piece.start) - piece.start, min(end, piece.end) - piece.start
        span = _audio_span(piece.path, Fraction(lo) / fps, Fraction(hi) / fps)
        spans.append((piece.start + lo, piece.start + hi, span))
    found = [span for _, _, span in spans if span is not None]
    if not found:
        return None
    _, rate, layout = found[0]
    channels = av.AudioLayout(layout).nb_channels
    parts = []
    for lo, hi, span in spans:  # a piece without audio (the source's audio had ended) is silence
        if span is None or span[1] != rate or span[0].shape[0] != channels:
            length = round(Fraction(hi) / fps * rate) - round(Fraction(lo) / fps * rate)
            parts.append(np.zeros((channels, length), np.float32))
        else:
            parts.append(span[0])
    return np.ascontiguousarray(np.concatenate(parts, axis=1), np.float32), rate, layout


def _audio_span(master: Path, start_s: Fraction, end_s: Fraction) -> tuple[np.ndarray, int, str] | None:
    """The master's audio from ``start_s`` to ``end_s`` seconds as float32 planar samples (channels, n)."""
    with open_media(master) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        assert stream.time_base is not None
        rate = stream.codec_context.sample_rate
        layout = stream.codec_context.layout.name
        first, last = round(start_s * rate), round(end_s * rate)
        container.seek(max(0, int(start_s / stream.time_base) - rate), stream=stream, backward=True)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        chunks = []
        for frame in container.decode(stream):
            assert frame.pts is not None
            pos = round(Fraction(frame.pts) * stream.time_base * rate)
            if pos >= last:
                break
            for out in resampler.resample(frame):
                data = out.to_ndarray()
                lo, hi = max(first - pos, 0), min(last - pos, data.shape[1])
                if hi > lo:
                    chunks.append(data[:, lo:hi])
                pos += data.shape[1]
        samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((1, 0), np.float32)
        missing = (last - first) - samples.shape[1]
        if missing > 0:  # the source's audio ended before the picture: pad with silence
            samples = np.pad(samples, ((0, 0), (0, missing)))
        return np.ascontiguousarray(samples, np.float32), rate, layout


def export_clip(
    master_path: Master,
    out_path: str | Path,
    start_frame: int,
    end_frame: int,
    *,
    crf: int = 18,
    preset: str = "medium",
    progress: Progress | None = None,
    abort: Callable[[], bool] | None = None,
    original: bool = False,
) -> ExportResult:
    """Encode frames ``[start_frame, end_frame)`` of the master (one file, or segment pieces) to an H.264/AAC
    MP4 at ``out_path``.

    ``abort`` is asked before every frame; when it says True the export stops with ``Abandoned``.
    ``original=True``: the master is the downloaded original itself (``HEATERS_MASTER=original``), read on the
    encode's frame grid (``heaters.media.source_timeline``)."""
    pieces, out = as_pieces(master_path), Path(out_path)
    master = pieces[0].path
    if not 0 <= start_frame < end_frame:
        raise MediaError(f"cannot export frames [{start_frame}, {end_frame})", "the clip must hold at least one frame")
    wanted = end_frame - start_frame
    written = 0
    with staged(out) as (tmp,):
        with av.open(str(tmp), "w", format="mp4", container_options={"movflags": "+faststart"}) as dst:
            vstream: av.VideoStream | None = None
            audio: _AudioOut | None = None
            fps = Fraction(25)
            frames = (
                grid_frames(master, start_frame, end_frame) if original
                else _video_frames(pieces, start_frame, end_frame)
            )
            for frame, fps in frames:
                if abort is not None and abort():
                    raise Abandoned(f"export of frames [{start_frame}, {end_frame}) stopped after {written} frames")
                if vstream is None:
                    vstream, colour, size = _open_video(dst, frame, fps, crf, preset)
                    span = (
                        _audio_span(master, *_source_seconds(master, start_frame, end_frame, fps)) if original
                        else _audio_across(pieces, start_frame, end_frame, fps)
                    )
                    audio = _AudioOut(dst, *span) if span is not None else None
                # A limited-range yuv420p master (the usual case) comes back as the same frame: no copy.
                picture = frame.reformat(
                    width=size[0], height=size[1], format="yuv420p",
                    src_color_range=colour.source_range, dst_color_range="MPEG",
                )
                picture.pts = written
                # Master frames are all intra and say so; left set, x264 would obey and make every frame an I-frame.
                picture.pict_type = PictureType.NONE
                picture.time_base = 1 / fps
                dst.mux(vstream.encode(picture))
                written += 1
                if audio is not None:  # keep audio interleaved with the picture it belongs to
                    audio.write_until(Fraction(written) / fps)
                if progress is not None and written % 25 == 0:
                    progress(written, wanted)
            if vstream is None or written != wanted:
                raise MediaError(
                    f"{master.name} has frames up to {start_frame + written}, not {end_frame}",
                    "the clip lies outside the video; check its frame range",
                )
            dst.mux(vstream.encode(None))
            if audio is not None:
                audio.close()
        got = count_frames(tmp)
        if got != wanted:
            raise MediaError(f"exported clip has {got} frames, expected {wanted}", "this is a bug; report it")
        publish(tmp)
    if progress is not None:
        progress(wanted, wanted)
    return ExportResult(out, wanted, fps, size[0], size[1], audio is not None)


def _source_seconds(original: Path, start: int, end: int, fps: Fraction) -> tuple[Fraction, Fraction]:
    """The span of frames ``[start, end)`` in the original's own clock: the encode counted the picture from
    the video stream's start, and a master's audio is aligned to that point."""
    offset = video_start(original)
    return offset + Fraction(start) / fps, offset + Fraction(end) / fps


def _open_video(
    dst: av.container.OutputContainer, first: av.VideoFrame, fps: Fraction, crf: int, preset: str
) -> tuple[av.VideoStream, ProxyColour, tuple[int, int]]:
    size = proxy_size(first.width, first.height, 1 << 16)  # full size, rounded to even for 4:2:0
    colour = proxy_colour(first, first.height)
    stream = dst.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    stream.options = {"crf": str(crf), "preset": preset, "x264-params": colour.x264_params()}
    colour.apply(stream.codec_context)
    # Frame threading with an automatic thread count, as the ffmpeg command line gets it (x264: threads = 1.5 x
    # cores, lookahead on its own thread). PyAV's default is sliced threading: each encode() call then waits
    # for the whole picture, which costs the same CPU but 5-10% more wall time on two cores, and the slices
    # take about 1% more bits at the same CRF.
    stream.codec_context.thread_type = "FRAME"
    stream.codec_context.thread_count = 0
    return stream, colour, size


class _AudioOut:
    """AAC encoding of a span of float samples, written piecewise so it interleaves with the video."""

    FRAME = 1024

    def __init__(self, dst: av.container.OutputContainer, samples: np.ndarray, rate: int, layout: str) -> None:
        self.dst, self.samples, self.rate, self.layout = dst, samples, rate, layout
        self.stream = dst.add_stream("aac", rate=rate, layout=layout)
        self.pos = 0

    def write_until(self, seconds: Fraction) -> None:
        stop = min(self.samples.shape[1], round(seconds * self.rate))
        while self.pos < stop:
            chunk = self.samples[:, self.pos : min(self.pos + self.FRAME, self.samples.shape[1])]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=self.layout)
            frame.sample_rate = self.rate
            frame.pts = self.pos
            frame.time_base = Fraction(1, self.rate)
            self.dst.mux(self.stream.encode(frame))
            self.pos += chunk.shape[1]

    def close(self) -> None:
        self.write_until(Fraction(self.samples.shape[1], self.rate))
        self.dst.mux(self.stream.encode(None))
