"""The stand-alone scene decode leaves quiet B-frames out without changing what the detector sees."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.frame import PictureType

from heaters.media import skim
from heaters.media.features import FeatureBuilder, hsv_distance, thumbnails, thumbnails_to_hsv
from heaters.media.scenes import compute_features, detect_cuts, detect_file
from heaters.media.skim import FILL_BELOW, Thumbnail, frame_thumbnails
from heaters.media.synthetic import ShotSpec, make_video

from .conftest import remux

S = ShotSpec
# Slowly moving shots (where frames can be left out), hard cuts, a dissolve and a whip pan (where they
# cannot), encoded as internet video is: x264 with B-frames. At 640x360 the renderer's handheld drift of a
# pixel a frame is as quiet as real footage.
SHOTS = [S(70), S(60, pan=0.3), S(60, "dissolve", 16), S(70, whips=(30,)), S(60)]


def thumbs(path: Path, skim_frames: bool = True) -> list[Thumbnail]:
    with av.open(str(path)) as container:
        return list(frame_thumbnails(path, container, container.streams.video[0], skim=skim_frames))


def whole_features(path: Path) -> np.ndarray:
    """The feature table of a decode of every frame."""
    builder = FeatureBuilder()
    builder.add_many(np.stack([t.thumb for t in thumbs(path, skim_frames=False)]))
    return builder.finish()


def distances(rgb: np.ndarray) -> np.ndarray:
    """The detector's HSV difference of each thumbnail from the next."""
    hsv, _ = thumbnails_to_hsv(rgb)
    return hsv_distance(hsv[1:], hsv[:-1])


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory):
    return make_video(tmp_path_factory.mktemp("skim") / "b.mp4", shots=SHOTS, preset="fast", noise=0.5,
                      number_pattern=False, size=(640, 360))


def test_frames_are_left_out_only_where_their_neighbours_agree(bframes) -> None:
    skimmed, whole = thumbs(bframes.path), thumbs(bframes.path, skim_frames=False)
    assert len(skimmed) == len(whole) == bframes.frames
    filled = [i for i, t in enumerate(skimmed) if t.filled]
    assert len(filled) > bframes.frames // 16  # B-frames of the quiet stretches were not decoded
    truth = np.stack([t.thumb for t in whole])
    # Every frame that was decoded is exactly the full decode's frame N ...
    for i, t in enumerate(skimmed):
        if not t.filled:
            np.testing.assert_array_equal(t.thumb, truth[i], err_msg=f"frame {i}")
    # ... and every filled one lies between neighbours that differ by less than the detector's floor, and is
    # that close to the real frame too.
    step = distances(truth)
    for i in filled:
        assert 0 < i < bframes.frames - 1
        assert step[i - 1] + step[i] < 2 * FILL_BELOW, i
        assert distances(np.stack([truth[i], skimmed[i].thumb]))[0] < FILL_BELOW, i


def test_skimming_finds_the_cuts_a_full_decode_finds(bframes) -> None:
    skimmed, whole = detect_cuts(compute_features(bframes.path)[0]), detect_cuts(whole_features(bframes.path))
    assert [(c.frame, c.kind) for c in skimmed] == [(c.frame, c.kind) for c in whole]
    assert [c.confidence for c in skimmed] == pytest.approx([c.confidence for c in whole], abs=0.05)
    # And they are the true cuts: hard cuts on their frame, the dissolve inside its window.
    cuts = detect_file(bframes.path).cuts
    assert len(cuts) == len(bframes.windows)
    assert all(lo <= cut < hi for cut, (lo, hi) in zip(cuts, bframes.windows, strict=True))


def test_a_gap_whose_neighbours_differ_is_decoded_after_all(bframes, monkeypatch) -> None:
    # Treat every stretch as quiet and no packet as a new picture: the B-frames of the cuts, the dissolve and
    # the whip pan are left out too, and must come back decoded, not blended.
    monkeypatch.setattr(skim, "QUIET", float("inf"))
    monkeypatch.setattr(skim, "BIG", float("inf"))
    skimmed, whole = thumbs(bframes.path), thumbs(bframes.path, skim_frames=False)
    again = [i for i, t in enumerate(skimmed) if t.how == "decoded again"]
    assert again
    for i in again:
        np.testing.assert_array_equal(skimmed[i].thumb, whole[i].thumb, err_msg=f"frame {i}")
    step = distances(np.stack([t.thumb for t in whole]))
    for i, t in enumerate(skimmed):
        if t.filled:
            assert step[i - 1] + step[i] < 2 * FILL_BELOW, i


def test_a_cut_is_seen_in_the_bitstream_before_its_frames_are_shown(tmp_path) -> None:
    # Leaving-out is decided on frames shown several packets earlier, so right after a cut between two
    # framings of one scene the stale "quiet" would leave out the new shot's first B-frames and then have to
    # decode them again from the keyframe; the new picture's big packet stops that in time.
    shots = [S(60), S(50, framing=0, zoom=1.3), S(60, gradient=True), S(50, framing=2, zoom=1.6),
             S(50, framing=3, zoom=1.25), S(60), S(50, framing=5, zoom=1.2), S(50)]
    video = make_video(tmp_path / "similar.mp4", shots=shots, size=(640, 360), noise=2.0, preset="fast")
    skimmed = thumbs(video.path)
    assert any(t.filled for t in skimmed)
    assert not [i for i, t in enumerate(skimmed) if t.how == "decoded again"]


def test_a_stream_without_timestamps_is_decoded_whole(bframes, tmp_path) -> None:
    raw = remux(bframes.path, tmp_path / "b.h264", "h264")  # an elementary stream: no timestamps
    features, _fps, _small = compute_features(raw)
    np.testing.assert_array_equal(features, whole_features(bframes.path))


def test_real_footage_as_internet_video_skims_to_its_one_cut(city_clip, tmp_path) -> None:
    h264 = tmp_path / "city.mp4"
    with av.open(str(city_clip)) as source, av.open(str(h264), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "fast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for n, frame in enumerate(source.decode(video=0)):
            scaled = frame.reformat(width=640, height=360, format="yuv420p")
            scaled.pts, scaled.time_base = n, Fraction(1, 25)
            scaled.pict_type = PictureType.NONE  # let x264 choose its frame types: B-frames
            out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    frames = thumbs(h264)
    assert sum(t.filled for t in frames) > len(frames) // 4
    assert detect_file(h264).cuts == (116,)
    assert [c.frame for c in detect_cuts(whole_features(h264))] == [116]


def test_a_damaged_file_keeps_the_frames_a_full_decode_keeps(bframes, tmp_path) -> None:
    ts = remux(bframes.path, tmp_path / "b.ts", "mpegts")  # a cut-off MPEG-TS still opens
    data = ts.read_bytes()
    damaged = tmp_path / "damaged.ts"
    damaged.write_bytes(data[: len(data) * 3 // 5] + bytes(range(256)) * 64)
    skimmed, whole = thumbs(damaged), thumbs(damaged, skim_frames=False)
    assert 0 < len(skimmed) == len(whole) < bframes.frames
    assert any(t.filled for t in skimmed)
    for i, t in enumerate(skimmed):
        if not t.filled:
            np.testing.assert_array_equal(t.thumb, whole[i].thumb, err_msg=f"frame {i}")
    assert len(compute_features(damaged)[0]) == len(whole)


def test_the_decode_tells_how_far_it_has_got(bframes) -> None:
    seen: list[tuple[int, int | None]] = []
    compute_features(bframes.path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, bframes.frames) for n in range(100, bframes.frames + 1, 100)]


def test_decoded_frames_do_not_drift_from_the_encoders_picture(tmp_path) -> None:
    # A smooth gradient over a long group of pictures: were the frames others are predicted from decoded
    # without the loop filter, every later frame would drift from the encoder's picture (by 8 levels here),
    # then snap back at the next keyframe, which the detector would take for a cut.
    video = make_video(tmp_path / "gradient.mp4", shots=[S(300, gradient=True, drift=0.6)], size=(640, 360),
                       preset="fast", noise=2.0, number_pattern=False)
    with av.open(str(video.path)) as container:
        truth = [thumbnails(frame, False)[0].astype(np.float32) for frame in container.decode(video=0)]
    skimmed = thumbs(video.path)
    errors = [float(np.abs(t.thumb - truth[i]).mean()) for i, t in enumerate(skimmed) if not t.filled]
    assert len(skimmed) == len(truth) and max(errors) < 1.0
    builder = FeatureBuilder()
    builder.add_many(np.stack(truth).astype(np.uint8))
    assert detect_file(video.path).cuts == tuple(c.frame for c in detect_cuts(builder.finish()))


@pytest.mark.parametrize(("at_once", "seconds", "parts"), [(3, 30.0, 3), (2, 1.5, 5)])
def test_a_file_skimmed_in_parts_at_once_shows_every_frame_as_one_skim_does(
    bframes, monkeypatch, at_once: int, seconds: float, parts: int
) -> None:
    # The file is 12.8 s, with keyframes only where its picture changes: three parts at once, or parts of 1.5 s
    # two at a time (one per keyframe: 5, more than are held ahead).
    monkeypatch.setattr(skim, "MIN_PART_SECONDS", 1.0)
    monkeypatch.setattr(skim, "PART_SECONDS", seconds)
    monkeypatch.setattr(skim, "PARTS", at_once)
    with av.open(str(bframes.path)) as container:
        starts = skim.part_starts(container, container.streams.video[0])
    assert len(starts) == parts and starts[0] is None
    parts, whole = thumbs(bframes.path), thumbs(bframes.path, skim_frames=False)
    assert [t.pts for t in parts] == [t.pts for t in whole]  # every frame once, in order, none lost at a seam
    assert any(t.filled for t in parts)
    for i, t in enumerate(parts):
        if not t.filled:
            np.testing.assert_array_equal(t.thumb, whole[i].thumb, err_msg=f"frame {i}")
    in_parts, every_frame = detect_cuts(compute_features(bframes.path)[0]), detect_cuts(whole_features(bframes.path))
    assert [(c.frame, c.kind) for c in in_parts] == [(c.frame, c.kind) for c in every_frame]


def test_a_part_that_fails_fails_the_skim_after_the_parts_before_it(bframes, monkeypatch) -> None:
    monkeypatch.setattr(skim, "MIN_PART_SECONDS", 2.0)
    monkeypatch.setattr(skim, "PARTS", 2)
    part = skim._part

    def second_part_damaged(path, index, start, end, threads):
        if start is not None:
            raise skim.Unskimmable
        yield from part(path, index, start, end, threads)

    monkeypatch.setattr(skim, "_part", second_part_damaged)
    shown = []
    with pytest.raises(skim.Unskimmable), av.open(str(bframes.path)) as container:
        for t in frame_thumbnails(bframes.path, container, container.streams.video[0]):
            shown.append(t)
    assert 0 < len(shown) < bframes.frames
    # and the stand-alone decode starts again, whole: every frame, as a full decode has it
    np.testing.assert_array_equal(compute_features(bframes.path)[0], whole_features(bframes.path))


def test_short_files_and_unseekable_containers_are_skimmed_in_one_part(bframes, tmp_path, monkeypatch) -> None:
    with av.open(str(bframes.path)) as container:
        assert skim.part_starts(container, container.streams.video[0], parts=4) == [None]  # 12.8 s: too short
    monkeypatch.setattr(skim, "MIN_PART_SECONDS", 2.0)
    ts = remux(bframes.path, tmp_path / "b.ts", "mpegts")  # MPEG-TS seeks land near, not on, a keyframe
    with av.open(str(ts)) as container:
        assert skim.part_starts(container, container.streams.video[0], parts=4) == [None]
