"""Live cut versions for server-sent events, from one shared poller per process.

Cut operations can come from anywhere (another web process, the console, the CLI), so the database is the
only place that sees them all. Instead of one query per open page, a single task polls the ``cut_version`` of
every watched video in one query every ``interval`` seconds and wakes the watchers of the ones that changed.
It runs only while someone watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from heaters.db.tables import SourceVideo

log = logging.getLogger(__name__)


class _Watch:
    """One open event stream: the last version it saw and a flag the poller raises on a change."""

    def __init__(self, video_id: int) -> None:
        self.video_id = video_id
        self.changed = asyncio.Event()


class CutVersionHub:
    """``async for version in hub.watch(video_id)`` yields the video's ``cut_version`` whenever it changes
    (None every ``heartbeat`` seconds without a change, so the caller can keep the connection alive)."""

    def __init__(self, interval: float = 0.4, heartbeat: float = 15.0) -> None:
        self.interval = interval
        self.heartbeat = heartbeat
        self._watches: set[_Watch] = set()
        self._versions: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def current(self, video_id: int) -> int | None:
        row = await SourceVideo.select(SourceVideo.cut_version).where(SourceVideo.id == video_id).first()
        return None if row is None else int(row["cut_version"])

    async def watch(self, video_id: int, since: int) -> AsyncIterator[int | None]:
        """Versions of ``video_id`` newer than ``since``, as they appear; None as a heartbeat."""
        watch = _Watch(video_id)
        self._watches.add(watch)
        if self._versions.setdefault(video_id, since) != since:
            watch.changed.set()  # the poller already saw a version this stream has not sent
        self._ensure_poller()
        seen = since
        try:
            while True:
                try:
                    await asyncio.wait_for(watch.changed.wait(), timeout=self.heartbeat)
                except TimeoutError:
                    yield None
                    continue
                watch.changed.clear()
                version = self._versions.get(video_id, seen)
                if version != seen:
                    seen = version
                    yield version
        finally:
            self._watches.discard(watch)
            if not any(w.video_id == video_id for w in self._watches):
                self._versions.pop(video_id, None)

    def _ensure_poller(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="heaters-cut-versions")

    async def _poll(self) -> None:
        while self._watches:
            ids = sorted({w.video_id for w in self._watches})
            try:
                rows = await SourceVideo.select(SourceVideo.id, SourceVideo.cut_version).where(
                    SourceVideo.id.is_in(ids)
                )
            except Exception:  # a database hiccup must not end every open stream; try again next tick
                log.warning("polling cut versions failed", exc_info=True)
                rows = []
            for row in rows:
                if self._versions.get(row["id"]) != row["cut_version"]:
                    self._versions[row["id"]] = row["cut_version"]
                    for watch in list(self._watches):
                        if watch.video_id == row["id"]:
                            watch.changed.set()
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
