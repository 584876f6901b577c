"""One frame index over the proxy pieces of a segmented video, without joining (copying) the pieces.

Every proxy piece is a complete all-intra MP4 with the same H.264 configuration (same size, same encoder
settings, hence the same avcC). The video's index addresses a *virtual* file, the pieces' bytes one after
another: frame n's offset is its offset inside its piece plus the sizes of the pieces before it. The player
keeps reading ``offsets``/``sizes`` as for a single file, and the media server answers a Range request on
the virtual file from the pieces (``byte_spans``). The index lists the pieces::

    "pieces": [{"key": "proxies/7/00000.mp4", "start": 0, "frames": 1500, "base": 0, "bytes": 5123456}, ...]

An index of the encoded prefix only (``complete`` false) is what reviewers use while the rest encodes. The
pieces carry no sound: the video's one review track is a file of its own that the index points at
(``review_track``), and ``virtual_mp4`` makes a real MP4 of the pieces and that track for ``<video>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from heaters.errors import MediaError
from heaters.media.frame_index import INDEX_VERSION


@dataclass(frozen=True)
class ProxyPiece:
    key: str
    start: int  # the video frame of the piece's first frame
    index: dict[str, Any]  # the piece's own frame index (``build_index``)
    size: int  # bytes of the piece file


def join_indexes(pieces: Sequence[ProxyPiece], *, complete: bool) -> dict[str, Any]:
    """The frame index of the pieces' virtual concatenation; they must be contiguous and alike."""
    if not pieces:
        raise MediaError("no proxy piece to index", "encode at least the first segment")
    first = pieces[0].index
    offsets: list[int] = []
    sizes: list[int] = []
    listed = []
    base = 0
    for piece in pieces:
        index = piece.index
        for field in ("codec", "description", "width", "height", "fps"):
            if index[field] != first[field]:
                raise MediaError(
                    f"proxy piece {piece.key} differs from the first piece in {field} ({index[field]!r})",
                    "re-encode the video's segments with the same settings",
                )
        if piece.start != len(offsets):
            raise MediaError(
                f"proxy piece {piece.key} starts at frame {piece.start}, the pieces before end at {len(offsets)}",
                "this is a bug; report it",
            )
        if index["offsets"] and max(o + s for o, s in zip(index["offsets"], index["sizes"], strict=True)) > piece.size:
            raise MediaError(f"proxy piece {piece.key} is shorter than its index says", "re-encode the segment")
        offsets.extend(base + o for o in index["offsets"])
        sizes.extend(index["sizes"])
        listed.append(
            {"key": piece.key, "start": piece.start, "frames": int(index["frames"]), "base": base, "bytes": piece.size}
        )
        base += piece.size
    return {
        "version": INDEX_VERSION,
        "codec": first["codec"],
        "description": first["description"],
        "width": first["width"],
        "height": first["height"],
        "fps": first["fps"],
        "frames": len(offsets),
        "offsets": offsets,
        "sizes": sizes,
        "pieces": listed,
        "bytes": base,
        "complete": complete,
    }


def byte_spans(pieces: Sequence[dict[str, Any]], start: int, end: int) -> list[tuple[str, int, int]]:
    """Bytes ``[start, end)`` of the virtual file as ``(piece key, start, end)`` ranges inside the pieces."""
    spans = []
    for piece in pieces:
        lo, hi = piece["base"], piece["base"] + piece["bytes"]
        if hi <= start or lo >= end:
            continue
        spans.append((str(piece["key"]), max(start, lo) - lo, min(end, hi) - lo))
    return spans
