"""The encode stage: one decode of the original feeds the lossless master, the review proxy and the features.

Decoding once is what makes frame N the same picture everywhere: each decoded frame is placed on the
constant-frame-rate grid (``retime``), turned upright, and the very same frame object is sent to

* the **master** — FFV1 level 3 in Matroska (intra-only, sliced, CRC per slice), original size, pixel format
  and bit depth, audio as FLAC: lossless, so exports start from exactly what was downloaded;
* the **proxy** — H.264 in MP4, every frame a keyframe and no B-frames (the browser decodes any frame on its
  own), yuv420p, even dimensions, at most ``proxy_short_side`` lines on the short side, ``faststart``, with
  its colour tags matching the conversion actually used, so the browser shows the right colours;
* the **feature builder** — a 32x18 thumbnail per frame for scene detection, saved as ``.npy``.

Afterwards the master's frame count, the proxy's, and the proxy index's must agree, or the stage fails.
Both files are written under temporary names and renamed only when they are verified.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from heaters.errors import MediaError
from heaters.media.audio import AudioTrack
from heaters.media.colour import ColourTags, proxy_colour
from heaters.media.features import FeatureBuilder, thumbnail
from heaters.media.frame_index import build_index
from heaters.media.probe import normalise_rate, open_media, require_video
from heaters.media.retime import CfrGrid, Upright, rotation_of

Progress = Callable[[int, int], None]
MASTER_FORMATS = {f.name for f in av.codec.Codec("ffv1", "w").video_formats or ()}


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
    if source.startswith(("rgb", "bgr", "gbr", "argb", "abgr")):
        return "gbrp16le" if deep else "gbrp"
    return "yuv444p16le" if deep else "yuv444p"


class _Outputs:
    """The master and proxy containers, created from the first decoded frame (size, format, colour)."""

    def __init__(
        self, master_tmp: Path, proxy_tmp: Path, first: av.VideoFrame, fps: Fraction, audio: AudioTrack | None,
        crf: int, preset: str, short_side: int,
    ) -> None:
        self.fps = fps
        self.master = av.open(str(master_tmp), "w", format="matroska")
        self.proxy = av.open(str(proxy_tmp), "w", format="mp4", container_options={"movflags": "+faststart"})
        tags = ColourTags.of(first)
        m = self.master.add_stream("ffv1", rate=fps)
        m.width, m.height = first.width, first.height
        m.pix_fmt = master_pix_fmt(first.format.name)
        m.options = {"level": "3", "slicecrc": "1", "g": "1", "slices": "4"}
        m.codec_context.thread_type = "SLICE"
        tags.apply(m.codec_context)
        self.master_stream = m
        self.proxy_w, self.proxy_h = proxy_size(first.width, first.height, short_side)
        p = self.proxy.add_stream("libx264", rate=fps)
        p.width, p.height, p.pix_fmt = self.proxy_w, self.proxy_h, "yuv420p"
        self.colour = proxy_colour(first, self.proxy_h)
        p.codec_context.gop_size = 1
        p.codec_context.max_b_frames = 0
        p.options = {
            "crf": str(crf),
            "preset": preset,
            "x264-params": "keyint=1:min-keyint=1:scenecut=0:bframes=0:" + self.colour.x264_params(),
        }
        self.colour.apply(p.codec_context)
        self.proxy_stream = p
        self.audio = audio
        if audio is not None:
            audio.open_output(self.master)

    def proxy_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        return frame.reformat(
            width=self.proxy_w, height=self.proxy_h, format="yuv420p", interpolation="AREA",
            src_color_range=self.colour.source_range, dst_color_range="MPEG",
        )

    def write(self, master_frame: av.VideoFrame, proxy_frame: av.VideoFrame, n: int) -> None:
        for frame, stream, out in (
            (master_frame, self.master_stream, self.master), (proxy_frame, self.proxy_stream, self.proxy)
        ):
            frame.pts = n
            frame.time_base = 1 / self.fps
            out.mux(stream.encode(frame))

    def close(self) -> None:
        self.master.mux(self.master_stream.encode(None))
        self.proxy.mux(self.proxy_stream.encode(None))
        if self.audio is not None:
            self.audio.flush(self.master)
        self.master.close()
        self.proxy.close()


def transcode(
    original: str | Path,
    master_path: str | Path,
    proxy_path: str | Path,
    *,
    features_path: str | Path | None = None,
    proxy_crf: int = 23,
    proxy_preset: str = "veryfast",
    proxy_short_side: int = 720,
    progress: Progress | None = None,
) -> TranscodeResult:
    """Decode ``original`` once; write the master (MKV), the proxy (MP4) and the features (``.npy``, default
    beside the proxy). Raise ``MediaError`` for unusable input or if the outputs disagree on frame count."""
    name = Path(original).name
    master_path, proxy_path = Path(master_path), Path(proxy_path)
    features_path = Path(features_path) if features_path else proxy_path.with_suffix(".features.npy")
    master_tmp = master_path.with_name(master_path.name + ".part")
    proxy_tmp = proxy_path.with_name(proxy_path.name + ".part")
    try:
        result = _encode(
            original, name, master_tmp, proxy_tmp, proxy_crf, proxy_preset, proxy_short_side, progress
        )
        fps, total, outputs, features, rotation = result
        master_frames = count_frames(master_tmp)
        index = build_index(proxy_tmp, fps)
        proxy_frames = count_frames(proxy_tmp)
        if not master_frames == proxy_frames == index["frames"] == total:
            raise MediaError(
                f"{name}: frame counts disagree after encoding (master {master_frames}, proxy {proxy_frames},"
                f" index {index['frames']}, expected {total})",
                "this is a bug; keep the original and report it",
            )
        np.save(features_path, features)
        os.replace(master_tmp, master_path)
        os.replace(proxy_tmp, proxy_path)
    finally:
        for tmp in (master_tmp, proxy_tmp):
            tmp.unlink(missing_ok=True)
    return TranscodeResult(
        fps=fps, total_frames=total, width=outputs.master_stream.width, height=outputs.master_stream.height,
        proxy_width=outputs.proxy_w, proxy_height=outputs.proxy_h, has_audio=outputs.audio is not None,
        rotation=rotation, features_path=features_path, features=features, index=index,
    )


def _encode(
    original: str | Path, name: str, master_tmp: Path, proxy_tmp: Path, crf: int, preset: str, short_side: int,
    progress: Progress | None,
) -> tuple[Fraction, int, _Outputs, np.ndarray, int]:
    with open_media(original) as container:
        vstream = require_video(container, name)
        vstream.thread_type = "AUTO"
        fps = normalise_rate(vstream.average_rate, vstream.guessed_rate)
        estimate = vstream.frames or (
            round(container.duration / av.time_base * fps) if container.duration else 0
        )
        astream = container.streams.audio[0] if container.streams.audio else None
        video_start = Fraction(vstream.start_time or 0) * vstream.time_base if vstream.time_base else Fraction(0)
        audio = AudioTrack(astream, video_start) if astream is not None else None
        grid = CfrGrid(fps)
        builder = FeatureBuilder()
        outputs: _Outputs | None = None
        upright: Upright | None = None
        held: tuple[av.VideoFrame, av.VideoFrame, np.ndarray] | None = None  # master, proxy, thumbnail
        last_time = Fraction(0)
        last_duration = 1 / fps
        rotation = 0

        def emit(slots: int) -> None:
            assert outputs is not None and held is not None
            for _ in range(slots):
                outputs.write(held[0], held[1], grid.next_slot - slots + _)
                builder.add(held[2])
            if progress is not None and slots and grid.next_slot % 25 < slots:
                progress(grid.next_slot, max(estimate, grid.next_slot))

        streams = [s for s in (vstream, astream) if s is not None]
        try:
            for packet in container.demux(*streams):
                for decoded in packet.decode():
                    if isinstance(decoded, av.AudioFrame):
                        assert audio is not None
                        audio.add(decoded, outputs.master if outputs is not None else None)
                        continue
                    assert isinstance(decoded, av.VideoFrame)
                    if decoded.pts is not None and decoded.time_base is not None:
                        time = Fraction(decoded.pts) * decoded.time_base
                        if held is not None and time <= last_time:
                            continue  # a repeated or out-of-order timestamp: nothing new to show
                        last_duration = time - last_time if held is not None else last_duration
                    else:
                        time = last_time + 1 / fps
                    if upright is None:
                        rotation = rotation_of(decoded)
                        upright = Upright(decoded, rotation)
                    for frame in upright(decoded):
                        if outputs is None:
                            outputs = _Outputs(master_tmp, proxy_tmp, frame, fps, audio, crf, preset, short_side)
                            if audio is not None:
                                audio.drain(outputs.master)
                        slots = grid.start(time)
                        if held is not None:
                            emit(slots)
                        small = outputs.proxy_frame(frame)
                        held = (frame, small, thumbnail(small))
                        last_time = time
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{name} is damaged: decoding failed after {grid.next_slot} frames ({exc})",
                "download the video again",
            ) from None
        if outputs is None or held is None:
            raise MediaError(f"{name}: no video frame could be decoded", "the file is empty, damaged or truncated")
        emit(grid.finish(last_time + last_duration))
        outputs.close()
    total = grid.next_slot
    if progress is not None:
        progress(total, total)
    return fps, total, outputs, builder.finish(), rotation


def count_frames(path: str | Path) -> int:
    """Frames in the first video stream, counted from packets (no decoding; all our outputs are intra)."""
    with open_media(path) as container:
        stream = require_video(container, Path(path).name)
        return sum(1 for p in container.demux(stream) if p.size)
