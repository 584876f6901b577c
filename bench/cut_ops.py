"""Latency of review operations on a video with 10,000 clips, on SQLite and Postgres.

    python bench/cut_ops.py [--postgres postgres://postgres@127.0.0.1:5432/test] [--rounds 300]

Each round adds a cut inside a random clip, moves it, undoes the move and removes the cut: four
transactions, each locking the video, writing the audit row and checking the partition around the change.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from heaters.db.engine import connect
from heaters.db.migrate import migrate
from heaters.services import review, videos
from heaters.settings import Settings

CLIPS = 10_000
CLIP_FRAMES = 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(settings: Settings, rounds: int, label: str) -> None:
    async with connect(settings) as engine:
        await migrate(engine)
        total = CLIPS * CLIP_FRAMES
        video = await videos.create_video("bench", state="ready", fps=Fraction(30000, 1001), total_frames=total,
                                          initial_cuts=range(CLIP_FRAMES, total, CLIP_FRAMES))
        timings: dict[str, list[float]] = {"add": [], "move": [], "undo": [], "remove": []}
        rng = random.Random(7)

        async def timed(name: str, op) -> None:  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            await op
            timings[name].append((time.perf_counter() - start) * 1000)

        for _ in range(rounds):
            frame = rng.randrange(0, CLIPS) * CLIP_FRAMES + 30
            await timed("add", review.add_cut(video, frame, user="bench", min_length=2))
            await timed("move", review.move_cut(video, frame, frame + 5, user="bench", min_length=2))
            await timed("undo", review.undo(video, user="bench"))
            await timed("remove", review.remove_cut(video, frame, user="bench"))
        assert await videos.mece_problems(video) == []
        print(f"\n{label}: {CLIPS} clips, {rounds} rounds")
        print(f"{'operation':<10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        for name, values in timings.items():
            print(f"{name:<10}{statistics.median(values):>10.2f}{percentile(values, 0.99):>10.2f}"
                  f"{max(values):>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="", help="also measure on this Postgres database (it is cleared)")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(Settings.from_env({}, data_dir=Path(tmp)), args.rounds, "SQLite"))
    if args.postgres:
        async def reset() -> None:
            async with connect(Settings.from_env({}, database_url=args.postgres)) as engine:
                await migrate(engine)
                await engine.run_ddl("TRUNCATE source_video, clip, cut_operation, artifact, embedding "
                                     "RESTART IDENTITY CASCADE")

        asyncio.run(reset())
        asyncio.run(measure(Settings.from_env({}, database_url=args.postgres), args.rounds, "PostgreSQL"))


if __name__ == "__main__":
    main()
