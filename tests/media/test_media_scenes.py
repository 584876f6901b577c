"""Ground truth tables: each row is a synthetic video whose correct cuts are known."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from heaters.errors import HeatersError
from heaters.media.content_detector import ContentDetector, _window_percentile
from heaters.media.features import THUMB_H, THUMB_W, FeatureBuilder
from heaters.media.retime import grid_starts
from heaters.media.scenes import (
    LOW_CONFIDENCE,
    Cut,
    SceneResult,
    compute_features,
    detect_cuts,
    detect_features,
    detect_file,
    detector_for,
)
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import transcode

from .conftest import decode_numbers

S = ShotSpec

CASES = [
    pytest.param([S(40), S(40), S(40)], 8, 2, id="hard-cuts"),
    pytest.param([S(40), S(60, flashes=(20,), flash_frames=1), S(50, flashes=(10, 30), flash_frames=3)], 8, 2,
                 id="flashes-do-not-cut"),
    pytest.param([S(60, pan=12), S(60, pan=25)], 8, 1, id="fast-pans-cut-only-between-shots"),
    pytest.param([S(50), S(50, "dissolve", 12), S(50, "dissolve", 24)], 8, 2, id="dissolves-one-cut-each"),
    pytest.param([S(50), S(50, "fade", 16), S(40)], 8, 2, id="fade-through-black-one-cut"),
    pytest.param([S(40), S(8), S(9), S(40)], 8, 3, id="short-shots-kept"),
    pytest.param([S(40), S(6), S(40)], 8, 1, id="min-length-drops-6-frame-shot"),
    pytest.param([S(40), S(14), S(40)], 15, 1, id="min-length-parameter"),
    pytest.param([S(40), S(14), S(40)], 8, 2, id="14-frame-shot-kept"),
    # Motion is not a transition: a whip pan's blurred frames are no mix of the pictures either side of it.
    pytest.param([S(80, whips=(30,)), S(70, whips=(25,), whip_frames=4, whip_speed=0.5), S(40)], 8, 2,
                 id="whip-pans-do-not-cut"),
    # A close-up after a wide shot of the same subject: small change, but a spike against its neighbours.
    pytest.param([S(50), S(50, framing=0, zoom=1.3), S(50), S(50, framing=2, zoom=1.25)], 8, 3,
                 id="similar-framings-cut"),
    pytest.param([S(50), S(50, "fade", 20, hold=12), S(50, "fade", 12, hold=25), S(40)], 8, 3,
                 id="fade-out-black-fade-in-one-cut"),
    pytest.param([S(60, band_flashes=(20,)), S(60, band_flashes=(10, 35)), S(40)], 8, 2,
                 id="rolling-shutter-flashes-do-not-cut"),
    # A flash just before or after a cut does not hide it: the cut is measured against the calm frames.
    pytest.param([S(40, flashes=(37,), flash_frames=1), S(50), S(50, flashes=(1,), flash_frames=2), S(40)], 8, 3,
                 id="cuts-beside-flashes"),
    # A slow, uneven colour drift never settles into a new picture: no transition at all.
    pytest.param([S(300, gradient=True, drift=1.5), S(60), S(200, gradient=True, drift=3.0)], 8, 2,
                 id="slow-colour-drift-does-not-cut"),
]


@pytest.mark.parametrize(("shots", "min_frames", "count"), CASES)
def test_detector_finds_exactly_the_true_cuts(tmp_path, shots, min_frames, count) -> None:
    video = make_video(tmp_path / "v.mp4", shots=shots, noise=2.0)
    result = detect_file(video.path, min_frames=min_frames)
    assert len(result.cuts) == count, (result.cuts, video.windows)
    # Every cut lies in the window of a different true cut: exactly on the frame for a hard cut (a window of
    # one frame), anywhere inside a dissolve or fade.
    hit = [next(i for i, (lo, hi) in enumerate(video.windows) if lo <= cut < hi) for cut in result.cuts]
    assert len(set(hit)) == len(hit)
    assert all(b - a >= min_frames for a, b in zip((0, *result.cuts), (*result.cuts, video.frames), strict=True))
    assert result.frames == video.frames


def test_gradual_transitions_land_inside_the_transition(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(50), S(50, "dissolve", 20), S(50, "fade", 20), S(40)])
    cuts = detect_file(video.path).cuts
    assert len(cuts) == 3
    for cut, (lo, hi) in zip(cuts, video.windows, strict=True):
        assert lo <= cut < hi


def test_stored_features_rerun_without_decoding(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(40), S(12), S(40)])
    features, _fps, _small = compute_features(video.path)
    np.save(tmp_path / "f.npy", features)
    loaded = np.load(tmp_path / "f.npy")
    assert detect_features(loaded, min_frames=8) == (40, 52)
    assert detect_features(loaded, min_frames=20) in ((40,), (52,))
    assert all(isinstance(c, Cut) for c in detect_cuts(loaded))
    assert ContentDetector(threshold=1000.0).detect(loaded) == ()


def test_scene_result_json(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(30, 30), fps=30)
    data = detect_file(video.path).as_json()
    assert {k: data[k] for k in ("cuts", "frames", "fps")} == {"cuts": [30], "frames": 60, "fps": "30/1"}
    [detail] = data["details"]  # type: ignore[misc]
    assert detail["frame"] == 30 and detail["kind"] == "hard" and detail["confidence"] > LOW_CONFIDENCE
    assert SceneResult((), 10, video.fps).as_json()["fps"] == "30/1"


def test_cuts_carry_their_kind(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(50), S(50, "dissolve", 20), S(50, "fade", 20), S(40)])
    kinds = [c.kind for c in detect_file(video.path).detected]
    assert kinds == ["dissolve", "fade", "hard"]


def test_a_weak_cut_has_lower_confidence_than_a_clear_one(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(50, gradient=True), S(50, framing=0, zoom=1.6), S(50)])
    weak, clear = detect_file(video.path).detected
    assert (weak.frame, clear.frame) == (50, 100)
    assert 0 < weak.confidence < clear.confidence <= 1


def test_a_colour_drift_after_a_cut_is_no_transition_and_a_doubtful_find_is_marked(tmp_path) -> None:
    # A hue drift straight after a cut: its uneven rate passes the gradual tests as a weak dissolve, but the
    # picture after it is the one before it recoloured, so it is dropped.
    video = make_video(tmp_path / "v.mp4", shots=[S(79), S(150, drift=2.0), S(86, pan=2)], size=(640, 360),
                       fps=30, noise=2.0, seed=1005)
    features, _fps, _small = compute_features(video.path)
    assert [c.frame for c in ContentDetector().detect(features)] == list(video.cuts)
    assert [c.frame for c in ContentDetector().detect(features[:, :16])] != list(video.cuts)  # older tables
    # Without that test the drift is found, and scored below the mark that asks a reviewer to check it.
    found = ContentDetector(recolour_min=0.0).detect(features)
    doubtful = [c for c in found if c.frame not in video.cuts]
    assert [c.kind for c in doubtful] == ["dissolve"] and doubtful[0].confidence < LOW_CONFIDENCE
    assert all(c.confidence >= LOW_CONFIDENCE for c in found if c.frame in video.cuts)
    # And so are the dissolves and fades of a plain timeline, however gentle.
    gentle = make_video(tmp_path / "g.mp4", shots=[S(50), S(50, "dissolve", 24), S(50, "fade", 20), S(40)])
    assert all(c.confidence >= LOW_CONFIDENCE for c in detect_file(gentle.path).detected)


def test_older_feature_tables_still_detect(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(40), S(40, "dissolve", 16), S(40)])
    features, _fps, _small = compute_features(video.path)
    assert detect_features(features[:, :12]) == detect_features(features)


def test_unknown_detector_is_a_clear_error() -> None:
    with pytest.raises(HeatersError, match="unknown scene detector"):
        detector_for("magic")


def test_small_frames_come_from_the_same_decode(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(20, 20), size=(320, 180))
    features, _fps, small = compute_features(video.path, small_frames=True)
    assert small is not None and small.shape == (40, 27, 48, 3) and small.dtype == np.uint8
    assert len(features) == 40
    # Two different shots: their small frames differ clearly, frames within a shot barely.
    d = np.abs(small.astype(int)[1:] - small.astype(int)[:-1]).mean(axis=(1, 2, 3))
    assert int(np.argmax(d)) + 1 == 20


def test_real_footage_has_its_one_cut(city_clip) -> None:
    result = detect_file(city_clip)
    assert result.frames == 190
    assert result.cuts == (116,)


@pytest.mark.parametrize("frames", [1, 2, 3, 5, 10])
def test_a_video_shorter_than_the_detector_windows_detects(tmp_path, frames) -> None:
    """A clip of a few frames is shorter than the windows the detector compares a frame with: no crash."""
    video = make_video(tmp_path / "v.mp4", shot_frames=(frames,), fps=30)
    result = detect_file(video.path)
    assert (result.frames, result.detected) == (frames, ())


def test_scenes_numbers_the_frames_of_a_variable_rate_file_as_ingest_does(tmp_path: Path) -> None:
    # Frames lasting 0.5-1.5 frame times; with this seed a cut falls where the grid drops a frame.
    video = make_video(tmp_path / "vfr.mp4", shot_frames=(61, 62, 60), vfr=True, seed=3)
    encoded = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4")
    shown = decode_numbers(tmp_path / "m.mkv")  # the source frame each master frame shows
    expected = [next(i for i, n in enumerate(shown) if n >= start) for start in (61, 123)]
    assert expected != [61, 123]  # the grid moved a cut: counting decoded frames would be wrong
    found = detect_file(video.path)
    assert found.frames == encoded.total_frames
    assert list(found.cuts) == expected


def test_grid_starts_follow_the_encodes_rule() -> None:
    fps = Fraction(25)
    steady = [Fraction(k, 25) for k in range(5)]
    assert grid_starts(steady, fps) == ([0, 1, 2, 3, 4], 5)
    # Two slots for the first frame, none for the second (the third follows before the middle of slot 2), a
    # repeated time (skipped by the encode: it lands where the next frame starts), a missing time (a frame time
    # on), and the last frame lasting as long as the one before it.
    times = [Fraction(0), Fraction(2, 25), Fraction(21, 250), Fraction(21, 250), None, Fraction(5, 25)]
    assert grid_starts(times, fps) == ([0, 2, 2, 3, 3, 5], 7)


def _detect_thumbnails(frames: list[np.ndarray], **settings: float) -> tuple[Cut, ...]:
    builder = FeatureBuilder()
    builder.add_many(np.stack(frames))
    return ContentDetector(**settings).detect(builder.finish())


def test_a_near_grey_picture_whose_faint_tint_turns_is_not_a_cut() -> None:
    # Grey with a tint of one level: its hue turns half the circle while R, G and B move by two levels, as
    # compression noise does to a white wall at every keyframe.
    rng = np.random.default_rng(1)
    texture = rng.integers(90, 170, (THUMB_H, THUMB_W, 1)).repeat(3, axis=2).astype(np.int16)

    def frames(changed: bool) -> list[np.ndarray]:
        out = []
        for t in range(80):
            tint = np.array((-1, 0, 1) if t >= 40 else (1, 0, -1), np.int16)
            picture = np.flip(texture, axis=1) if changed and t >= 40 else texture
            out.append(np.clip(picture + tint + rng.integers(-1, 2, (THUMB_H, THUMB_W, 1)), 0, 255).astype(np.uint8))
        return out

    assert _detect_thumbnails(frames(changed=False)) == ()
    assert [c.frame for c in _detect_thumbnails(frames(changed=True))] == [40]  # a new picture still cuts


def test_a_brightness_drift_under_a_moving_object_is_not_a_dissolve() -> None:
    # A beige wall brightening by 12 levels (auto exposure) while a pen is moved across it, blurred: the
    # colour histogram shifts a whole bin, the blurred frames are near mixes of the two ends, and the
    # picture changes faster mid-way than either side, yet no shot changes.
    rng = np.random.default_rng(2)
    height, width = THUMB_H * 4, THUMB_W * 4
    frames = []
    for t in range(120):
        picture = np.full((height, width, 3), (150, 140, 128), np.float32) + 12.0 * np.clip((t - 45) / 20, 0, 1)
        x = 20 + int(60 * np.clip((t - 52) / 6, 0, 1))
        picture[height // 3 : height // 3 + 12, x : x + 40] = (60, 60, 70)
        if 52 <= t <= 58:
            picture = cv2.blur(picture, (21, 1))
        picture += rng.normal(0, 1.0, picture.shape)
        small = np.clip(picture, 0, 255).astype(np.uint8)
        frames.append(cv2.resize(small, (THUMB_W, THUMB_H), interpolation=cv2.INTER_AREA))
    assert _detect_thumbnails(frames) == ()
    assert [c.kind for c in _detect_thumbnails(frames, picture_share=0.0)] == ["dissolve"]  # what it guards


def test_window_percentile_is_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        signal = (rng.random(int(rng.integers(1, 600))) * 40).astype(np.float32)
        signal[rng.random(len(signal)) < rng.random()] = np.nan  # explained frames, up to all of them
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(signal, 40, constant_values=np.nan), 21)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanpercentile(windows, 30, axis=1)
        found = _window_percentile(windows, 30)
        assert found.dtype == expected.dtype and np.array_equal(found, expected, equal_nan=True)
