"""Odd sources in a real worker: permanent media errors fail once and are never retried; a truncated source
is failed, or kept with a warning when the installation allows it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from heaters.media.synthetic import make_video
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, video_state, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _truncated(tmp_path: Path) -> Path:
    full = make_video(tmp_path / "full.mkv", shot_frames=(100, 100), size=(160, 90), audio=True)
    data = full.path.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    return cut


async def test_permanent_media_errors_fail_at_once_and_are_not_retried(
    pipeline: Settings, tasks: Any, tmp_path: Path
) -> None:
    from heaters.services.ingest import ingest
    from heaters.storage import create_storage

    settings = replace(pipeline, max_pixels=200 * 100)
    big = make_video(tmp_path / "big.mp4", shot_frames=(10,), size=(320, 180))
    cut = _truncated(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs).start()
    try:
        storage = create_storage(settings)
        too_big = await ingest(settings, storage, str(big.path), tasks=tasks)
        short = await ingest(settings, storage, str(cut), tasks=tasks)
        refused = await wait_for(lambda: video_state(too_big, "download_failed"), timeout=60, worker=worker)
        failed = await wait_for(lambda: video_state(short, "encode_failed"), timeout=60, worker=worker)
        await asyncio.sleep(6 * settings.dispatch_seconds)  # a retry, had there been one, would have started
        again = [await video_state(too_big, "download_failed"), await video_state(short, "encode_failed")]
    finally:
        worker.stop()
    assert "320×180" in refused["error"] and "HEATERS_MAX_PIXELS" in refused["error"]
    assert "promises" in failed["error"] and "truncated" in failed["error"]
    assert [v["attempts"] for v in again if v] == [1, 1], "each failed on its first attempt, and stayed failed"
    assert f"encode {short}: attempt 2" not in worker.logs()


async def test_a_truncated_source_is_kept_with_a_warning_when_allowed(
    pipeline: Settings, tasks: Any, tmp_path: Path
) -> None:
    from heaters.services.ingest import ingest
    from heaters.storage import create_storage

    settings = replace(pipeline, accept_short_media=True)
    cut = _truncated(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs).start()
    try:
        video_id = await ingest(settings, create_storage(settings), str(cut), tasks=tasks)
        ready = await wait_for(lambda: video_state(video_id, "ready"), timeout=60, worker=worker)
    finally:
        worker.stop()
    assert "truncated" in ready["warning"] and "promises 8.0 s" in ready["warning"]
    assert 0 < ready["total_frames"] < 200
    assert "truncated" in worker.logs()
