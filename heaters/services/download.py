"""Fetching a source into a local file: yt-dlp for URLs, a plain copy for local paths and ``file://`` URLs.

yt-dlp is used as a library. Its errors are long and technical; ``explain`` turns the ones people meet into
a ``DownloadError`` saying what happened (unreachable host, HTTP 404, no video at that address). Best quality
normally means a video-only and an audio-only stream that must be merged; yt-dlp merges with an ffmpeg
executable, and where none is installed both streams are downloaded and joined here by remuxing with PyAV
(no re-encoding, so nothing is lost).
"""

from __future__ import annotations

import heapq
import logging
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from heaters.errors import DownloadError, MediaError
from heaters.services.read_watch import RateFloor, ReadWatch, Stalled

log = logging.getLogger(__name__)

# (bytes done, bytes total or None): called from the downloading thread.
Progress = Callable[[int, int | None], None]
_COPY_CHUNK = 4 * 1024 * 1024
# A source that sends fewer than this many bytes in this many seconds is given up on: the socket timeout only
# catches one that sends nothing, and a trickle would hold a worker until the stage's time limit (hours). It is
# checked between yt-dlp's blocks and, on Linux, inside one (``read_watch``).
STALL_SECONDS = 300.0
STALL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    path: Path
    title: str


def local_path_of(source: str) -> Path | None:
    """The file a source names if it is a local path or a ``file://`` URL, else None (a remote URL)."""
    if source.startswith("file://"):
        parts = urlsplit(source)
        return Path(unquote(parts.path))
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        return None
    return Path(source).expanduser()


def not_a_file(path: Path) -> DownloadError:
    """The error for a local source that is missing or is not a file (a directory, a device)."""
    return DownloadError(f"{path} {'is not a file' if path.exists() else 'does not exist'}", "check the path")


def title_from_name(path: Path | str) -> str:
    """A readable title from a file name (any script): folders and extension dropped, separators and control
    characters turned into spaces."""
    stem = Path(str(path).replace("\\", "/")).stem
    return re.sub(r"[_\s\x00-\x1f\x7f]+", " ", stem).strip()[:500] or "untitled"


def copy_local(source: Path, target_dir: Path, progress: Progress | None = None) -> Fetched:
    """Copy a local file into ``target_dir`` (the worker's scratch space), reporting bytes as it goes."""
    if not source.exists():
        raise DownloadError(f"{source} does not exist", "check the path (it must be readable by the workers)")
    if not source.is_file():
        raise DownloadError(f"{source} is not a file", "give the path of a video file")
    total = source.stat().st_size
    if total == 0:
        raise MediaError(f"{source.name} is empty (0 bytes)", "the file did not download or copy completely")
    target = target_dir / f"original{source.suffix.lower() or '.bin'}"
    done = 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_COPY_CHUNK):
            dst.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return Fetched(target, title_from_name(source))


def format_spec(max_height: int, can_merge: bool) -> str:
    """yt-dlp format selection: the best video and audio, at most ``max_height`` lines when set."""
    limit = f"[height<={max_height}]" if max_height > 0 else ""
    if can_merge:
        return f"bv*{limit}+ba/b{limit}/b"
    return f"bv*{limit}/b{limit}/b"


class _StallWatch:
    """Raises ``DownloadError`` once ``least`` bytes have not arrived within ``seconds``."""

    def __init__(self, url: str, seconds: float, least: int) -> None:
        self.url, self.floor = url, RateFloor(seconds, least)

    def __call__(self, done: int) -> None:
        slow = self.floor.too_slow(done)  # a smaller count than before: a new file began
        if slow is not None:
            raise self.too_slow(*slow)

    def too_slow(self, received: int, seconds: float) -> DownloadError:
        return DownloadError(
            f"{urlsplit(self.url).netloc or self.url} sends too slowly: {received} bytes in the last {seconds:.0f} s",
            "try again later with `heaters retry` (the site may be throttling)",
        )


def fetch_url(
    url: str, target_dir: Path, *, max_height: int = 0, progress: Progress | None = None,
    stall: tuple[float, int] = (STALL_SECONDS, STALL_BYTES),
) -> Fetched:
    """Download ``url`` with yt-dlp into ``target_dir``; raise ``DownloadError`` with a readable reason, also
    when fewer than ``stall[1]`` bytes arrive in ``stall[0]`` seconds."""
    import yt_dlp

    can_merge = shutil.which("ffmpeg") is not None
    watch = _StallWatch(url, *stall)
    info = _download(url, target_dir, format_spec(max_height, can_merge), "original", progress, watch)
    video = _downloaded_file(info, target_dir, "original")
    title = str(info.get("title") or title_from_name(urlsplit(url).path or url))
    if not can_merge and info.get("acodec") == "none" and info.get("vcodec") not in (None, "none"):
        # Video-only stream chosen: fetch the best audio too and join the two without re-encoding.
        try:
            audio_info = _download(url, target_dir, "ba", "audio", progress, watch)
            audio = _downloaded_file(audio_info, target_dir, "audio")
        except (DownloadError, yt_dlp.utils.YoutubeDLError) as exc:
            log.warning("no separate audio for %s (%s); keeping the video without sound", url, exc)
            return Fetched(video, title)
        merged = target_dir / "original-merged.mkv"
        remux(video, audio, merged)
        return Fetched(merged, title)
    return Fetched(video, title)


def _download(
    url: str, target_dir: Path, fmt: str, stem: str, progress: Progress | None, watch: _StallWatch
) -> dict[str, Any]:
    import yt_dlp

    # Between yt-dlp's blocks ``watch`` sees what arrived; within one block only the thread's reads tell.
    reads = ReadWatch(watch.floor.seconds, watch.floor.least)

    def hook(d: dict[str, Any]) -> None:
        if d.get("status") in ("downloading", "finished"):
            done = int(d.get("downloaded_bytes") or 0)
            watch(done)
            if progress:
                total = d.get("total_bytes") or d.get("total_bytes_estimate")
                progress(done, int(total) if total else None)
        if d.get("status") == "downloading":
            reads.arm()
        else:  # finished or failed: what follows (a merge) reads little and is no download
            reads.disarm()

    options = {
        "format": fmt,
        "outtmpl": str(target_dir / f"{stem}.%(ext)s"),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _QuietLogger(),
        "progress_hooks": [hook],
        "socket_timeout": 30,
        "retries": 3,
        "overwrites": True,
        # A ``.part`` file left by a killed attempt is continued with a Range request, not fetched again.
        "continuedl": True,
        "cachedir": False,
    }
    try:
        with reads, yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
    except Stalled:
        raise watch.too_slow(*(reads.stalled or (0, watch.floor.seconds))) from None
    except yt_dlp.utils.YoutubeDLError as exc:
        raise explain(url, str(exc)) from None
    if not info:
        raise DownloadError(f"nothing was downloaded from {url}", "check the address in a browser")
    if info.get("_type") == "playlist":
        raise DownloadError(f"{url} is a playlist, not one video", "ingest the address of a single video")
    return dict(info)


def _downloaded_file(info: dict[str, Any], target_dir: Path, stem: str) -> Path:
    for entry in info.get("requested_downloads") or []:
        path = entry.get("filepath")
        if path and Path(path).is_file():
            return Path(path)
    candidates = sorted(p for p in target_dir.glob(f"{stem}.*") if not p.name.endswith((".part", ".ytdl")))
    if not candidates:
        raise DownloadError("the download finished but left no file", "try again; the site may have changed")
    return candidates[0]


def explain(url: str, message: str) -> DownloadError:
    """Map a yt-dlp error message to what a person needs to know."""
    text = message.removeprefix("ERROR: ").strip()
    low = text.lower()
    host = urlsplit(url).netloc or url
    if m := re.search(r"http error (\d{3})", low):
        code = int(m.group(1))
        what = {401: "needs a login", 403: "refused access", 404: "was not found", 410: "is gone"}.get(
            code, "failed"
        )
        return DownloadError(f"{url} {what} (HTTP {code})", "check the address in a browser")
    if "unsupported url" in low or "is not a valid url" in low or "no video formats found" in low:
        return DownloadError(
            f"no video found at {url} (unsupported site or not a video page)",
            "give the address of a video page or of a video file",
        )
    if "a local or private address" in low:  # source_policy.PrivateAddress: a redirect, or DNS changed
        from heaters.services.source_policy import HINT

        return DownloadError(f"{url} leads to a local or private address, which is not allowed", HINT)
    if "connection refused" in low or "errno 111" in low:
        return DownloadError(f"cannot connect to {host}: connection refused", "check the address and port")
    if "name or service not known" in low or "getaddrinfo" in low or "nodename nor servname" in low:
        return DownloadError(f"cannot resolve the host {host}", "check the address and the network")
    if "timed out" in low:
        return DownloadError(f"{host} did not answer in time", "try again later")
    if "requested format is not available" in low:
        return DownloadError(f"{url} offers no video stream", "the address may point to audio only")
    first = text.splitlines()[0] if text else "unknown error"
    return DownloadError(f"download of {url} failed: {first[:300]}", "check the address; retry with `heaters retry`")


def remux(video: Path, audio: Path, out: Path) -> None:
    """Put the video stream of ``video`` (the one every stage reads: ``require_video``) and the first audio
    stream of ``audio`` into one MKV, packets copied as they are."""
    import av

    from heaters.media.probe import require_video

    with av.open(str(video)) as vin, av.open(str(audio)) as ain, av.open(str(out), "w", format="matroska") as dst:
        vs = require_video(vin, video.name)
        v_out = dst.add_stream_from_template(vs)
        pairs: list[tuple[Any, Any, Any]] = [(vin, vs, v_out)]
        if ain.streams.audio:
            a_s = ain.streams.audio[0]
            pairs.append((ain, a_s, dst.add_stream_from_template(a_s)))
        # Interleave by time so the muxer never has to buffer one whole stream.
        ordered = heapq.merge(*(_timed(c, s, i) for i, (c, s, _) in enumerate(pairs)), key=lambda x: x[:2])
        for _, index, packet in ordered:
            packet.stream = pairs[index][2]
            dst.mux(packet)


def _timed(container: Any, stream: Any, index: int) -> Iterator[tuple[float, int, Any]]:
    for packet in container.demux(stream):
        if packet.dts is None:
            continue
        yield float(packet.dts * packet.time_base), index, packet


class _QuietLogger:
    """yt-dlp writes to the terminal by default; workers log instead (errors arrive as exceptions)."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)
