"""A real MP4 of a segmented video's proxy, made of its pieces and its sound without copying a byte of them.

A video encoded in segments has its pictures in per-segment MP4 pieces and its sound in one ``.m4a``
(``review_track``); the WebCodecs player reads them through the frame index, but a ``<video>`` element needs
one MP4 file. The media server answers it as a *virtual* file::

    ftyp | moov (sample tables) | mdat header | piece 0 | piece 1 | ... | audio file

The ``mdat``'s payload is the pieces' and the audio file's bytes as they are (their own boxes inside are
just bytes nobody points at); the ``moov`` written here points every sample at its bytes there: one sample
per chunk, 64-bit chunk offsets (``co64``), the video track's ``avcC`` from the frame index, the audio
track's ``mp4a``/``esds`` from the track's AudioSpecificConfig and an edit list that hides the AAC
encoder's priming, as FFmpeg's muxer does. Every picture is a keyframe (no ``stss`` box: all are sync
samples) and no picture is reordered (no ``ctts``).

Written by hand because nothing here muxes: FFmpeg's muxer lays out (and copies) the samples itself, and the
Python box libraries (pymp4, built on construct) target fragmented MP4 and build tables entry by entry in
Python, where a 3-hour video has about 800,000 samples; with numpy the tables are a few array conversions.
Pure: values in, bytes out (no I/O).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

MOVIE_TIMESCALE = 1000
AAC_FRAME = 1024  # samples per AAC-LC packet
MATRIX = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class Layout:
    """The virtual file: ``header`` (ftyp, moov, mdat header) then ``parts`` (storage key, bytes) in order."""

    header: bytes
    parts: tuple[tuple[str, int], ...]

    @property
    def size(self) -> int:
        return len(self.header) + sum(n for _, n in self.parts)

    def spans(self, start: int, end: int) -> list[tuple[str | None, int, int]]:
        """Bytes ``[start, end)`` as ``(key, lo, hi)`` ranges, ``key`` None for the header."""
        found: list[tuple[str | None, int, int]] = []
        at = 0
        for key, size in ((None, len(self.header)), *self.parts):
            lo, hi = max(start, at), min(end, at + size)
            if lo < hi:
                found.append((key, lo - at, hi - at))
            at += size
        return found


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24 | flags), *payload)


def _descriptor(tag: int, *payload: bytes) -> bytes:
    """An MPEG-4 descriptor (esds), its length in the four-byte expandable form."""
    body = b"".join(payload)
    n = len(body)
    size = bytes([0x80 | (n >> 21) & 0x7F, 0x80 | (n >> 14) & 0x7F, 0x80 | (n >> 7) & 0x7F, n & 0x7F])
    return bytes([tag]) + size + body


def _u32(values: Any) -> bytes:
    return np.asarray(values, dtype=np.int64).astype(">u4").tobytes()


def _tables(sizes: Sequence[int], offsets: np.ndarray, deltas: np.ndarray) -> bytes:
    """stts (run-length deltas), stsc (one sample per chunk), stsz and co64."""
    change = np.flatnonzero(np.diff(deltas)) + 1
    starts = np.concatenate([[0], change])
    counts = np.diff(np.concatenate([starts, [len(deltas)]]))
    runs = np.stack([counts, deltas[starts]], axis=1) if len(deltas) else np.zeros((0, 2), np.int64)
    return (
        _full(b"stts", 0, 0, struct.pack(">I", len(runs)), _u32(runs.reshape(-1)))
        + _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1))
        + _full(b"stsz", 0, 0, struct.pack(">II", 0, len(sizes)), _u32(sizes))
        + _full(b"co64", 0, 0, struct.pack(">I", len(offsets)), offsets.astype(">u8").tobytes())
    )


def _media(handler: bytes, name: bytes, timescale: int, duration: int, header: bytes, stbl: bytes) -> bytes:
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    return _box(
        b"mdia",
        _full(b"mdhd", 1, 0, struct.pack(">QQIQHH", 0, 0, timescale, duration, 0x55C4, 0)),  # language "und"
        _full(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, handler), name + b"\0"),
        _box(b"minf", header, dinf, _box(b"stbl", stbl)),
    )


def _track(track_id: int, duration_ms: int, volume: int, width: int, height: int, *inner: bytes) -> bytes:
    tkhd = _full(
        b"tkhd", 1, 3,  # enabled, in the movie
        struct.pack(">QQIIQ8xhhhH", 0, 0, track_id, 0, duration_ms, 0, 0, volume, 0), MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    return _box(b"trak", tkhd, *inner)


def _video_track(index: dict[str, Any], base: int) -> tuple[bytes, int]:
    fps = Fraction(index["fps"])
    scale = max(1, -(-MOVIE_TIMESCALE // fps.numerator))  # a timescale of at least 1000 ticks a second
    timescale, delta = fps.numerator * scale, fps.denominator * scale
    sizes = index["sizes"]
    duration = delta * len(sizes)
    avcc = base64.b64decode(index["description"])
    width, height = int(index["width"]), int(index["height"])
    compressor = bytes(32)
    entry = _box(
        b"avc1", bytes(6), struct.pack(">HHH12xHHIIIH", 1, 0, 0, width, height, 0x480000, 0x480000, 0, 1),
        compressor, struct.pack(">Hh", 0x18, -1), _box(b"avcC", avcc),
    )
    stbl = _full(b"stsd", 0, 0, struct.pack(">I", 1), entry) + _tables(
        sizes, np.asarray(index["offsets"], np.int64) + base, np.full(len(sizes), delta, np.int64)
    )
    vmhd = _full(b"vmhd", 0, 1, struct.pack(">HHHH", 0, 0, 0, 0))
    duration_ms = duration * MOVIE_TIMESCALE // timescale
    mdia = _media(b"vide", b"VideoHandler", timescale, duration, vmhd, stbl)
    return _track(1, duration_ms, 0, width, height, mdia), duration_ms


def _audio_track(audio: dict[str, Any], base: int) -> tuple[bytes, int]:
    rate, channels = int(audio["sample_rate"]), int(audio["channels"])
    pts = np.asarray(audio["pts"], np.int64)
    sizes = audio["sizes"]
    deltas = np.append(np.diff(pts), AAC_FRAME)
    duration = int(deltas.sum())
    total_bytes = int(np.sum(np.asarray(sizes, np.int64)))
    seconds = max(duration / rate, 1e-3)
    config = base64.b64decode(audio["description"])
    esds = _full(b"esds", 0, 0, _descriptor(
        3, struct.pack(">HB", 2, 0),
        _descriptor(4, struct.pack(">BB", 0x40, 0x15), (max(sizes) if sizes else 0).to_bytes(3, "big"),
                    struct.pack(">II", round(total_bytes * 8 / seconds), round(total_bytes * 8 / seconds)),
                    _descriptor(5, config)),
        _descriptor(6, b"\x02"),
    ))
    entry = _box(b"mp4a", bytes(6), struct.pack(">H8xHHHHI", 1, channels, 16, 0, 0, rate << 16), esds)
    stbl = _full(b"stsd", 0, 0, struct.pack(">I", 1), entry) + _tables(
        sizes, np.asarray(audio["offsets"], np.int64) + base, deltas
    )
    smhd = _full(b"smhd", 0, 0, struct.pack(">hH", 0, 0))
    # Presentation starts at sample 0 of frame 0: the priming before it (negative pts) is edited out, and a
    # track starting late would begin with an empty edit.
    first = int(pts[0]) if len(pts) else 0
    edits = []
    if first > 0:
        edits.append((first * MOVIE_TIMESCALE // rate, -1))
    shown = duration - max(0, -first)
    edits.append((shown * MOVIE_TIMESCALE // rate, max(0, -first)))
    elst = _full(b"elst", 1, 0, struct.pack(">I", len(edits)),
                 b"".join(struct.pack(">QqhH", d, t, 1, 0) for d, t in edits))
    duration_ms = sum(d for d, _ in edits)
    mdia = _media(b"soun", b"SoundHandler", rate, duration, smhd, stbl)
    return _track(2, duration_ms, 0x100, 0, 0, _box(b"edts", elst), mdia), duration_ms


def _moov(index: dict[str, Any], audio: dict[str, Any] | None, video_base: int, audio_base: int) -> bytes:
    video, length = _video_track(index, video_base)
    tracks = [video]
    if audio is not None:
        sound, sound_length = _audio_track(audio, audio_base)
        tracks.append(sound)
        length = max(length, sound_length)
    mvhd = _full(
        b"mvhd", 1, 0, struct.pack(">QQIQih10x", 0, 0, MOVIE_TIMESCALE, length, 0x10000, 0x100), MATRIX,
        bytes(24), struct.pack(">I", len(tracks) + 1),
    )
    return _box(b"moov", mvhd, *tracks)


def virtual_mp4(index: dict[str, Any], audio: dict[str, Any] | None = None) -> Layout:
    """The virtual MP4 of a pieces index (``heaters.media.pieces``) and, optionally, the packet index of the
    video's audio file (with its ``key`` and ``bytes``)."""
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"avc1", b"mp41")
    pieces = tuple((str(p["key"]), int(p["bytes"])) for p in index["pieces"])
    parts = pieces + (((str(audio["key"]), int(audio["bytes"])),) if audio is not None else ())
    payload = sum(n for _, n in parts)
    mdat_header = 16
    start = len(ftyp) + len(_moov(index, audio, 0, 0)) + mdat_header  # the moov's size does not depend on offsets
    moov = _moov(index, audio, start, start + int(index["bytes"]))
    header = ftyp + moov + struct.pack(">I4sQ", 1, b"mdat", mdat_header + payload)
    assert len(header) == start
    return Layout(header, parts)
