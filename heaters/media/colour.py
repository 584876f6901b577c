"""Colour tags: say in the stream which conversion produced the pixels, so every player shows them alike.

A YUV picture means nothing without its matrix, primaries, transfer and range. Browsers read an untagged
stream as BT.709, while frames converted from RGB by swscale use BT.601: unlabelled, reds and skin tones
shift visibly. So the proxy copies the source's tags when it has them, names BT.601 when we converted from
RGB ourselves, and otherwise makes the guess players make (HD is BT.709, SD is BT.601) explicit.
"""

from __future__ import annotations

from dataclasses import dataclass

import av

# FFmpeg enum values -> x264 names, for the codes we pass through.
MATRIX = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc"}
PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020"}
TRANSFER = {
    1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear", 13: "iec61966-2-1",
    14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67",
}
UNSPECIFIED = 2
FULL_RANGE = 2
LIMITED_RANGE = 1


@dataclass(frozen=True)
class ColourTags:
    """The four colour properties as FFmpeg enum values (2 = unspecified, range 0 = unspecified)."""

    matrix: int
    primaries: int
    transfer: int
    range: int

    @classmethod
    def of(cls, frame: av.VideoFrame) -> ColourTags:
        full = frame.format.name.startswith("yuvj") or int(frame.color_range) == FULL_RANGE
        return cls(
            int(frame.colorspace), int(frame.color_primaries), int(frame.color_trc),
            FULL_RANGE if full else int(frame.color_range),
        )

    def apply(self, cc: av.VideoCodecContext) -> None:
        cc.colorspace, cc.color_primaries, cc.color_trc = self.matrix, self.primaries, self.transfer
        cc.color_range = self.range

    def x264_params(self) -> str:
        parts = [
            f"colormatrix={MATRIX[self.matrix]}", f"colorprim={PRIMARIES[self.primaries]}",
            f"transfer={TRANSFER[self.transfer]}", "range=" + ("pc" if self.range == FULL_RANGE else "tv"),
        ]
        return ":".join(parts)

    @property
    def source_range(self) -> str:
        return "JPEG" if self.range == FULL_RANGE else "MPEG"


@dataclass(frozen=True)
class ProxyColour(ColourTags):
    """Tags for the proxy (always limited range) plus the range of the source, for the conversion."""

    source: str = "MPEG"

    @property
    def source_range(self) -> str:
        return self.source


def proxy_colour(frame: av.VideoFrame, height: int) -> ProxyColour:
    """The tags that describe the proxy made from ``frame`` (converted to limited-range yuv420p)."""
    src = ColourTags.of(frame)
    is_rgb = not frame.format.name.startswith(("yuv", "nv", "gray"))
    if is_rgb:
        matrix = 6  # swscale converts RGB to YUV with BT.601 unless told otherwise
    elif src.matrix in MATRIX:
        matrix = src.matrix
    else:
        matrix = 1 if height >= 720 or frame.height >= 720 else 6
    primaries = src.primaries if src.primaries in PRIMARIES else {1: 1, 5: 5, 7: 7, 9: 9}.get(matrix, 6)
    transfer = src.transfer if src.transfer in TRANSFER else {1: 1, 7: 7, 9: 1}.get(matrix, 6)
    return ProxyColour(matrix, primaries, transfer, LIMITED_RANGE, source=src.source_range)
