from __future__ import annotations

import numpy as np
import pytest

from heaters.media.synthetic import draw_frame_number, gray_code, read_frame_number


@pytest.mark.parametrize("number", [0, 1, 2, 255, 256, 1000, 65535])
@pytest.mark.parametrize("size", [(320, 180), (180, 320), (1280, 720)], ids=["landscape", "portrait", "hd"])
def test_frame_number_round_trip(number: int, size: tuple[int, int]) -> None:
    rgb = np.full((size[1], size[0], 3), 90, np.uint8)
    draw_frame_number(rgb, number)
    assert read_frame_number(rgb) == number


def test_gray_code_changes_one_block_per_frame() -> None:
    for n in range(2000):
        assert bin(gray_code(n) ^ gray_code(n + 1)).count("1") == 1


def test_ground_truth_of_a_dissolve(media_dir) -> None:
    from heaters.media.synthetic import ShotSpec, make_video

    video = make_video(media_dir / "gt.mp4", shots=[ShotSpec(20), ShotSpec(20, "dissolve", 8)], number_pattern=False)
    assert video.cuts == (20,)
    assert video.windows == ((16, 24),)
    assert video.frames == 40
