"""The actors declared on a real Redis broker match the stage table services enqueue to, with sane policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from heaters.errors import DownloadError, MediaError, StorageError
from heaters.services import queue
from heaters.settings import Settings

pytestmark = pytest.mark.redis


@pytest.fixture
def declared(pipeline: Settings) -> Iterator[Any]:
    from heaters.actors import setup

    broker = setup(pipeline)
    yield broker
    broker.close()


def test_one_actor_per_stage_on_its_queue(declared: Any, pipeline: Settings) -> None:
    for stage, (actor_name, queue_name) in queue.STAGES.items():
        actor = declared.get_actor(actor_name)
        assert actor.queue_name == queue_name, stage
        assert actor.options["time_limit"] >= 3600 * 1000, "sized for hours-long media"
        assert actor.options["max_retries"] == pipeline.max_attempts - 1
        throws = actor.options["throws"]
        assert issubclass(MediaError, throws) and issubclass(DownloadError, throws)
        assert not issubclass(StorageError, throws), "storage hiccups are retried"
    assert declared.get_declared_queues() == {"ingest", "encode", "export", "embed"}


def test_enqueue_reaches_the_named_queue(declared: Any) -> None:
    import dramatiq

    assert queue.TaskQueue(declared).send("export", 42)
    raw = declared.client.hvals(f"{declared.namespace}:export.msgs")
    (message,) = [dramatiq.Message.decode(data) for data in raw]
    assert (message.actor_name, message.args) == ("export_clip", (42,))
