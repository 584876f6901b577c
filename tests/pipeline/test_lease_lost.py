"""A worker whose lease is taken over mid-encode stops within a heartbeat and writes nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from heaters.db.tables import SourceVideo
from heaters.media.synthetic import make_video
from heaters.services.review import now
from heaters.services.stages.videos import progress_json
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_taken_over_lease_stops_the_encode_and_writes_nothing(
    pipeline: Settings, tasks: Any, tmp_path: Path
) -> None:
    from heaters.services.ingest import ingest
    from heaters.storage import create_storage

    # A slow proxy preset makes the encode last several heartbeats, so the takeover lands inside it.
    settings = replace(pipeline, proxy_preset="veryslow")
    truth = make_video(tmp_path / "long.mp4", shot_frames=(300, 300), size=(640, 360))
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs).start()
    try:
        video_id = await ingest(settings, create_storage(settings), str(truth.path), tasks=tasks)

        async def encoding() -> dict[str, Any] | None:
            row = await SourceVideo.select().where(SourceVideo.id == video_id).first()
            started = row["state"] == "encoding" and progress_json(row).get("frames", 0) > 0
            return row if started else None

        row = await wait_for(encoding, timeout=60, what="the encode to start", worker=worker)
        # Another worker claims the row, exactly as a claim does: a new attempt number and a fresh lease.
        taken = int(row["attempts"]) + 1
        await SourceVideo.update(
            {SourceVideo.attempts: taken, SourceVideo.lease_until: now() + timedelta(hours=1)}
        ).where(SourceVideo.id == video_id)
        at_takeover = progress_json(await SourceVideo.select().where(SourceVideo.id == video_id).first())
        scratch = settings.data_dir.resolve() / "work" / f"encode-{video_id}-{row['attempts']}"

        async def abandoned() -> bool:
            return "abandoned" in worker.logs() and not scratch.exists()

        await wait_for(abandoned, timeout=60, what="the old worker to abandon the encode", worker=worker)
    finally:
        worker.stop()
    stopped = re.search(r"encode stopped after (\d+) frames", worker.logs())
    assert stopped, worker.logs()[-3000:]
    assert int(stopped.group(1)) < truth.frames, "stopped mid-encode, not at the end"
    after = await SourceVideo.select().where(SourceVideo.id == video_id).first()
    assert after["state"] == "encoding" and after["attempts"] == taken
    assert progress_json(after) == at_takeover, "no progress written after the takeover"
    assert not after["master_key"] and not after["proxy_key"]
    stored = sorted(p.relative_to(settings.resolved_storage_dir).as_posix()
                    for p in settings.resolved_storage_dir.rglob("*") if p.is_file())
    assert all(key.startswith("originals/") for key in stored), stored
