"""The frame index of a finished proxy: where each frame's bytes are, for the browser's WebCodecs player.

The player fetches a clip's window of this index, then each frame's bytes with an HTTP Range request, and
hands them unchanged to ``VideoDecoder`` as a key chunk (the proxy is all-intra, so every frame decodes on
its own). The index is read back from the finished MP4 by demuxing it, so it describes exactly the bytes
that are served. The JSON layout is a contract with ``web/static`` — keep it::

    {"version": 1, "codec": "avc1.64001f", "description": "<base64 avcC>", "width": W, "height": H,
     "fps": "30000/1001", "frames": N, "offsets": [...], "sizes": [...]}

``offsets[n]``/``sizes[n]`` are frame n's byte range in presentation order.

A proxy with sound adds its packet index, ``"audio": {"codec": "mp4a.40.2", "description": "<base64
AudioSpecificConfig>", "sample_rate": 48000, "channels": C, "offsets": [...], "sizes": [...], "pts": [...]}``,
where ``pts[k]`` is packet k's first sample counted from video frame 0 (the first packet starts before 0:
the encoder's priming). A window of the index carries the audio packets that play during its frames.
Beside it, ``"peaks": {"rate": 100, "channels": C, "bins": B, "format": ...}`` describes the waveform file.

A video encoded in segments has its sound in a file of its own (``review_track``): there ``audio`` and
``peaks`` also name that file's storage ``key`` (and ``audio`` its ``bytes``); offsets are into it, and the
API adds the ``url`` the page fetches them from. Until that file exists, ``"audio_pending": true``.
"""

from __future__ import annotations

import base64
import bisect
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from heaters.errors import MediaError
from heaters.media.probe import normalise_rate, open_media, require_video

INDEX_VERSION = 1


def avc_codec_string(avcc: bytes) -> str:
    """The WebCodecs codec string (profile, constraints, level) from an avcC record."""
    if len(avcc) < 4 or avcc[0] != 1:
        raise MediaError(
            "the proxy's H.264 stream has no avcC description", "re-encode the proxy as H.264 in MP4"
        )
    return "avc1.%02X%02X%02X" % (avcc[1], avcc[2], avcc[3])  # noqa: UP031 - the format is the spec


def build_index(
    proxy_path: str | Path, fps: Fraction | None = None, *, require_keyframes: bool = True
) -> dict[str, Any]:
    """Demux ``proxy_path`` and return its frame index (see the module docstring for the layout).

    ``fps`` defaults to the stream's rate; ``require_keyframes`` rejects a proxy in which some frame cannot be
    decoded on its own, because the player would show garbage there.
    """
    name = Path(proxy_path).name
    with open_media(proxy_path) as container:
        stream = require_video(container, name)
        cc = stream.codec_context
        if cc.name != "h264":
            raise MediaError(f"{name} is {cc.name}, not H.264", "the player needs an H.264 proxy")
        avcc = bytes(cc.extradata or b"")
        codec = avc_codec_string(avcc)
        rate = fps or normalise_rate(stream.average_rate, stream.guessed_rate)
        packets: list[tuple[int, int, int]] = []
        astream = container.streams.audio[0] if container.streams.audio else None
        sound: list[tuple[int, int, int]] = []
        for packet in container.demux(*(s for s in (stream, astream) if s is not None)):
            if packet.size == 0 or packet.pos is None or packet.pos < 0:
                continue  # the demuxer's end-of-stream marker
            if packet.stream is astream:
                sound.append((packet.pts or 0, packet.pos, packet.size))
                continue
            if require_keyframes and not packet.is_keyframe:
                raise MediaError(
                    f"{name}: frame {len(packets)} is not a keyframe", "proxies must be encoded all-intra"
                )
            order = packet.pts if packet.pts is not None else len(packets)
            packets.append((order, packet.pos, packet.size))
        width, height = cc.width, cc.height
        # Read while the file is open: a stream's fields are not valid once its container is closed.
        audio = _audio_index(astream, sorted(sound)) if astream is not None and sound else None
    if not packets:
        raise MediaError(f"{name} holds no video frames", "re-encode the proxy")
    packets.sort()
    return {
        "version": INDEX_VERSION,
        "codec": codec,
        "description": base64.b64encode(avcc).decode("ascii"),
        "width": width,
        "height": height,
        "fps": f"{rate.numerator}/{rate.denominator}",
        "frames": len(packets),
        "offsets": [p[1] for p in packets],
        "sizes": [p[2] for p in packets],
        **({"audio": audio} if audio else {}),
    }


def build_audio_index(path: str | Path) -> dict[str, Any]:
    """The packet index of an audio-only file (a segmented video's review track), in the layout of a proxy
    index's ``"audio"``, with ``bytes`` the file's size; offsets are into that file."""
    name = Path(path).name
    with open_media(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{name} holds no audio", "encode the review audio again")
        stream = container.streams.audio[0]
        packets = sorted(
            (p.pts or 0, p.pos, p.size) for p in container.demux(stream) if p.size and p.pos is not None and p.pos >= 0
        )
        if not packets:
            raise MediaError(f"{name} holds no audio packets", "encode the review audio again")
        index = _audio_index(stream, packets)
    index["bytes"] = Path(path).stat().st_size
    return index


def _audio_index(stream: Any, packets: list[tuple[int, int, int]]) -> dict[str, Any]:
    cc = stream.codec_context
    rate = cc.sample_rate
    # Packet timestamps in samples (the stream's time base is 1/rate for AAC in MP4, but say so exactly).
    scale = stream.time_base * rate
    return {
        "codec": "mp4a.40.2" if cc.name == "aac" else cc.name,
        "description": base64.b64encode(bytes(cc.extradata or b"")).decode("ascii"),
        "sample_rate": rate,
        "channels": cc.channels,
        "offsets": [p[1] for p in packets],
        "sizes": [p[2] for p in packets],
        "pts": [int(p[0] * scale) for p in packets],
    }


def audio_window(audio: dict[str, Any], fps: Fraction, start: int, end: int) -> dict[str, Any]:
    """The audio packets that play during frames ``[start, end)``, plus one before (an AAC packet decodes
    fully only after its predecessor); ``first`` is the first packet's number in the whole track."""
    rate = int(audio["sample_rate"])
    pts = audio["pts"]
    lo = max(0, bisect.bisect_right(pts, int(start / fps * rate)) - 2)
    hi = bisect.bisect_left(pts, int(end / fps * rate) + 1)
    window = dict(audio)
    window.update(first=lo, offsets=audio["offsets"][lo:hi], sizes=audio["sizes"][lo:hi], pts=pts[lo:hi])
    return window


def index_window(index: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    """The part of ``index`` for frames ``[start, end)``: the same keys, with ``offsets``/``sizes`` sliced so
    that entry i is frame ``start + i``, ``frames`` the window's length, plus ``start``, ``end`` and
    ``total_frames`` (the whole video's count)."""
    total = int(index["frames"])
    if not 0 <= start < end <= total:
        raise MediaError(
            f"frames [{start}, {end}) are outside the video's [0, {total})", "ask for a range inside the video"
        )
    window = dict(index)
    if "audio" in index:
        window["audio"] = audio_window(index["audio"], Fraction(index["fps"]), start, end)
    window.update(
        frames=end - start,
        offsets=index["offsets"][start:end],
        sizes=index["sizes"][start:end],
        start=start,
        end=end,
        total_frames=total,
    )
    return window


def dumps(index: dict[str, Any]) -> str:
    """Compact JSON for storage and HTTP (the offsets list dominates the size)."""
    return json.dumps(index, separators=(",", ":"))
