from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from heaters.errors import MediaError
from heaters.media.embed import ColourLayoutEmbedder, OnnxEmbedder, cosine_top_k, make_embedder
from heaters.media.keyframes import pick_keyframes, sharpness
from heaters.media.synthetic import ShotSpec, make_video


def test_keyframes_are_spread_sharp_and_not_black(tmp_path) -> None:
    # A fade from black then a normal shot: the picks must avoid the black frames.
    video = make_video(tmp_path / "k.mp4", shots=[ShotSpec(30), ShotSpec(60, "fade", 20)])
    picks = pick_keyframes(video.path, count=3)
    assert len(picks) == 3
    frames = [n for n, _ in picks]
    assert frames == sorted(frames) and frames[0] < 30 < frames[-1]
    for _, jpeg in picks:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (180, 320, 3)
        assert image.mean() > 20


def test_keyframes_of_a_file_without_a_frame_count(tmp_path) -> None:
    # Matroska records no frame count: the frames are counted in the same opening, then the picks decoded.
    video = make_video(tmp_path / "k.mkv", shots=[ShotSpec(40), ShotSpec(41)])
    with av.open(str(video.path)) as container:
        assert not container.streams.video[0].frames
    picks = pick_keyframes(video.path, count=3)
    frames = [n for n, _ in picks]
    assert len(frames) == 3 and frames == sorted(frames) and frames[-1] <= 80 and frames[0] < 27


def test_sharpness_prefers_focus() -> None:
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(sharp, (15, 15), 5)
    assert sharpness(sharp) > 10 * sharpness(blurred)


def test_colour_layout_embedder_similarity() -> None:
    rng = np.random.default_rng(1)
    a = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (320, 180), interpolation=cv2.INTER_CUBIC)
    a_shifted = np.roll(a, 6, axis=1)
    b = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (320, 180), interpolation=cv2.INTER_CUBIC)
    embedder = make_embedder("colour-layout")
    vectors = embedder.embed([a, a_shifted, b])
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    ranked = cosine_top_k(vectors[0], vectors[1:], k=2)
    assert ranked[0][0] == 0 and ranked[0][1] > ranked[1][1]
    assert isinstance(embedder, ColourLayoutEmbedder)


def test_cosine_top_k_edges() -> None:
    matrix = np.eye(4, dtype=np.float32)
    assert cosine_top_k(np.array([0, 0, 1, 0]), matrix, 10)[0] == (2, 1.0)
    assert len(cosine_top_k(np.array([1, 0, 0, 0]), matrix, 10)) == 4
    assert cosine_top_k(np.ones(4), np.zeros((0, 4)), 3) == []


def test_onnx_embedder_explains_what_is_missing(tmp_path) -> None:
    embedder = make_embedder("onnx", tmp_path / "model.onnx")
    assert isinstance(embedder, OnnxEmbedder)
    with pytest.raises(MediaError):  # onnxruntime absent, or the model file missing
        embedder.embed([np.zeros((10, 10, 3), np.uint8)])
    with pytest.raises(MediaError, match="unknown embedder"):
        make_embedder("clip-large")
