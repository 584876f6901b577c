"""The encode stage: one decode of the original feeds the lossless master, the review proxy and the features.

Decoding once is what makes frame N the same picture everywhere: each decoded frame is placed on the
constant-frame-rate grid (``retime``), turned upright, and the very same frame object is sent to

* the **master** — FFV1 level 3 in Matroska (intra-only, sliced, CRC per slice), original size, pixel format
  and bit depth, audio as FLAC: lossless, so exports start from exactly what was downloaded;
* the **proxy** — H.264 in MP4, every frame a keyframe and no B-frames (the browser decodes any frame on its
  own), yuv420p, even dimensions, at most ``proxy_short_side`` lines on the short side, ``faststart``, with
  its colour tags matching the conversion actually used, so the browser shows the right colours, and the
  source's audio as AAC-LC at 48 kHz with its waveform peaks (``review_audio``), in one-second chunks;
* the **feature builder** — a 32x18 thumbnail per frame for scene detection, saved as ``.npy`` (and, for a
  learned detector, every frame at 48x27, saved beside it as ``.small.npy``).

The two encoders run in their own threads beside the decoding thread (``pipeline_threads``), fed in frame
order through short queues, so the stage uses the machine's cores rather than one; the features are taken
in the proxy's thread. An error in any thread stops the others and is raised here.

Afterwards the master's frame count, the proxy's, and the proxy index's must agree, or the stage fails.
Both files are written under temporary names and renamed only when they are verified.

Huge and odd sources: a picture larger than ``max_pixels`` is refused before anything is decoded; FFV1's
slice count is chosen from the frame size (its encoder refuses slices above a size limit); queues hold
fewer frames when frames are large, so memory stays bounded; an encoder that refuses the source is a
permanent ``MediaError``. A source that decodes to more than a second less than its container promises
(a truncated download) fails, or with ``accept_short`` is kept with a ``warning``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, partial
from pathlib import Path

import av
import numpy as np
from av.filter import Graph

from heaters.errors import Abandoned, MediaError
from heaters.media.audio import AudioTrack
from heaters.media.colour import ColourTags, proxy_colour
from heaters.media.features import COLUMNS, FeatureBuilder
from heaters.media.frame_index import build_index
from heaters.media.pipeline_threads import Channel, Pipeline
from heaters.media.probe import normalise_rate, open_media, require_video
from heaters.media.retime import CfrGrid, SourceClock, Upright, frame_time, rotation_of
from heaters.media.review_audio import PEAK_RATE, ReviewAudio
from heaters.media.staging import publish, staged

Progress = Callable[[int, int], None]
MASTER_FORMATS = {f.name for f in av.codec.Codec("ffv1", "w").video_formats or ()}
# How the encoders share the cores. FFV1 at full size costs about three times x264's all-intra proxy, so it
# gets a thread per slice (the scheduler can then put any idle core to work on a slice); x264 runs on one
# thread beside it (its sliced threads cost more CPU and were slower here); decoding uses FFmpeg's threads.
MASTER_THREADS = 4
PROXY_THREADS = 1
QUEUE = 8  # frames queued per encoder: enough to ride out uneven frame costs, a few MB each at 1080p
# Picture bytes the master's queue may hold: all of QUEUE up to 4K, fewer (at least one) above, so an 8K
# source (~50 MB a frame) does not queue 400 MB.
QUEUE_BYTES = 128 * 2**20
LARGE_PIXELS = 3840 * 2160
# Slice counts FFV1 accepts (rows × columns, columns in [rows, 2 × rows)), in the order tried; each slice is
# a unit of threading and of CRC checking, and FFV1 refuses slices above a size limit.
SLICE_COUNTS = (4, 6, 9, 12, 16, 20, 24, 30, 36, 42, 49, 56, 64)
# The proxy's packets are grouped a second of each track at a time (FFmpeg's interleaving chunks): the review
# page fetches a second of sound in one Range request, not one per audio packet between the frames.
PROXY_CONTAINER = {"movflags": "+faststart", "chunk_duration": "1000000"}
# Decoding may come up this much shorter than the container promises before the source counts as truncated.
SHORT_TOLERANCE_SECONDS = 1


@dataclass(frozen=True)
class TranscodeResult:
    fps: Fraction
    total_frames: int
    width: int
    height: int
    proxy_width: int
    proxy_height: int
    has_audio: bool
    rotation: int
    features_path: Path
    features: np.ndarray
    index: dict[str, object]
    warning: str = ""
    small_path: Path | None = None  # the 48x27 frames, when asked for
    peaks_path: Path | None = None  # the waveform peaks (int8 [bin][channel][min, max]); None without audio


def master_options(slices: int) -> dict[str, str]:
    """The FFV1 encoder's options for the master (whole file and segment pieces alike): level 3, every frame
    a keyframe (pieces join and exports seek without re-encoding), a CRC per slice, ``slices`` slices."""
    # Chosen by bench/master_size.py (docs/benchmarks.md): Golomb-Rice with the large context model. On real
    # lossy footage, whose masters are the big ones, it is 2-7% smaller than the small model for 5-12% more
    # encoder CPU (4-6% larger on smooth video, whose masters are a third the size). The range coder saves up
    # to 11% there but costs 55-85% more encoder CPU, which is most of the stage's: about a third slower.
    # More slices or a longer GOP save under 1%, and a GOP would give up intra-only.
    return {"level": "3", "slicecrc": "1", "g": "1", "slices": str(slices), "coder": "rice", "context": "1"}


def master_slices(width: int, height: int, pix_fmt: str) -> int:
    """The fewest FFV1 slices (at least 4) its encoder accepts for this frame size and pixel format.

    The limit depends on the slice's area, bit depth and planes; rather than repeat FFmpeg's arithmetic,
    the encoder is asked (opening one costs a fraction of a millisecond)."""
    return _master_slices(width, height, pix_fmt)


@lru_cache(maxsize=64)
def _master_slices(width: int, height: int, pix_fmt: str) -> int:
    for count in SLICE_COUNTS:
        context = av.CodecContext.create("ffv1", "w")
        context.width, context.height, context.pix_fmt = width, height, pix_fmt
        context.time_base = Fraction(1, 25)
        context.options = master_options(count)
        try:
            context.open()
        except av.error.FFmpegError:
            continue
        return count
    return SLICE_COUNTS[0]  # nothing opened: the real encoder will say why, as a MediaError


MIN_SIDE = 4  # pixels: FFV1 cannot cut a smaller frame into the master's slices


def check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    """Refuse a picture larger than ``max_pixels`` (``HEATERS_MAX_PIXELS``), or too small to archive, with a
    permanent ``MediaError``."""
    if min(width, height) < MIN_SIDE:
        raise MediaError(f"{name} is {width}×{height}, too small a picture to archive",
                         f"give a video at least {MIN_SIDE} pixels wide and high")
    if max_pixels > 0 and width * height > max_pixels:
        raise MediaError(
            f"{name} is {width}×{height} ({width * height / 1e6:.1f} megapixels), larger than the"
            f" {max_pixels / 1e6:.1f} megapixels this installation accepts",
            "scale the video down first, or raise HEATERS_MAX_PIXELS if the workers have the memory",
        )


def proxy_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Scale so the short side is at most ``short_side``, keeping aspect, both sides even (H.264 4:2:0)."""
    scale = min(1.0, short_side / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def master_pix_fmt(source: str) -> str:
    """The source's own pixel format when FFV1 can store it; otherwise the nearest lossless container."""
    if source in MASTER_FORMATS:
        return source
    if source.startswith("yuvj"):  # the same samples as yuv*, full range is carried by the colour tags
        return source.replace("yuvj", "yuv")
    deep = any(bits in source for bits in ("10", "12", "14", "16"))
    if source.startswith(("rgb", "bgr", "gbr", "argb", "abgr", "0rgb", "0bgr")):
        alpha = "a" in source.removeprefix("gbr")  # rgba, bgra, argb, abgr, gbrap
        if deep:
            return "gbrap16le" if alpha else "gbrp16le"
        return "bgra" if alpha else "bgr0"  # FFV1 stores 8-bit RGB packed, not as planar gbrp
    return "yuv444p16le" if deep else "yuv444p"


class _Outputs:
    """The master and proxy containers, created from the first decoded frame (size, format, colour).

    After creation each container belongs to one encoder thread: ``encode_master`` (which also writes the
    audio) and ``encode_proxy`` run beside the decoding thread and only read the frames they are given.
    Without ``master_tmp`` (the original is kept as the master) no master is written.
    """

    def __init__(
        self, master_tmp: Path | None, proxy_tmp: Path, first: av.VideoFrame, fps: Fraction,
        audio: AudioTrack | None, crf: int, preset: str, short_side: int, review: ReviewAudio | None = None,
    ) -> None:
        self.fps = fps
        self.width, self.height = first.width, first.height
        self.proxy = av.open(str(proxy_tmp), "w", format="mp4", container_options=PROXY_CONTAINER)
        self.master: av.container.OutputContainer | None = None
        self.master_stream: av.VideoStream | None = None
        if master_tmp is not None:
            self._open_master(master_tmp, first, fps)
        self._open_proxy(first, fps, crf, preset, short_side)
        self.audio = audio
        if audio is not None and self.master is not None:
            audio.open_output(self.master)
        self.review = review  # the proxy's AAC track: packets encoded on the decoding thread, muxed here
        self.peaks: np.ndarray | None = None
        if review is not None:
            review.open_output(self.proxy)

    def _open_master(self, master_tmp: Path, first: av.VideoFrame, fps: Fraction) -> None:
        self.master = av.open(str(master_tmp), "w", format="matroska")
        tags = ColourTags.of(first)
        m = self.master.add_stream("ffv1", rate=fps)
        m.width, m.height = first.width, first.height
        m.pix_fmt = master_pix_fmt(first.format.name)
        slices = master_slices(first.width, first.height, m.pix_fmt)
        m.options = dict(master_options(slices))
        m.codec_context.thread_type = "SLICE"
        m.codec_context.thread_count = MASTER_THREADS
        tags.apply(m.codec_context)
        self.master_stream = m

    def _open_proxy(self, first: av.VideoFrame, fps: Fraction, crf: int, preset: str, short_side: int) -> None:
        self.proxy_w, self.proxy_h = proxy_size(first.width, first.height, short_side)
        p = self.proxy.add_stream("libx264", rate=fps)
        p.width, p.height, p.pix_fmt = self.proxy_w, self.proxy_h, "yuv420p"
        self.colour = proxy_colour(first, self.proxy_h)
        p.codec_context.gop_size = 1
        p.codec_context.max_b_frames = 0
        p.codec_context.thread_count = PROXY_THREADS
        p.options = {
            "crf": str(crf),
            "preset": preset,
            "x264-params": "keyint=1:min-keyint=1:scenecut=0:bframes=0:" + self.colour.x264_params(),
        }
        self.colour.apply(p.codec_context)
        self.proxy_stream = p

    def master_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """``frame`` in the master's pixel format (itself when it already is, or when there is no master)."""
        if self.master_stream is None or frame.format.name == self.master_stream.pix_fmt:
            return frame
        return frame.reformat(format=self.master_stream.pix_fmt)

    def proxy_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        return frame.reformat(
            width=self.proxy_w, height=self.proxy_h, format="yuv420p", interpolation="AREA",
            src_color_range=self.colour.source_range, dst_color_range="MPEG",
        )

    def encode_master(self, items: Iterable[av.VideoFrame | av.AudioFrame]) -> None:
        """Thread body: encode stamped video frames and mux audio in arrival order, then finish the file."""
        if self.master is None or self.master_stream is None:
            for _ in items:  # no master: the frames were only for the proxy
                pass
            return
        if self.audio is not None:
            self.audio.drain(self.master)  # audio that arrived before the first picture
        for item in items:
            if isinstance(item, av.AudioFrame):
                assert self.audio is not None
                self.audio.add(item, self.master)
            else:
                self.master.mux(self.master_stream.encode(item))
        self.master.mux(self.master_stream.encode(None))
        if self.audio is not None:
            self.audio.flush(self.master)
        self.master.close()

    def encode_proxy(self, items: Iterable[av.VideoFrame | av.Packet], builder: FeatureBuilder | None) -> None:
        """Thread body: encode stamped proxy frames (and thumbnail them for the features), mux the audio
        packets between them, then finish."""
        for frame in items:
            if isinstance(frame, av.Packet):
                self.proxy.mux(frame)
                continue
            self.proxy.mux(self.proxy_stream.encode(frame))
            if builder is not None:
                builder.add_frame(frame)
        self.proxy.mux(self.proxy_stream.encode(None))
        self.proxy.close()


class _SharedPicture:
    """A new frame object on the same picture buffers (no pixel copy), so one picture shown in several grid
    slots can carry a different timestamp per slot while earlier slots are still being encoded."""

    def __init__(self) -> None:
        self._graphs: dict[tuple[int, int, str], Graph] = {}

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        key = (frame.width, frame.height, frame.format.name)
        graph = self._graphs.get(key)
        if graph is None:
            graph = Graph()
            source = graph.add_buffer(
                width=frame.width, height=frame.height, format=frame.format, time_base=Fraction(1, 1000)
            )
            graph.link_nodes(source, graph.add("null"), graph.add("buffersink")).configure()
            self._graphs[key] = graph
        graph.push(frame)
        out = graph.pull()
        assert isinstance(out, av.VideoFrame)
        return out


@contextmanager
def encoder_refusals(name: str) -> Iterator[None]:
    """An encoder's refusal is permanent (the source cannot be archived as it is); disk and I/O errors are not."""
    try:
        yield
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):  # disk full, I/O: the environment, worth retrying
            raise
        raise MediaError(
            f"{name}: the encoder refused this video ({exc})",
            "the source cannot be archived as it is; convert it (e.g. to yuv420p H.264) and ingest it again",
        ) from None


def transcode(
    original: str | Path,
    master_path: str | Path,
    proxy_path: str | Path,
    *,
    features_path: str | Path | None = None,
    peaks_path: str | Path | None = None,
    proxy_crf: int = 23,
    proxy_preset: str = "veryfast",
    proxy_short_side: int = 720,
    progress: Progress | None = None,
    extract_features: bool = True,
    abort: Callable[[], bool] | None = None,
    max_pixels: int = 0,
    accept_short: bool = False,
    small_frames: bool = False,
    keep_master: bool = True,
) -> TranscodeResult:
    """Decode ``original`` once; write the master (MKV), the proxy (MP4) and the features (``.npy``, default
    beside the proxy). Raise ``MediaError`` for unusable input or if the outputs disagree on frame count.

    ``extract_features=False`` skips the features (the result holds an empty table and nothing is saved);
    it exists to measure what scene detection costs the encode stage. ``abort`` is asked before every decoded
    frame; when it says True the encode stops with ``Abandoned`` and nothing is kept. ``max_pixels`` (0: no
    limit) refuses larger pictures before decoding; ``accept_short`` keeps a truncated source (see the module
    docstring) and says so in ``TranscodeResult.warning``. ``small_frames`` also saves every frame at 48x27
    for a learned detector (``.small.npy`` beside the features). ``keep_master=False`` writes no master (the
    original itself is kept as the master, see ``heaters.media.source_timeline``)."""
    name = Path(original).name
    master_path, proxy_path = Path(master_path), Path(proxy_path)
    features_path = Path(features_path) if features_path else proxy_path.with_suffix(".features.npy")
    peaks_path = Path(peaks_path) if peaks_path else proxy_path.with_suffix(".peaks")
    with staged(master_path, proxy_path) as (master_tmp, proxy_tmp):
        builder = FeatureBuilder(small_frames=small_frames) if extract_features else None
        with encoder_refusals(name):
            fps, total, outputs, rotation, promised = _encode(
                original, name, master_tmp if keep_master else None, proxy_tmp, proxy_crf, proxy_preset,
                proxy_short_side, progress, builder, abort, max_pixels,
            )
        warning = _shortfall(name, total, fps, promised, accept_short)
        master_frames = count_frames(master_tmp) if keep_master else total
        index = build_index(proxy_tmp, fps)
        proxy_frames = count_frames(proxy_tmp)
        if not master_frames == proxy_frames == index["frames"] == total:
            raise MediaError(
                f"{name}: frame counts disagree after encoding (master {master_frames}, proxy {proxy_frames},"
                f" index {index['frames']}, expected {total})",
                "this is a bug; keep the original and report it",
            )
        features = builder.finish() if builder is not None else np.zeros((0, len(COLUMNS)), np.float32)
        small_path = None
        if builder is not None:
            np.save(features_path, features)
            if small_frames:
                small_path = features_path.with_name(features_path.name.removesuffix(".npy") + ".small.npy")
                np.save(small_path, builder.small)
        if outputs.peaks is not None:
            outputs.peaks.tofile(peaks_path)
            index["peaks"] = {"rate": PEAK_RATE, "channels": int(outputs.peaks.shape[1]),
                              "bins": int(outputs.peaks.shape[0]), "format": "int8 [bin][channel][min,max]"}
        publish(proxy_tmp, *([master_tmp] if keep_master else []))
    return TranscodeResult(
        fps=fps, total_frames=total, width=outputs.width, height=outputs.height,
        proxy_width=outputs.proxy_w, proxy_height=outputs.proxy_h, has_audio=outputs.audio is not None,
        rotation=rotation, features_path=features_path, features=features, index=index, warning=warning,
        small_path=small_path,
        peaks_path=peaks_path if outputs.peaks is not None else None,
    )


def _shortfall(name: str, total: int, fps: Fraction, promised: Fraction, accept_short: bool) -> str:
    """"" if ``total`` frames cover what the container promises (``promised`` seconds, 0: unknown), less a
    second; else a warning (``accept_short``) or a ``MediaError``."""
    decoded = total / fps
    if not promised or promised - decoded <= SHORT_TOLERANCE_SECONDS:
        return ""
    message = (
        f"{name} decodes to {total} frames ({float(decoded):.1f} s) but its container promises"
        f" {float(promised):.1f} s: the file is truncated or damaged, {float(promised - decoded):.1f} s are missing"
    )
    if accept_short:
        return message
    raise MediaError(message, "download it again, or set HEATERS_ACCEPT_SHORT_MEDIA=true to keep what it holds")


def promised_seconds(container: av.container.InputContainer, vstream: av.VideoStream) -> Fraction:
    """How long the video stream says it is, from its own duration, its Matroska DURATION tag or the
    container's duration, in that order; 0 when nothing says."""
    if vstream.duration and vstream.time_base:
        return Fraction(vstream.duration) * vstream.time_base
    tag = (vstream.metadata or {}).get("DURATION", "")
    if tag:
        try:
            hours, minutes, seconds = tag.split(":")
            return Fraction(int(hours) * 3600 + int(minutes) * 60) + Fraction(seconds)
        except ValueError:
            pass
    return Fraction(container.duration, av.time_base) if container.duration else Fraction(0)


def _encode(
    original: str | Path, name: str, master_tmp: Path | None, proxy_tmp: Path, crf: int, preset: str, short_side: int,
    progress: Progress | None, builder: FeatureBuilder | None, abort: Callable[[], bool] | None, max_pixels: int,
) -> tuple[Fraction, int, _Outputs, int, Fraction]:
    """Decode on this thread; the master and proxy encoders run in their own threads (features in the proxy's).

    Every frame is converted for each output here, before any encoder sees it, and stamped with its grid
    slot: from then on nobody writes to it, so both encoders may hold it as long as they like. (Converting
    a frame writes to its colour fields for a moment, which must not happen while an encoder reads it.)
    """
    with open_media(original) as container, Pipeline() as pipeline:
        vstream = require_video(container, name)
        check_pixels(name, vstream.codec_context.width, vstream.codec_context.height, max_pixels)
        # Frame threads each hold a whole decoded picture; above 4K slice threads save hundreds of MB.
        pixels = vstream.codec_context.width * vstream.codec_context.height
        vstream.thread_type = "SLICE" if pixels > LARGE_PIXELS else "AUTO"
        fps = normalise_rate(vstream.average_rate, vstream.guessed_rate)
        promised = promised_seconds(container, vstream)
        estimate = vstream.frames or (
            round(container.duration / av.time_base * fps) if container.duration else 0
        )
        astream = container.streams.audio[0] if container.streams.audio else None
        video_start = Fraction(vstream.start_time or 0) * vstream.time_base if vstream.time_base else Fraction(0)
        audio = AudioTrack(astream, video_start) if astream is not None else None
        review = ReviewAudio(astream, video_start) if astream is not None else None
        grid = CfrGrid(fps)
        time_base = 1 / fps
        outputs: _Outputs | None = None
        to_master: Channel[av.VideoFrame | av.AudioFrame] | None = None
        to_proxy: Channel[av.VideoFrame | av.Packet] | None = None
        upright: Upright | None = None
        held: tuple[av.VideoFrame, av.VideoFrame] | None = None  # the last picture for master and proxy
        shared = _SharedPicture()
        clock = SourceClock(fps)
        rotation = 0

        def emit(slots: int) -> None:
            assert held is not None and to_master is not None and to_proxy is not None
            master, small = held
            for k in range(slots):
                if k:  # the same picture again: new frame objects, as the previous ones are in use
                    again = shared(master)
                    small = again if small is master else shared(small)
                    master = again
                for frame in (master, small):
                    frame.pts = grid.next_slot - slots + k
                    frame.time_base = time_base
                to_master.put(master)
                to_proxy.put(small)
            if progress is not None and slots and grid.next_slot % 25 < slots:
                progress(grid.next_slot, max(estimate, grid.next_slot))

        streams = [s for s in (vstream, astream) if s is not None]
        try:
            for packet in container.demux(*streams):
                for decoded in packet.decode():
                    if isinstance(decoded, av.AudioFrame):
                        assert audio is not None and review is not None
                        review.add(decoded, None)  # read here before the master's thread may read it
                        for audio_packet in review.take():
                            assert to_proxy is not None
                            to_proxy.put(audio_packet)
                        if to_master is None:
                            audio.add(decoded, None)  # kept until the master exists
                        else:
                            to_master.put(decoded)
                        continue
                    assert isinstance(decoded, av.VideoFrame)
                    if abort is not None and abort():
                        raise Abandoned(f"{name}: encode stopped after {grid.next_slot} frames")
                    time = clock.start(frame_time(decoded))
                    if time is None:
                        continue  # a repeated or out-of-order timestamp: nothing new to show
                    if upright is None:
                        rotation = rotation_of(decoded)
                        upright = Upright(decoded, rotation)
                    for frame in upright(decoded):
                        if outputs is None:
                            check_pixels(name, frame.width, frame.height, max_pixels)
                            outputs = _Outputs(master_tmp, proxy_tmp, frame, fps, audio, crf, preset, short_side,
                                               review)
                            to_master = pipeline.stage(
                                "encode-master", outputs.encode_master, capacity=queue_capacity(frame)
                            )
                            to_proxy = pipeline.stage(
                                "encode-proxy", partial(outputs.encode_proxy, builder=builder), capacity=QUEUE
                            )
                        slots = grid.start(time)
                        if held is not None:
                            emit(slots)
                        held = (outputs.master_frame(frame), outputs.proxy_frame(frame))
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{name} is damaged: decoding failed after {grid.next_slot} frames ({exc})",
                "download the video again",
            ) from None
        if outputs is None or held is None:
            raise MediaError(f"{name}: no video frame could be decoded", "the file is empty, damaged or truncated")
        emit(grid.finish(clock.end))
        if review is not None:
            assert to_proxy is not None
            packets, outputs.peaks = review.finish()
            for audio_packet in packets:
                to_proxy.put(audio_packet)
    total = grid.next_slot
    if progress is not None:
        progress(total, total)
    return fps, total, outputs, rotation, promised


def queue_capacity(frame: av.VideoFrame) -> int:
    """Frames the master's queue holds: ``QUEUE``, or fewer when that many would exceed ``QUEUE_BYTES``."""
    size = sum(plane.buffer_size for plane in frame.planes)
    return max(1, min(QUEUE, QUEUE_BYTES // max(1, size)))


def count_frames(path: str | Path) -> int:
    """Frames in the video stream (``require_video``'s choice), counted from packets (no decoding; all our
    outputs are intra)."""
    with open_media(path) as container:
        stream = require_video(container, Path(path).name)
        return sum(1 for p in container.demux(stream) if p.size)
