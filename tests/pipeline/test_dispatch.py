"""The dispatcher tick against a real database and a real Redis queue: what it re-sends and what it leaves."""

from __future__ import annotations

from datetime import timedelta
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


async def test_tick_resends_lost_and_orphaned_work_only(pipeline: Settings, broker: Any) -> None:
    lost = await _video("downloaded", lease=None, age=60)  # its message was lost
    fresh = await _video("downloaded", lease=None, age=0)  # just enqueued by the previous stage
    orphan = await _video("encoding", lease=-5, age=60)  # its worker died: the lease expired
    alive = await _video("encoding", lease=30, age=60)  # a worker is on it
    done = await _video("ready", lease=None, age=60)
    failed = await _video("encode_failed", lease=None, age=60)  # needs `heaters retry`

    sent = await tick(pipeline)
    assert sorted(sent["encode"]) == sorted([lost, orphan])
    assert _queued(broker, "encode") == sorted([("encode_video", (lost,)), ("encode_video", (orphan,))])
    everything_sent = {row for ids in sent.values() for row in ids}
    assert everything_sent.isdisjoint({fresh, alive, done, failed})
    # Sent rows are touched: the next tick does not send them again while their messages wait.
    assert await tick(pipeline) == {}


async def test_failed_clips_come_back_with_backoff_up_to_the_cap(pipeline: Settings, broker: Any) -> None:
    video_id = await create_video("v", state="ready", total_frames=30, initial_cuts=[10, 20])
    a, b, c = [r["id"] for r in await Clip.select(Clip.id).where(Clip.source_video == video_id).order_by(Clip.id)]
    stamp = now()
    await Clip.update({Clip.state: "export_failed", Clip.attempts: 1, Clip.lease_until: stamp - timedelta(seconds=1)}
                      ).where(Clip.id == a)
    await Clip.update({Clip.state: "export_failed", Clip.attempts: 1, Clip.lease_until: stamp + timedelta(hours=1)}
                      ).where(Clip.id == b)  # still backing off
    await Clip.update({Clip.state: "keyframe_failed", Clip.attempts: pipeline.max_attempts,
                       Clip.lease_until: stamp - timedelta(seconds=1)}).where(Clip.id == c)  # out of attempts

    sent = await tick(pipeline)
    assert sent == {"revived": [a]}
    assert _queued(broker, "export") == [("export_clip", (a,))]
    states = {r["id"]: r["state"] for r in await Clip.select(Clip.id, Clip.state)}
    assert states == {a: "approved", b: "export_failed", c: "keyframe_failed"}


async def test_approved_clips_are_sent_within_two_ticks(pipeline: Settings, broker: Any) -> None:
    """An approval made by a process without a queue (e.g. a script) still starts its export quickly."""
    video_id = await create_video("v", state="ready", total_frames=20, initial_cuts=[10])
    first, second = [r["id"] for r in await Clip.select(Clip.id).where(Clip.source_video == video_id)]
    stamp = now()
    await Clip.update({Clip.state: "approved", Clip.updated_at: stamp - timedelta(seconds=1)}).where(Clip.id == first)
    await Clip.update({Clip.state: "approved", Clip.updated_at: stamp}).where(Clip.id == second)
    assert (await tick(pipeline)).get("export") == [first]
    assert _queued(broker, "export") == [("export_clip", (first,))]


async def test_a_backlog_larger_than_a_page_is_sent_whole_and_only_sent_rows_are_marked(
    pipeline: Settings, broker: Any
) -> None:
    from heaters.services import dispatch

    count = dispatch.BATCH + 200
    old = now() - timedelta(seconds=60)
    await SourceVideo.insert(
        *(SourceVideo(title=f"v{i}", state="downloaded", updated_at=old) for i in range(count))
    )
    ids = sorted(r["id"] for r in await SourceVideo.select(SourceVideo.id))

    sent = await tick(pipeline)
    assert sorted(sent["encode"]) == ids
    assert _queued(broker, "encode") == sorted(("encode_video", (i,)) for i in ids)
    unmarked = await SourceVideo.count().where(SourceVideo.updated_at < now() - timedelta(seconds=30))
    assert unmarked == 0
    assert await tick(pipeline) == {}
