"""Ingest through a real worker process: every kind of source ends ready with MECE clips at the right cuts;
every kind of bad source ends failed with a message a person understands, while good videos keep flowing."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from heaters.media.synthetic import make_video
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, free_port, video_state, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]
FAILED = ("download_failed", "encode_failed", "detect_failed")


async def _ingest(settings: Settings, tasks: Any, source: str, title: str | None = None) -> int:
    from heaters.services.ingest import ingest
    from heaters.storage import create_storage

    # file:// URLs and the test's HTTP server on 127.0.0.1 are private sources: allowed here on purpose.
    trusted = dataclasses.replace(settings, allow_private_sources=True)
    return await ingest(trusted, create_storage(trusted), source, title=title, tasks=tasks)


async def _assert_ready_with_cuts(video_id: int, cuts: tuple[int, ...], frames: int) -> dict[str, Any]:
    from heaters.services.videos import get_video, live_clips, mece_problems

    video = await get_video(video_id)
    assert video["state"] == "ready", video
    assert video["total_frames"] == frames
    assert video["master_key"] == f"masters/{video_id}.mkv"
    assert video["proxy_index_key"] == f"proxies/{video_id}.index.json"
    assert await mece_problems(video_id) == []
    clips = await live_clips(video_id)
    assert tuple(c["start_frame"] for c in clips[1:]) == cuts
    assert video["progress"]["stage"] == "detect"
    return video


async def test_path_file_url_and_http_url_become_ready(
    pipeline: Settings, tasks: Any, worker: WorkerProcess, http_root: tuple[Path, str], tmp_path: Path
) -> None:
    truth = make_video(tmp_path / "shots.mp4", shot_frames=(20, 24, 18), size=(160, 90), audio=True)
    www, base = http_root
    shutil.copy(truth.path, www / "from web.mp4")

    by_path = await _ingest(pipeline, tasks, str(truth.path))
    by_file_url = await _ingest(pipeline, tasks, truth.path.as_uri(), title="Given title")
    by_http = await _ingest(pipeline, tasks, f"{base}/from%20web.mp4")
    ids = (by_path, by_file_url, by_http)

    async def all_done() -> bool:
        return all([await video_state(i, "ready", *FAILED) for i in ids])

    await wait_for(all_done, timeout=90, what="three videos to finish", worker=worker)
    videos = [await _assert_ready_with_cuts(i, truth.cuts, truth.frames) for i in ids]
    assert videos[0]["title"] == "shots"
    assert videos[1]["title"] == "Given title"
    assert videos[2]["title"] == "from web"  # the generic extractor's title: the file name
    assert videos[2]["original_key"].startswith(f"originals/{by_http}/")
    assert all(v["has_audio"] for v in videos)


async def test_a_video_of_a_few_frames_becomes_one_clip(
    pipeline: Settings, tasks: Any, worker: WorkerProcess, tmp_path: Path
) -> None:
    """Three frames, fewer than the scene detector compares each frame with: ready, one clip of them all."""
    blink = make_video(tmp_path / "blink.mp4", shot_frames=(3,), size=(160, 90))
    video_id = await _ingest(pipeline, tasks, str(blink.path))
    await wait_for(lambda: video_state(video_id, "ready", *FAILED), timeout=60, what="the 3-frame video", worker=worker)
    await _assert_ready_with_cuts(video_id, (), 3)


def _bad_sources(tmp_path: Path, www: Path, base: str) -> list[tuple[str, str]]:
    """(source, words the error must contain) for every kind of bad input."""
    text = tmp_path / "notes.txt"
    text.write_text("this is not a video\n" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    whole = make_video(tmp_path / "whole.mp4", shot_frames=(30,), size=(160, 90))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.path.read_bytes()[: whole.path.stat().st_size // 2])
    audio = tmp_path / "speech.m4a"
    _write_audio_only(audio)
    (www / "page.html").write_text("<html><body><p>no video here</p></body></html>")
    shutil.copy(audio, www / "song.m4a")
    return [
        (f"{base}/missing.mp4", "HTTP 404"),
        (f"http://127.0.0.1:{free_port()}/video.mp4", "connection refused"),
        (f"{base}/page.html", "no video found"),
        (str(text), "not a video"),
        (str(empty), "empty"),
        (str(truncated), "truncated.mp4"),
        (str(audio), "only audio"),
        (f"{base}/song.m4a", "only audio"),
    ]


def _write_audio_only(path: Path) -> None:
    import av
    import numpy as np

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        signal = (0.2 * np.sin(np.arange(48000) * 2 * np.pi * 440 / 48000)).astype(np.float32)
        for pos in range(0, len(signal), 1024):
            frame = av.AudioFrame.from_ndarray(signal[pos : pos + 1024].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = 48000
            frame.pts = pos
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


async def test_bad_inputs_fail_clearly_while_a_good_video_flows(
    pipeline: Settings, tasks: Any, worker: WorkerProcess, http_root: tuple[Path, str], tmp_path: Path
) -> None:
    from heaters.services.videos import get_video

    www, base = http_root
    bad = _bad_sources(tmp_path, www, base)
    good = make_video(tmp_path / "good.mp4", shot_frames=(16, 20), size=(160, 90))
    bad_ids = [await _ingest(pipeline, tasks, source) for source, _ in bad[:4]]
    good_id = await _ingest(pipeline, tasks, str(good.path))  # queued in the middle of the bad ones
    bad_ids += [await _ingest(pipeline, tasks, source) for source, _ in bad[4:]]

    async def all_done() -> bool:
        return all([await video_state(i, "ready", *FAILED) for i in [*bad_ids, good_id]])

    await wait_for(all_done, timeout=120, what="all videos to finish", worker=worker)
    await _assert_ready_with_cuts(good_id, good.cuts, good.frames)
    for video_id, (source, words) in zip(bad_ids, bad, strict=True):
        video = await get_video(video_id)
        assert video["state"] in ("download_failed", "encode_failed"), (source, video["state"], video["error"])
        assert words.lower() in video["error"].lower(), (source, video["error"])
        assert "Traceback" not in video["error"]
        assert video["master_key"] == ""
