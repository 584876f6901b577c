"""A video still encoding in segments, seen by the player: its review page opens, the frame index covers the
encoded part, and every frame's bytes, fetched by Range from the pieces' virtual file, decode to that frame."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import av
import pytest

from heaters.db.tables import Segment
from heaters.media.synthetic import make_video, read_frame_number
from heaters.services import stages
from heaters.services.ingest import ingest
from heaters.services.stages import StageContext
from tests.server.conftest import Web


@pytest.fixture
def half_encoded(reviewer: Web, tmp_path: Path) -> int:
    """A 10 s video in 1 s segments of which the first six are encoded."""
    ctx = StageContext.from_settings(replace(reviewer.settings, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(tmp_path / "long.mp4", shot_frames=(40, 45, 50, 35, 40, 40), size=(160, 90))

    async def build() -> int:
        video_id = await ingest(ctx.settings, ctx.storage, str(truth.path))
        assert await stages.download(ctx, video_id) == "done"
        assert await stages.encode(ctx, video_id) == "done"
        rows = await Segment.select(Segment.id).where(Segment.source_video == video_id).order_by(Segment.position)
        for row in rows[:6]:
            assert await stages.encode_segment(ctx, row["id"]) == "done"
        return video_id

    return reviewer.call(build)


def _decode(description: str, data: bytes) -> int:
    codec = av.CodecContext.create("h264", "r")
    codec.extradata = base64.b64decode(description)
    frames = list(codec.decode(av.Packet(data))) + list(codec.decode(None))
    return read_frame_number(frames[0].to_ndarray(format="rgb24"))


async def test_the_player_reads_a_half_encoded_video_frame_exactly(reviewer: Web, half_encoded: int) -> None:
    video = (await reviewer.client.get(f"/api/videos/{half_encoded}")).json()
    video = video.get("video", video)
    assert video["state"] == "encoding" and video["proxy_url"] and video["index_url"]
    assert (await reviewer.client.get(f"/review/{half_encoded}")).status_code == 200
    # The page asks for whole blocks; past the encoded part the window is just shorter.
    index = (await reviewer.client.get(f"{video['index_url']}?start=0&end=1024")).json()
    assert index["frames"] == 150 and index["complete"] is False and len(index["pieces"]) == 6
    for frame in (0, 24, 25, 26, 99, 100, 149):
        lo, size = index["offsets"][frame], index["sizes"][frame]
        response = await reviewer.client.get(video["proxy_url"], headers={"Range": f"bytes={lo}-{lo + size - 1}"})
        assert response.status_code == 206 and len(response.content) == size
        assert _decode(index["description"], response.content) == frame
    straddle = index["pieces"][1]["base"]
    response = await reviewer.client.get(video["proxy_url"], headers={"Range": f"bytes={straddle - 5}-{straddle + 4}"})
    assert response.status_code == 206 and len(response.content) == 10
    assert response.headers["content-range"] == f"bytes {straddle - 5}-{straddle + 4}/{index['bytes']}"
