"""What is in a media file: size, frame rate, duration, streams — or a clear reason it cannot be used.

``probe`` reads only the container headers (and at most one decoded frame, for rotation), so it is cheap
enough to run on upload. Every way a file can be unusable becomes a ``MediaError`` naming the file and the
problem, because "Invalid data found when processing input" helps nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from heaters.errors import MediaError

# Frame rates people actually shoot and publish; an average rate within 1.5% of one of these is that rate.
STANDARD_RATES = (
    Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
    Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(15), Fraction(12),
    Fraction(120), Fraction(100),
)


@dataclass(frozen=True)
class ProbeResult:
    width: int
    height: int
    fps: Fraction
    duration: float
    frames: int
    has_audio: bool
    has_video: bool
    rotation: int
    codec: str
    pix_fmt: str

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height after applying ``rotation`` (what a viewer sees)."""
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)


def normalise_rate(rate: Fraction | None, fallback: Fraction | None = None) -> Fraction:
    """A constant frame rate for the timeline: a standard rate if the stream's average is close to one."""
    candidate = rate if rate else fallback
    if not candidate or candidate <= 0 or candidate > 1000:
        return Fraction(25)
    nearest = min(STANDARD_RATES, key=lambda standard: abs(candidate - standard))
    if abs(candidate - nearest) / nearest < Fraction(15, 1000):
        return nearest
    return Fraction(candidate).limit_denominator(1001)


# Inputs that name other files or network addresses (a playlist, a manifest, a concat list, a session
# description): opening one makes FFmpeg read what it names, on this machine. Such inputs are text (video
# files are not: their first bytes hold zeros); their first lines say what they are.
REFERENCING_FORMATS = {"hls", "dash", "concat", "sdp"}
_REFERENCING_MARKERS = (b"#EXTM3U", b"ffconcat", b"<MPD", b"v=0")


def _points_elsewhere(name: str) -> MediaError:
    return MediaError(f"{name} is a playlist or manifest that points at other files, not a video",
                      "give the video file itself")


def refuse_references(name: str, container: av.container.InputContainer) -> av.container.InputContainer:
    """``container``, unless its format reads other inputs (then closed, and a ``MediaError``)."""
    if REFERENCING_FORMATS & set(container.format.name.split(",")):
        container.close()
        raise _points_elsewhere(name)
    return container


def open_media(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a ``MediaError`` a person understands."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p.name}: file not found", f"check the path {p}")
    if p.stat().st_size == 0:
        raise MediaError(f"{p.name} is empty (0 bytes)", "the download or upload did not finish; fetch it again")
    with p.open("rb") as f:
        head = f.read(4096)
    if b"\0" not in head and any(marker in head for marker in _REFERENCING_MARKERS):
        raise _points_elsewhere(p.name)
    try:
        return refuse_references(p.name, av.open(str(p), "r"))
    except av.error.InvalidDataError as exc:
        raise MediaError(
            f"{p.name} is not a video file this tool can read ({exc.strerror})",
            "check that it is a video (e.g. MP4, MKV, WebM, MOV) and that it downloaded completely",
        ) from None
    except av.error.FFmpegError as exc:
        raise MediaError(f"{p.name} cannot be opened: {exc}", "check the file is a complete video") from None


_STILL = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
# Codecs of single pictures: a stream of one of these whose length is unknown is more likely a cover picture
# that nobody flagged than the video (a lone MJPEG camera stream is still taken: it is the only candidate).
_PICTURE_CODECS = {"mjpeg", "png", "bmp", "tiff", "webp", "gif", "jpegls", "jpeg2000"}


def _frames_held(stream: av.VideoStream) -> float:
    """How many frames the container says ``stream`` holds (0 when it does not say)."""
    if stream.frames:
        return float(stream.frames)
    rate = stream.average_rate or stream.guessed_rate
    if stream.duration and stream.time_base and rate:
        return float(stream.duration * stream.time_base * rate)
    return 0.0


def _likeliest_video(stream: av.VideoStream) -> tuple[bool, float, bool, int]:
    """Sort key: decodable, then most frames, then not a picture codec, then earliest in the file."""
    decodable = stream.codec_context is not None
    moving_codec = decodable and stream.codec_context.name not in _PICTURE_CODECS
    return decodable, _frames_held(stream), moving_codec, -stream.index


def require_video(container: av.container.InputContainer, name: str) -> av.VideoStream:
    """The video stream that moves: of those not flagged as a cover or still picture, the one holding the most
    frames (a one-frame cover picture that nobody flagged loses to the video beside it, whichever comes first),
    the first on a tie. Or a ``MediaError`` saying what the file holds instead. Every stage picks through here,
    so master, proxy, scenes and export read the same stream."""
    moving = [s for s in container.streams.video if not s.disposition & _STILL]
    if moving:
        chosen = max(moving, key=_likeliest_video)
        if chosen.codec_context is None:
            raise MediaError(f"{name}: its video codec is not one this tool can decode",
                             "convert it to a common codec (e.g. H.264) and ingest that")
        return chosen
    if container.streams.audio:
        raise MediaError(f"{name} has only audio, no picture", "give a file with a video stream")
    if container.streams.video:
        raise MediaError(f"{name} holds only a still picture, not a video", "give a file with a video stream")
    raise MediaError(f"{name} has no video stream", "give a file with a video stream")


# Bare coded streams (Annex B) carry no timestamps and no frame rate: FFmpeg makes both up (25 fps), so their
# frames would sit at the wrong times. A container without re-encoding fixes that.
BARE_STREAM_FORMATS = {"h264", "hevc", "vvc"}


def probe(path: str | Path) -> ProbeResult:
    """Describe the video stream of ``path`` (``require_video``'s choice); raise ``MediaError`` if the file has
    none or is unreadable."""
    name = Path(path).name
    with open_media(path) as container:
        if container.format.name in BARE_STREAM_FORMATS:
            raise MediaError(f"{name} is a bare {container.format.name.upper()} stream, without the timestamps and "
                             "frame rate of a container", "put it in an MP4 or MKV without re-encoding "
                             "(e.g. ffmpeg -r RATE -i FILE -c copy video.mkv) and ingest that")
        stream = require_video(container, name)
        cc = stream.codec_context
        if not cc.width or not cc.height:
            raise MediaError(f"{name}: the video stream has no picture size", "the file is probably truncated")
        fps = normalise_rate(stream.average_rate, stream.guessed_rate)
        duration = 0.0
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        frames = stream.frames or round(duration * fps)
        rotation = _rotation(container, stream)
        return ProbeResult(
            width=cc.width,
            height=cc.height,
            fps=fps,
            duration=duration,
            frames=int(frames),
            has_audio=bool(container.streams.audio),
            has_video=True,
            rotation=rotation,
            codec=cc.name,
            pix_fmt=cc.pix_fmt or "",
        )


def _rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Clockwise degrees a player turns the picture (0, 90, 180, 270), read from the first frame's display
    matrix; a file whose first frame does not decode is treated as unrotated here and fails later, clearly."""
    try:
        for frame in container.decode(stream):
            return (-int(frame.rotation)) % 360
    except av.error.FFmpegError:
        return 0
    return 0
