"""Scene detection on real footage from Debian packages: shots of cameras, phones and films, each checked by eye.

``.ci/run`` unpacks the packages into a folder named by ``HEATERS_TEST_REAL_FOOTAGE``; without it these tests
skip. Most clips are one continuous shot (handheld close-ups, auto exposure, low-bitrate keyframes, a
moving pen under changing light), where every cut would be false; two have cuts, on these exact frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heaters.media.scenes import detect_file

ROOT = os.environ.get("HEATERS_TEST_REAL_FOOTAGE", "")
PACKAGES = ("python3-imageio", "python3-mecavideo", "node-opencv", "renpy-demo", "opencv-doc")

CLIPS = {  # path inside the unpacked packages -> the first frames of its shots after the first
    "usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4": (),  # phone close-up, 20 fps
    "usr/share/pymecavideo/data/video/Effet_force_magnetique.ogv": (),  # white table, Theora keyframe pops
    "usr/share/pymecavideo/data/video/balle-jbart.mp4": (),
    "usr/share/doc/node-opencv/examples/files/motion.mov": (),  # a pen moved fast as the exposure rises
    "usr/share/doc/opencv-doc/examples/data/vtest.avi": (),  # street camera, people walking, 10 fps
    "usr/share/doc/opencv-doc/examples/data/tree.avi": (),
    "usr/share/games/renpy/demo/game/oa4_launch.webm": (74,),  # rocket launch, wide then close
    "usr/share/doc/opencv-doc/examples/data/Megamind.avi": (98, 154, 200),  # film dialogue, 23.976 fps
    # Its damaged copy: broken frames at 73-76 (once a false dissolve), timestamps from 1 (so a frame later)
    "usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi": (99, 154, 200),
}


@pytest.mark.parametrize("relative", list(CLIPS), ids=lambda p: Path(p).name)
def test_real_footage_cuts_exactly_where_shots_change(relative: str) -> None:
    path = Path(ROOT) / relative
    if not ROOT or not path.is_file():
        pytest.skip(f"real footage: set HEATERS_TEST_REAL_FOOTAGE to a folder with {', '.join(PACKAGES)} "
                    "unpacked (see .ci/run)")
    assert detect_file(path).cuts == CLIPS[relative]
