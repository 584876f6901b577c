"""The dispatcher tick against a real database and a real Redis queue: what it re-sends and what it leaves."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from heaters.db.tables import Clip, SourceVideo
from heaters.services.dispatch import tick
from heaters.services.review import now
from heaters.services.videos import create_video
from heaters.settings import Settings

pytestmark = pytest.mark.redis


def _queued(broker: Any, queue_name: str) -> list[tuple[str, tuple[Any, ...]]]:
    """(actor, args) of the messages waiting in ``queue_name`` in Redis."""
    import dramatiq

    raw = broker.client.hvals(f"{broker.namespace}:{queue_name}.msgs")
    messages = [dramatiq.Message.decode(data) for data in raw]
    return sorted((m.actor_name, tuple(m.args)) for m in messages)


async def _video(state: str, *, lease: float | None, age: float) -> int:
    video_id = await create_video(state, state=state)
    stamp = now()
    await SourceVideo.update({
        SourceVideo.lease_until: None if lease is None else stamp + timedelta(seconds=lease),
        SourceVideo.updated_at: stamp - timedelta(seconds=age),
    }).where(SourceVideo.id == video_id)
    return video_id


async def test_tick_resends_lost_and_orphaned_work_only(pipeline: Settings, broker: Any, tasks: Any) -> None:
    lost = await _video("downloaded", lease=None, age=60)  # its message was lost
    fresh = await _video("downloaded", lease=None, age=0)  # just enqueued by the previous stage
    orphan = await _video("encoding", lease=-5, age=60)  # its worker died: the lease expired
    alive = await _video("encoding", lease=30, age=60)  # a worker is on it
    done = await _video("ready", lease=None, age=60)
    failed = await _video("encode_failed", lease=None, age=60)  # needs `heaters retry`

    sent = await tick(pipeline, tasks)
    assert sorted(sent["encode"]) == sorted([lost, orphan])
    assert _queued(broker, "encode") == sorted([("encode_video", (lost,)), ("encode_video", (orphan,))])
    everything_sent = {row for ids in sent.values() for row in ids}
    assert everything_sent.isdisjoint({fresh, alive, done, failed})
    # Sent rows are touched: the next tick does not send them again while their messages wait.
    assert await tick(pipeline, tasks) == {}


async def test_failed_clips_come_back_with_backoff_up_to_the_cap(pipeline: Settings, broker: Any, tasks: Any) -> None:
    video_id = await create_video("v", state="ready", total_frames=30, initial_cuts=[10, 20])
    a, b, c = [r["id"] for r in await Clip.select(Clip.id).where(Clip.source_video == video_id).order_by(Clip.id)]
    stamp = now()
    await Clip.update({Clip.state: "export_failed", Clip.attempts: 1, Clip.lease_until: stamp - timedelta(seconds=1)}
                      ).where(Clip.id == a)
    await Clip.update({Clip.state: "export_failed", Clip.attempts: 1, Clip.lease_until: stamp + timedelta(hours=1)}
                      ).where(Clip.id == b)  # still backing off
    await Clip.update({Clip.state: "keyframe_failed", Clip.attempts: pipeline.max_attempts,
                       Clip.lease_until: stamp - timedelta(seconds=1)}).where(Clip.id == c)  # out of attempts

    sent = await tick(pipeline, tasks)
    assert sent == {"revived": [a]}
    assert _queued(broker, "export") == [("export_clip", (a,))]
    states = {r["id"]: r["state"] for r in await Clip.select(Clip.id, Clip.state)}
    assert states == {a: "approved", b: "export_failed", c: "keyframe_failed"}


async def test_work_whose_message_could_not_go_out_is_sent_by_the_next_tick(
    pipeline: Settings, broker: Any, tasks: Any, tmp_path: Path
) -> None:
    """An approval or a new video made where no queue is reachable (e.g. a script) starts at the next tick,
    not a lease period later; what did go out is not sent twice."""
    from heaters.services.ingest import ingest
    from heaters.services.queue import OFFLINE
    from heaters.services.review import approve
    from heaters.storage import create_storage

    video_id = await create_video("v", state="ready", total_frames=20, initial_cuts=[10])
    first, second = [r["id"] for r in await Clip.select(Clip.id).where(Clip.source_video == video_id)]
    await approve(first, user="ann", tasks=OFFLINE)
    await approve(second, user="ann", tasks=tasks)
    assert _queued(broker, "export") == [("export_clip", (second,))]
    (tmp_path / "v.mp4").write_bytes(b"not looked at before its download stage")
    offline_video = await ingest(pipeline, create_storage(pipeline), str(tmp_path / "v.mp4"), tasks=OFFLINE)
    sent = await tick(pipeline, tasks)
    assert sent == {"export": [first], "download": [offline_video]}
    assert _queued(broker, "export") == sorted([("export_clip", (first,)), ("export_clip", (second,))])
    assert await tick(pipeline, tasks) == {}


async def test_a_backlog_larger_than_a_page_is_sent_whole_and_only_sent_rows_are_marked(
    pipeline: Settings, broker: Any, tasks: Any
) -> None:
    from heaters.services import dispatch

    count = dispatch.BATCH + 200
    old = now() - timedelta(seconds=60)
    await SourceVideo.insert(
        *(SourceVideo(title=f"v{i}", state="downloaded", updated_at=old) for i in range(count))
    )
    ids = sorted(r["id"] for r in await SourceVideo.select(SourceVideo.id))

    sent = await tick(pipeline, tasks)
    assert sorted(sent["encode"]) == ids
    assert _queued(broker, "encode") == sorted(("encode_video", (i,)) for i in ids)
    unmarked = await SourceVideo.count().where(SourceVideo.updated_at < now() - timedelta(seconds=30))
    assert unmarked == 0
    assert await tick(pipeline, tasks) == {}
