"""Approval-to-exported latency with idle workers.

    python bench/latency.py [--size 1280x720] [--clip-frames 50] [--clips 6] [--redis redis://127.0.0.1:6379/0]
                            [--postgres postgres://postgres@127.0.0.1:5432/test]

A generated video is ingested through a real ``heaters workers`` process until it is ready, with one clip per
shot. Then, one clip at a time (so the workers are idle when each approval arrives), a clip is approved the
way the review app does it (``review.approve`` with a broker, which enqueues the export at once) and the
database is polled every 5 ms until the clip is claimed (``exporting``), ``exported`` and ``embedded``.
Beside it, the same export is timed as a bare ``export_clip`` call on the master, so the pipeline's own
overhead (queue, claim, storage, bookkeeping) is the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import fields, replace
from pathlib import Path

from heaters.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is not None:
            env[f.metadata["env"]] = settings.resolved_database_url if f.name == "database_url" else str(value)
    return env


async def wait_state(table: object, row_id: int, states: set[str], timeout: float = 600) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        row = await table.select(table.state).where(table.id == row_id).first()  # type: ignore[attr-defined]
        if row["state"] in states:
            return time.perf_counter()
        await asyncio.sleep(0.005)
    raise TimeoutError(f"row {row_id} never reached {states}")


async def run(args: argparse.Namespace, root: Path) -> None:
    from heaters.db.engine import connect
    from heaters.db.migrate import migrate
    from heaters.db.tables import Clip, SourceVideo
    from heaters.media.export import export_clip
    from heaters.media.synthetic import make_video
    from heaters.services import queue, review
    from heaters.services.broker import create_broker
    from heaters.services.ingest import ingest
    from heaters.services.videos import live_clips
    from heaters.storage import create_storage

    width, height = (int(x) for x in args.size.split("x"))
    settings = replace(
        Settings.from_env({}), data_dir=root / "data", database_url=args.postgres or "",
        redis_url=args.redis, redis_namespace=f"heaters-bench-{uuid.uuid4().hex[:8]}", dispatch_seconds=5.0,
    )
    source = make_video(root / "source.mp4", shot_frames=[args.clip_frames] * args.clips, size=(width, height),
                        audio=True)
    worker = subprocess.Popen([sys.executable, "-m", "heaters", "workers", "--threads", "2"], env=env_for(settings),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    broker = create_broker(settings)
    tasks = queue.TaskQueue(broker, lease_seconds=settings.lease_seconds)
    try:
        async with connect(settings) as engine:
            await migrate(engine)
            storage = create_storage(settings)
            started = time.perf_counter()
            video_id = await ingest(settings, storage, str(source.path), tasks=tasks)
            ready_at = await wait_state(SourceVideo, video_id, {"ready"})
            print(f"ingest to ready: {ready_at - started:.2f} s for {source.frames} frames of {args.size}")
            clips = await live_clips(video_id)
            video = await SourceVideo.select().where(SourceVideo.id == video_id).first()
            master = storage.local_path(video["master_key"])
            claimed: list[float] = []
            exported: list[float] = []
            embedded: list[float] = []
            bare: list[float] = []
            await asyncio.sleep(1.0)  # let the workers go idle
            for clip in clips:
                t0 = time.perf_counter()
                await review.approve(clip["id"], user="bench", tasks=tasks)
                tc = await wait_state(Clip, clip["id"], {"exporting", "exported", "keyframed", "embedded"})
                t1 = await wait_state(Clip, clip["id"], {"exported", "keyframed", "embedded"})
                claimed.append(tc - t0)
                t2 = await wait_state(Clip, clip["id"], {"embedded"})
                exported.append(t1 - t0)
                embedded.append(t2 - t0)
                b0 = time.perf_counter()
                export_clip(master, root / f"bare-{clip['id']}.mp4", clip["start_frame"], clip["end_frame"],
                            crf=settings.export_crf, preset=settings.export_preset)
                bare.append(time.perf_counter() - b0)
                await asyncio.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        keys = list(broker.client.scan_iter(match=f"{settings.redis_namespace}*"))
        if keys:
            broker.client.delete(*keys)
        broker.close()

    def show(name: str, values: list[float]) -> None:
        print(f"{name:<28} median {statistics.median(values) * 1000:7.0f} ms   "
              f"min {min(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms")

    db = "Postgres" if args.postgres else "SQLite"
    print(f"{len(exported)} clips of {args.clip_frames} frames at {args.size}, {db}, preset {settings.export_preset}")
    show("approval -> export claimed", claimed)
    show("approval -> exported", exported)
    show("approval -> embedded", embedded)
    show("bare export_clip", bare)
    show("overhead (exported - bare)", [e - b for e, b in zip(exported, bare, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--clip-frames", type=int, default=50)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heaters-latency-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
