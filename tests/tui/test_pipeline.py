"""Pipeline screen and the status queries behind it: counts, work in progress, failures, retry, queues."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

from textual.widgets import DataTable, Static

from heaters.db.tables import Clip, SourceVideo
from heaters.services import status
from heaters.settings import Settings
from tests.tui.conftest import NOW, Seed, fresh, make_app, until


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_status_queries(seeded: tuple[Settings, Seed]) -> None:
    _, ids = seeded
    counts = await status.state_counts()
    assert counts["videos"]["ready"] == 2 and counts["videos"]["encode_failed"] == 1
    assert counts["clips"] == {**dict.fromkeys(counts["clips"], 0), "pending_review": 3, "approved": 1,
                               "superseded": 1, "exported": 1, "export_failed": 1}
    [wip] = await status.work_in_progress(NOW)
    assert (wip["id"], wip["lease_seconds"], wip["age_seconds"]) == (ids.running, 420.0, 176.0)
    failed = await status.failures()
    assert {(f["kind"], f["id"], f["error"].splitlines()[0]) for f in failed} == {
        ("video", ids.failed, "encoder crashed: odd frame size 321x181"),
        ("clip", ids.failed_clip, "export failed: disk full")}
    rate = await status.throughput(10, NOW)  # the seed's rows changed 3 minutes before NOW
    assert (rate["videos_ready"], rate["clips_exported"]) == (2, 1)
    assert (await status.throughput(2, NOW))["videos_ready"] == 0
    overview = {v["id"]: v for v in await status.video_overview()}
    assert overview[ids.ready]["clip_counts"] == {"approved": 1, "pending_review": 3}
    assert overview[ids.ready]["mece"] == [] and overview[ids.ready]["mece_checked"]
    assert not overview[ids.running]["mece_checked"]


async def test_pipeline_screen_shows_the_state_of_the_work(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await fresh(pilot)
        text = str(screen.query_one("#video-counts", Static).render())
        assert "Videos 4" in text and "2 ready" in text and "1 encode_failed" in text
        assert "1 export_failed" in str(screen.query_one("#clip-counts", Static).render())
        assert "2 videos ready" in str(screen.query_one("#throughput", Static).render())
        assert rows(screen.query_one("#wip", DataTable)) == [
            [f"video {ids.running}", "mountain pass", "downloading", "7m00s", "2m56s", "download 42%"]]
        failures = rows(screen.query_one("#failures", DataTable))
        assert [f"video {ids.failed}", "city at night", "encode_failed", "3",
                "encoder crashed: odd frame size 321x181"] in failures
        # Redis is down: the console says so and keeps going.
        assert {r[1] for r in rows(screen.query_one("#queues", DataTable))} == {"n/a"}
        assert "cannot reach Redis" in str(screen.query_one("#queue-problem", Static).render())


async def test_retry_selected_then_all(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await fresh(pilot)
        table = screen.query_one("#failures", DataTable)
        table.move_cursor(row=table.get_row_index(f"video:{ids.failed}"))
        await pilot.press("r")
        await until(pilot, lambda: table.row_count == 1)
        video = await SourceVideo.select().where(SourceVideo.id == ids.failed).first()
        assert (video["state"], video["error"], video["attempts"]) == ("downloaded", "", 0)
        clip = await Clip.select().where(Clip.id == ids.failed_clip).first()
        assert clip["state"] == "export_failed"  # only the selected failure was retried
        await pilot.press("R")
        await until(pilot, lambda: table.row_count == 0)
        clip = await Clip.select().where(Clip.id == ids.failed_clip).first()
        assert (clip["state"], clip["attempts"]) == ("approved", 0)
        assert app._notifications and "0 videos and 1 clips" in list(app._notifications)[-1].message


def depth_rows(screen: Any) -> list[list[str]]:
    return rows(screen.query_one("#queues", DataTable))


def fill_queues(broker: Any) -> Any:
    """Three export messages (one held by a worker, one dead-lettered) and one delayed encode message."""
    import dramatiq

    def message(queue: str) -> dramatiq.Message[Any]:
        return dramatiq.Message(queue_name=queue, actor_name="export_clip", args=(1,), kwargs={}, options={})

    for _ in range(3):
        broker.enqueue(message("export"))
    broker.enqueue(message("encode"), delay=60_000)
    consumer = broker.consume("export", prefetch=2, timeout=100)
    taken, held = next(consumer), next(consumer)
    assert taken is not None and held is not None
    consumer.nack(taken)
    return consumer


FILLED = [["ingest", "0", "0", "0", "0"], ["encode", "0", "0", "1", "0"],
          ["export", "1", "1", "0", "1"], ["embed", "0", "0", "0", "0"]]


async def test_queue_depths_from_a_real_broker(seeded: tuple[Settings, Seed], redis_server: str) -> None:
    from heaters.services.broker import create_broker

    settings, _ = seeded
    namespace = f"heaters-tui-test-{uuid.uuid4().hex[:12]}"  # queues of this test's own on the session's server
    settings = dataclasses.replace(settings, redis_url=redis_server, redis_namespace=namespace)
    broker = create_broker(settings)
    consumer = fill_queues(broker)
    app = make_app(settings, keep_redis=True)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await fresh(pilot)
            assert depth_rows(screen) == FILLED
            assert not screen.query_one("#queue-problem", Static).display
            # Redis answered, so a retry sends its message at once: encode gets the video, export the clip.
            await pilot.press("R")
            await until(pilot, lambda: screen.query_one("#failures", DataTable).row_count == 0)
            await fresh(pilot)
            assert depth_rows(screen)[1:3] == [["encode", "1", "0", "1", "0"], ["export", "2", "1", "0", "1"]]
    finally:
        consumer.close()
        broker.close()


async def test_queue_depths_from_the_embedded_redis(seeded: tuple[Settings, Seed]) -> None:
    """With REDIS_URL empty the console attaches to the embedded server the workers started, never its own."""
    from dramatiq.brokers.redis import RedisBroker

    from heaters.services.broker import start_embedded_redis, stop_embedded_redis

    settings, _ = seeded
    app = make_app(settings, keep_redis=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await fresh(pilot)  # nothing running yet: unavailable, and nothing started
        assert "embedded Redis not running" in str(screen.query_one("#queue-problem", Static).render())
        assert status.embedded_redis_socket(settings) is None
        server = start_embedded_redis(settings)
        broker = RedisBroker(client=server, namespace=settings.redis_namespace)
        consumer = fill_queues(broker)
        try:
            await fresh(pilot)
            assert depth_rows(screen) == FILLED, str(screen.query_one("#queue-problem", Static).render())
        finally:
            consumer.close()
            stop_embedded_redis(server)  # stops the redis-server this test started


async def test_quitting_lets_a_running_reload_finish_its_queries(seeded: tuple[Settings, Seed]) -> None:
    """Textual cancels a screen's workers on quit; a query cut off that way would leave its database thread
    answering a closed event loop. The app lets it finish before it closes the engine."""
    settings, _ = seeded
    finished: list[bool] = []
    async with make_app(settings).run_test(size=(100, 30)) as pilot:
        screen = await fresh(pilot)
        fetch = screen.fetch

        async def slow_fetch() -> Any:
            await asyncio.sleep(0.3)  # the operator quits meanwhile
            data = await fetch()
            finished.append(True)
            return data

        screen.fetch = slow_fetch
        screen.reload()
        await pilot.pause(0.05)
    assert finished == [True]
