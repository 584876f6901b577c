"""End to end on an S3 endpoint (moto server): ingest, encode and detect on a worker, then an export whose
master sits in an archive storage class — it waits for the restore (and says so), then completes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import pytest

from heaters.db.tables import Clip
from heaters.media.synthetic import make_video, read_frame_number
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, video_state, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

@pytest.fixture
def s3_pipeline(pipeline: Settings, s3_endpoint: str, s3_client: Any) -> Settings:
    """Pipeline settings on a fresh bucket whose masters go to an archive storage class."""
    bucket = f"heaters-pipeline-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=bucket)
    return replace(
        pipeline, storage="s3", s3_bucket_name=bucket, s3_endpoint_url=s3_endpoint,
        gold_master_storage_class="GLACIER",
    )


async def test_s3_pipeline_with_a_cold_master(s3_pipeline: Settings, tasks: Any, tmp_path: Path) -> None:
    import boto3

    from heaters.services.ingest import ingest
    from heaters.services.review import approve
    from heaters.services.videos import get_video, live_clips, mece_problems
    from heaters.storage import create_storage

    settings = s3_pipeline
    truth = make_video(tmp_path / "v.mp4", shot_frames=(20, 30), size=(160, 90), audio=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    worker = WorkerProcess(settings, logs, extra_env={"AWS_CONFIG_FILE": str(tmp_path / "no-aws-config")}).start()
    try:
        storage = create_storage(settings)
        video_id = await ingest(settings, storage, str(truth.path), tasks=tasks)
        await wait_for(lambda: video_state(video_id, "ready"), timeout=60, what="ready on S3", worker=worker)
        video = await get_video(video_id)
        assert await mece_problems(video_id) == []
        s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
        head = s3.head_object(Bucket=settings.s3_bucket_name, Key=video["master_key"])
        assert head["StorageClass"] == "GLACIER"
        assert storage.exists(video["proxy_key"]) and storage.exists(video["proxy_index_key"])

        clip = (await live_clips(video_id))[1]
        await approve(clip["id"], user="alice", tasks=tasks)

        async def waiting_for_restore() -> dict[str, Any] | None:
            row = await Clip.select().where(Clip.id == clip["id"]).first()
            return row if "restored" in row["error"] else None

        # The clip says what it waits for; the attempt it used is given back.
        seen = await wait_for(waiting_for_restore, timeout=30, interval=0.02, what="restore wait", worker=worker)
        assert seen["state"] == "approved" and seen["attempts"] == 0
        assert video["master_key"] in seen["error"]

        async def embedded() -> bool:
            row = await Clip.select(Clip.state).where(Clip.id == clip["id"]).first()
            return row["state"] == "embedded"

        await wait_for(embedded, timeout=60, what="export after restore", worker=worker)
    finally:
        worker.stop()
    assert "requested restore" in worker.logs()
    row = await Clip.select().where(Clip.id == clip["id"]).first()
    assert row["error"] == "" and row["attempts"] == 0
    local = tmp_path / "clip.mp4"
    storage.download(row["export_key"], local)
    with av.open(str(local)) as container:
        numbers = [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert numbers == list(range(clip["start_frame"], clip["end_frame"]))
