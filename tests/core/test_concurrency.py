"""Eight writer processes editing one video at once: every operation applies or fails cleanly, nothing else."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from fractions import Fraction

from heaters.db.tables import CutOperation
from heaters.errors import Conflict, InvalidCut
from heaters.services import review, videos
from heaters.settings import Settings

WRITERS = 8
OPS_PER_WRITER = 25
TOTAL = 2000


def writer(settings: Settings, video_id: int, seed: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from heaters.db.engine import connect

    async def work() -> tuple[list[int], int]:
        rng = random.Random(seed)
        applied: list[int] = []
        refused = 0
        user = f"writer{seed}"
        async with connect(settings):
            for _ in range(OPS_PER_WRITER):
                current = await videos.current_cuts(video_id)
                choice = rng.random()
                try:
                    if choice < 0.4 or not current:
                        result = await review.add_cut(video_id, rng.randrange(1, TOTAL), user=user)
                    elif choice < 0.6:
                        result = await review.remove_cut(video_id, rng.choice(current), user=user)
                    elif choice < 0.8:
                        old = rng.choice(current)
                        result = await review.move_cut(video_id, old, old + rng.randint(-15, 15), user=user)
                    else:
                        result = await review.undo(video_id, user=user)
                    applied.append(result.operation_id)
                except (InvalidCut, Conflict):
                    refused += 1  # a clean refusal: another writer got there first
        return applied, refused

    results.put(asyncio.run(work()))


async def test_concurrent_writers_keep_mece_and_audit(db: Settings) -> None:
    video = await videos.create_video("busy", state="ready", fps=Fraction(25), total_frames=TOTAL,
                                      initial_cuts=range(100, TOTAL, 100))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=writer, args=(db, video, seed, results)) for seed in range(WRITERS)]
    for process in processes:
        process.start()
    outcomes = [await asyncio.to_thread(results.get, True, 240) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    applied = sorted(op for ids, _ in outcomes for op in ids)
    assert sum(len(ids) + refused for ids, refused in outcomes) == WRITERS * OPS_PER_WRITER
    assert len(applied) > WRITERS  # the writers really interleaved, not all refused
    logged = sorted(row["id"] for row in await CutOperation.select(CutOperation.id))
    assert logged == applied  # exactly one audit row per applied operation
    assert await videos.mece_problems(video) == []
    history = list(reversed(await videos.audit_log(video, limit=10_000)))
    assert videos.replay(await videos.detected_cuts(video), TOTAL, history) == await videos.current_cuts(video)
    versions = [row["cut_version"] for row in history]
    assert versions == list(range(1, len(history) + 1))  # serialised: no two operations saw the same version
