"""The janitor runs as a duty of the dispatcher in a real worker process."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.redis


def _old_file(path: Path, age: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    os.utime(path.parent, (stamp, stamp))
    return path


async def test_worker_dispatcher_removes_leftovers_of_killed_writes_and_uploads(
    pipeline: Settings, tmp_path: Path
) -> None:
    settings = replace(pipeline, leftover_seconds=60.0)
    temp = _old_file(settings.resolved_storage_dir / "masters" / ".tmp-5.mkv.abc", 3600)
    upload = _old_file(settings.data_dir.resolve() / "uploads" / "tmpq1" / "big.mp4", 3600).parent
    fresh = _old_file(settings.data_dir.resolve() / "uploads" / "tmpq2" / "big.mp4", 0).parent
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs).start()
    try:
        async def swept() -> bool:
            return not temp.exists() and not upload.exists()

        await wait_for(swept, timeout=60, what="the janitor's sweep", worker=worker)
        await asyncio.sleep(0.5)
        assert fresh.exists(), "an upload in progress is kept"
    finally:
        worker.stop()
