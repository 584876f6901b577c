"""Ground truth tables: each row is a synthetic video whose correct cuts are known."""

from __future__ import annotations

import numpy as np
import pytest

from heaters.media.scenes import ContentDetector, SceneResult, compute_features, detect_features, detect_file
from heaters.media.synthetic import ShotSpec, make_video

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
]


@pytest.mark.parametrize(("shots", "min_frames", "count"), CASES)
def test_detector_finds_exactly_the_true_cuts(tmp_path, shots, min_frames, count) -> None:
    video = make_video(tmp_path / "v.mp4", shots=shots)
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
    features, _fps = compute_features(video.path)
    np.save(tmp_path / "f.npy", features)
    loaded = np.load(tmp_path / "f.npy")
    assert detect_features(loaded, min_frames=8) == (40, 52)
    assert detect_features(loaded, min_frames=20) in ((40,), (52,))
    assert ContentDetector(threshold=1000.0).detect(loaded) == ()


def test_scene_result_json(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(30, 30), fps=30)
    assert detect_file(video.path).as_json() == {"cuts": [30], "frames": 60, "fps": "30/1"}
    assert SceneResult((), 10, video.fps).as_json()["fps"] == "30/1"


def test_real_footage_has_its_one_cut(city_clip) -> None:
    result = detect_file(city_clip)
    assert result.frames == 190
    assert result.cuts == (116,)
