"""Segment-parallel encode: pieces made by separate segment jobs join into exactly the whole-file encode."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters import segments
from heaters.media.export import MasterPiece, export_clip
from heaters.media.features import FeatureBuilder
from heaters.media.pieces import ProxyPiece, byte_spans, join_indexes
from heaters.media.segment import encode_segment, source_timeline
from heaters.media.synthetic import make_video
from heaters.media.transcode import master_options, master_slices, transcode

from .conftest import decode_numbers

SECONDS = 0.7  # 17-18 frames at 25 fps: seams fall inside every shot of the sources below


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.zeros(0)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]).astype(np.float64)


def _encode_all(source: Path, out: Path) -> tuple[list[segments.Planned], list, segments.Timeline]:
    timeline = source_timeline(source)
    planned = segments.plan(timeline.estimated_frames, timeline.fps, SECONDS)
    # Out of order, as independent workers would finish them.
    results = {}
    for seg in reversed(planned):
        results[seg.index] = encode_segment(
            source, out / f"m{seg.index}.mkv", out / f"p{seg.index}.mp4", out / f"t{seg.index}.npy",
            start=seg.start, end=seg.end, timeline=timeline, proxy_preset="ultrafast",
        )
    return planned, [results[s.index] for s in planned], timeline


@pytest.fixture(scope="module", params=[False, True], ids=["cfr", "vfr"])
def encoded(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("segments")
    video = make_video(out / "source.mp4", shot_frames=(23, 31, 30), audio=True, vfr=request.param)
    whole = transcode(video.path, out / "master.mkv", out / "proxy.mp4", proxy_preset="ultrafast")
    planned, results, timeline = _encode_all(video.path, out)
    return out, video, whole, planned, results, timeline


def test_pieces_hold_exactly_the_whole_encodes_frames(encoded) -> None:
    out, _, whole, planned, results, _ = encoded
    assert len(planned) >= 4
    pairs = zip(planned, results, strict=True)
    done = [segments.Done(s.index, s.start, s.end, r.frames, r.reached_end) for s, r in pairs]
    assert segments.encoded_prefix(done, len(planned)) == (whole.total_frames, True, len(planned))
    master = [n for s in planned for n in decode_numbers(out / f"m{s.index}.mkv")]
    proxy = [n for s in planned for n in decode_numbers(out / f"p{s.index}.mp4")]
    assert master == decode_numbers(out / "master.mkv")
    assert proxy == decode_numbers(out / "proxy.mp4")
    for seg, result in zip(planned[:-1], results[:-1], strict=True):
        assert result.frames == seg.end - seg.start and not result.reached_end


def _first_packet_and_reencoded(path: Path) -> tuple[bytes, bytes]:
    """A master file's first packet, and its first picture encoded again with ``master_options``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packet = next(p for p in container.demux(stream) if p.size)
        frame = stream.codec_context.decode(packet)[0]
    context = av.CodecContext.create("ffv1", "w")
    context.width, context.height, context.pix_fmt = frame.width, frame.height, frame.format.name
    context.time_base = Fraction(1, 25)
    context.options = master_options(master_slices(frame.width, frame.height, frame.format.name))
    frame.pts = 0
    again = context.encode(frame) + context.encode(None)
    return bytes(packet), bytes(again[0])


def test_pieces_and_whole_master_are_encoded_with_the_master_options(encoded) -> None:
    # FFV1 is deterministic, so a picture encoded again with the same options gives the same bytes: the whole
    # file and every piece were written by master_options (coder, context model, slices), not a copy of it.
    out, _, _, planned, _, _ = encoded
    for path in [out / "master.mkv", *(out / f"m{s.index}.mkv" for s in planned)]:
        written, again = _first_packet_and_reencoded(path)
        assert written == again, path.name


def test_joined_thumbnails_give_the_whole_encodes_features(encoded) -> None:
    out, _, whole, planned, _, _ = encoded
    builder = FeatureBuilder()
    builder.add_many(np.concatenate([np.load(out / f"t{s.index}.npy") for s in planned]))
    assert np.array_equal(builder.finish(), whole.features, equal_nan=True)


def test_pieces_audio_joins_gaplessly(encoded) -> None:
    out, _, _, planned, _, _ = encoded
    full = _audio(out / "master.mkv")
    joined = np.concatenate([_audio(out / f"m{s.index}.mkv") for s in planned])
    assert len(joined) == len(full)
    # The source's AAC decodes a little differently after a seek (decoder state), never misaligned.
    scale = np.abs(full).max()
    assert np.abs(joined - full).max() < 1e-3 * scale
    for seg in planned[:-1]:  # every piece's audio covers exactly its frames' time
        assert len(_audio(out / f"m{seg.index}.mkv")) == round(Fraction(seg.end) / 25 * 48000) - round(
            Fraction(seg.start) / 25 * 48000
        )


def test_joined_index_addresses_the_pieces_bytes(encoded) -> None:
    out, _, whole, planned, results, _ = encoded
    pieces = [
        ProxyPiece(f"p{s.index}.mp4", s.start, r.index, (out / f"p{s.index}.mp4").stat().st_size)
        for s, r in zip(planned, results, strict=True)
    ]
    index = join_indexes(pieces, complete=True)
    assert index["frames"] == whole.total_frames == len(index["offsets"])
    assert index["description"] == whole.index["description"]
    for n in (0, planned[1].start - 1, planned[1].start, whole.total_frames - 1):
        spans = byte_spans(index["pieces"], index["offsets"][n], index["offsets"][n] + index["sizes"][n])
        assert len(spans) == 1
        key, lo, hi = spans[0]
        piece = next(p for p in pieces if p.key == key)
        local = n - piece.start
        assert (lo, hi - lo) == (piece.index["offsets"][local], piece.index["sizes"][local])
    straddle = byte_spans(index["pieces"], index["pieces"][1]["base"] - 10, index["pieces"][1]["base"] + 10)
    assert [(k, b - a) for k, a, b in straddle] == [("p0.mp4", 10), ("p1.mp4", 10)]


@pytest.mark.parametrize("across", [1, 2], ids=["one-seam", "two-seams"])
def test_export_across_seams_is_frame_exact(encoded, tmp_path, across) -> None:
    out, _, _, planned, results, _ = encoded
    pairs = zip(planned, results, strict=True)
    pieces = [MasterPiece(out / f"m{s.index}.mkv", s.start, s.start + r.frames) for s, r in pairs]
    start, end = planned[1].start - 3, planned[across].end + 2 if planned[across].end else planned[-1].start + 2
    clip = tmp_path / "clip.mp4"
    result = export_clip(pieces, clip, start, end, preset="ultrafast")
    assert result.frames == end - start
    assert decode_numbers(clip) == decode_numbers(out / "master.mkv")[start:end]
    with av.open(str(clip)) as container:
        audio = container.streams.audio[0]
        seconds = float(audio.duration * audio.time_base)
    assert seconds == pytest.approx((end - start) / 25, abs=1024 / 48000 + 1e-3)


def test_a_segment_past_the_end_holds_nothing(encoded, tmp_path) -> None:
    _, video, whole, _, _, timeline = encoded
    result = encode_segment(
        video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", tmp_path / "t.npy",
        start=whole.total_frames + 5, end=whole.total_frames + 20, timeline=timeline,
    )
    assert (result.frames, result.reached_end) == (0, True)
    assert not list(tmp_path.iterdir())


def test_a_virtual_mp4_of_the_pieces_and_the_review_track_plays_as_one_file(encoded) -> None:
    """The header ``virtual_mp4`` writes, followed by the pieces and the track as they are, is an MP4 that
    FFmpeg reads frame exactly, with the review track's sound; without a track it is picture only."""
    from heaters.media.review_track import encode_review_track
    from heaters.media.virtual_mp4 import virtual_mp4

    out, video, _, planned, results, timeline = encoded
    pieces = [ProxyPiece(f"p{s.index}.mp4", s.start, r.index, (out / f"p{s.index}.mp4").stat().st_size)
              for s, r in zip(planned, results, strict=True) if r.frames]
    index = join_indexes(pieces, complete=True)
    track = encode_review_track(video.path, out / "audio.m4a", out / "audio.peaks", audio_start=timeline.audio_start)
    for audio in (None, {**track.index, "key": "audio.m4a"}):
        layout = virtual_mp4(index, audio)
        target = out / ("with-sound.mp4" if audio else "silent.mp4")
        target.write_bytes(layout.header + b"".join((out / key).read_bytes() for key, _ in layout.parts))
        assert target.stat().st_size == layout.size
        assert decode_numbers(target) == decode_numbers(out / "proxy.mp4")  # the whole-file proxy's pictures
        with av.open(str(target)) as container:
            assert len(container.streams.audio) == (1 if audio else 0)
        if audio:
            assert np.allclose(_audio(target), _audio(out / "proxy.mp4"), atol=1e-6)  # the whole-file proxy's sound
    # Byte ranges of the virtual file map onto the header and the parts.
    first, second = layout.parts[0][1], layout.parts[1][1]
    head = len(layout.header)
    assert layout.spans(head - 2, head + first + 3) == [(None, head - 2, head), ("p0.mp4", 0, first), ("p1.mp4", 0, 3)]
    assert layout.spans(0, 4) == [(None, 0, 4)] and second > 0
