"""Crash safety: a worker SIGKILLed in the middle of an encode or an export loses nothing.

After a restart the dispatcher finds the expired lease, the stage claims the row again and completes; no
clip is duplicated, no final storage key ever holds a partial file, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from heaters.db.tables import Artifact, Clip, Embedding
from heaters.media.synthetic import make_video
from heaters.media.transcode import count_frames
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, video_state, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _wait_for_file(pattern: str, root: Path, timeout: float = 30.0) -> Path:
    """Poll the worker's scratch space until a half-written output appears (the stage is mid-way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(root.glob(pattern)) if root.exists() else []
        for path in found:
            if path.stat().st_size > 0:
                return path
        time.sleep(0.002)
    pytest.fail(f"{pattern} never appeared under {root}")


def _final_objects_complete(root: Path, total: int) -> list[str]:
    """Every object under a final key is whole; return the keys seen."""
    keys = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".tmp-"):
            continue
        key = path.relative_to(root).as_posix()
        keys.append(key)
        if key.startswith("masters/") or (key.startswith("proxies/") and key.endswith(".mp4")):
            assert count_frames(path) == total, key
    return keys


async def test_kill_during_encode_then_restart(pipeline: Settings, tasks: Any, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.videos import live_clips, mece_problems
    from heaters.storage import create_storage

    truth = make_video(tmp_path / "long.mp4", shot_frames=(100, 120, 80), size=(320, 180))
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(pipeline, logs).start()
    try:
        video_id = await ingest(pipeline, create_storage(pipeline), str(truth.path), tasks=tasks)
        work = pipeline.data_dir.resolve() / "work"
        partial = await asyncio.to_thread(_wait_for_file, f"encode-{video_id}-*/*.part", work)
        worker.kill()
        assert await video_state(video_id, "encoding"), "the kill landed mid-encode"
        storage_root = pipeline.resolved_storage_dir
        keys = _final_objects_complete(storage_root, truth.frames)
        assert f"masters/{video_id}.mkv" not in keys and partial.exists()

        worker.start()
        await wait_for(lambda: video_state(video_id, "ready"), timeout=60, what="ready after restart", worker=worker)
    finally:
        worker.stop()
    clips = await live_clips(video_id)
    assert [c["start_frame"] for c in clips[1:]] == list(truth.cuts)
    assert await Clip.count().where(Clip.source_video == video_id) == len(truth.cuts) + 1  # no duplicates
    assert await mece_problems(video_id) == []
    keys = _final_objects_complete(storage_root, truth.frames)
    assert {f"masters/{video_id}.mkv", f"proxies/{video_id}.mp4", f"proxies/{video_id}.index.json"} <= set(keys)
    assert not list(work.glob(f"encode-{video_id}-*")), "scratch space of the killed attempt is cleaned up"


async def test_kill_during_export_then_restart(pipeline: Settings, tasks: Any, tmp_path: Path) -> None:
    from heaters.services.ingest import ingest
    from heaters.services.review import approve
    from heaters.services.videos import live_clips
    from heaters.storage import create_storage

    # A slower preset for a longer export, so the kill lands inside it.
    settings = replace(pipeline, export_preset="medium")
    truth = make_video(tmp_path / "one-shot.mp4", shot_frames=(300,), size=(320, 180), audio=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs).start()
    try:
        video_id = await ingest(settings, create_storage(settings), str(truth.path), tasks=tasks)
        await wait_for(lambda: video_state(video_id, "ready"), timeout=60, what="ready", worker=worker)
        (clip,) = await live_clips(video_id)
        await approve(clip["id"], user="alice", tasks=tasks)
        work = settings.data_dir.resolve() / "work"
        await asyncio.to_thread(_wait_for_file, f"export-{clip['id']}-*/*.part", work)
        worker.kill()
        row = await Clip.select().where(Clip.id == clip["id"]).first()
        assert row["state"] == "exporting"
        clips_dir = settings.resolved_storage_dir / "clips" / str(video_id)
        assert not list(clips_dir.glob(f"{clip['id']}-*.mp4")), "no partial clip under a final key"

        worker.start()

        async def embedded() -> bool:
            row = await Clip.select(Clip.state).where(Clip.id == clip["id"]).first()
            return row["state"] == "embedded"

        await wait_for(embedded, timeout=60, what="clip embedded after restart", worker=worker)
    finally:
        worker.stop()
    row = await Clip.select().where(Clip.id == clip["id"]).first()
    assert [p.name for p in clips_dir.glob(f"{clip['id']}-*.mp4")] == [row["export_key"].rsplit("/", 1)[1]]
    assert count_frames(settings.resolved_storage_dir / row["export_key"]) == truth.frames
    assert await Artifact.count().where((Artifact.clip == clip["id"]) & (Artifact.kind == "export")) == 1
    assert await Artifact.count().where((Artifact.clip == clip["id"]) & (Artifact.kind == "keyframe")) == 3
    assert await Embedding.count().where(Embedding.clip == clip["id"]) == 1
    assert await Clip.count().where(Clip.source_video == video_id) == 1
