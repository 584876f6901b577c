"""The review queue: claims are exclusive, leases expire, clips come in frame order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from fractions import Fraction

import pytest

from heaters.db.tables import Clip, SourceVideo
from heaters.errors import Conflict, NotFound
from heaters.services import claims, review
from heaters.services import videos as videos_service
from heaters.settings import Settings


async def ready_video(total: int = 90, cuts: tuple[int, ...] = (30, 60)) -> int:
    return await videos_service.create_video(
        "v", state="ready", fps=Fraction(25), total_frames=total, width=160, height=90, initial_cuts=cuts
    )


async def test_concurrent_reviewers_never_share_a_video(db: Settings) -> None:
    videos = [await ready_video() for _ in range(4)]
    reviewers = [f"reviewer{i}" for i in range(10)]
    got = await asyncio.gather(*(claims.claim_next(name, 300) for name in reviewers))
    handed = [v for v in got if v is not None]
    assert sorted(handed) == videos  # every video handed out once, nobody got one twice
    assert got.count(None) == len(reviewers) - len(videos)
    for name, video in zip(reviewers, got, strict=True):
        if video is not None:
            assert (await claims.claim_info(video))["review_user"] == name


async def test_concurrent_claims_of_one_video(db: Settings) -> None:
    video = await ready_video()
    results = await asyncio.gather(
        *(claims.try_claim(video, f"r{i}", 300) for i in range(8)), return_exceptions=True
    )
    assert results.count(True) == 1 and results.count(False) == 7


async def test_own_claim_comes_back_and_renews(db: Settings) -> None:
    first, second = await ready_video(), await ready_video()
    assert await claims.claim_next("ann", 300) == first
    assert await claims.claim_next("bob", 300) == second
    assert await claims.claim_next("ann", 300) == first
    assert await claims.held_by("ann") == [first]
    with pytest.raises(Conflict, match="ann"):
        await claims.claim(first, "bob", 300)
    info = await claims.claim(first, "ann", 600)
    assert info["review_user"] == "ann"


async def test_abandoned_lease_expires(db: Settings) -> None:
    video = await ready_video()
    assert await claims.claim_next("ann", 300) == video
    assert await claims.claim_next("bob", 300) is None
    # Ann's page was closed: her lease lapses (moved into the past rather than waiting for it).
    await SourceVideo.update({SourceVideo.review_lease_until: review.now() - timedelta(seconds=1)}).where(
        SourceVideo.id == video
    )
    assert (await claims.claim_info(video))["review_user"] == ""
    assert not await claims.renew_if_held(video, "ann", 300)
    assert await claims.claim_next("bob", 300) == video
    assert (await claims.claim_info(video))["review_user"] == "bob"


async def test_short_lease_expires_by_itself(db: Settings) -> None:
    video = await ready_video()
    assert await claims.try_claim(video, "ann", 1)
    assert not await claims.try_claim(video, "bob", 1)
    await asyncio.sleep(1.3)
    assert await claims.try_claim(video, "bob", 1)


async def test_only_ready_videos_with_pending_clips_are_handed_out(db: Settings) -> None:
    encoding = await videos_service.create_video("e", state="encoding")
    done = await ready_video(cuts=())
    (clip,) = await videos_service.live_clips(done)
    await review.approve(clip["id"], user="x")
    todo = await ready_video()
    assert await claims.claim_next("ann", 300) == todo
    assert await claims.claim_next("bob", 300) is None
    assert encoding and done  # neither was handed out


async def test_next_clip_in_frame_order(db: Settings) -> None:
    video = await ready_video(cuts=(30, 60))
    await review.add_cut(video, 10, user="x")  # new clips have higher ids but come first in frame order
    first = await claims.next_clip(video)
    assert (first["start_frame"], first["end_frame"]) == (0, 10)
    await review.approve(first["id"], user="x")
    assert (await claims.next_clip(video))["start_frame"] == 10
    assert (await claims.next_clip(video, after_frame=31))["start_frame"] == 60
    await Clip.update({Clip.state: "skipped"}).where((Clip.source_video == video) & (Clip.start_frame >= 60))
    assert (await claims.next_clip(video, after_frame=61))["start_frame"] == 10  # wraps around


async def test_release(db: Settings) -> None:
    video = await ready_video()
    await claims.claim(video, "ann", 300)
    assert not await claims.release(video, "bob")
    assert await claims.release(video, "ann")
    assert await claims.claim_next("bob", 300) == video
    with pytest.raises(NotFound):
        await claims.claim_info(999)
