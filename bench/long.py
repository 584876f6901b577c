"""A long source, encoded whole and in segments: time to the first reviewable clip and to ready.

    python bench/long.py [--minutes 30] [--segment-seconds 60] [--workers 1,2] [--size 854x480] [--browser]
                         [--no-whole]

The bench makes a synthetic source (hard cuts every 4-20 s, a tone as sound, x264 + AAC in MP4), then runs the
real stage functions on a SQLite database and local storage in a scratch directory:

* **whole** (``HEATERS_SEGMENT_SECONDS=0``, the reference): download, encode and detect in one process; the
  first clip is reviewable when the video is ready;
* **segments** with 1 and 2 worker processes (separate OS processes taking segment jobs in plan order, the
  review-audio job right after the first, as ``heaters workers --processes N`` would): the first clip is
  reviewable when the first clip below the committed edge exists; ready when the last segment is in and
  detection has run.

Printed beside each other: seconds from ingest to the first reviewable clip and to ready, the CPU seconds
the run's processes spent (user + system, all threads: the work done, which a busy machine stretches in wall
time but not in CPU time), the peak RSS of the processes that encoded, the bytes of the first frame-index
window and clip list the review page fetches, and per-segment costs. With ``--browser`` the review page of
each segmented run is also opened in headless Chromium (``/usr/bin/chromium``, served by the real web app) and
the bytes it fetched until its first frame was painted are counted from the page's resource timing:
everything, and the API and media part alone (the page's scripts and styles are the same for any video).
``--no-whole`` skips the reference run.

From the per-segment costs it simulates the time to ready of a one-hour 1080p source on 1, 4, 16 and 64
workers (each a machine like this one): segments of 60 s, each costing the measured mean scaled by the pixel
count, run in waves of ``workers``, plus the join (measured, scaled the same way) and the dispatcher's
hand-over (one idle-poll interval per wave).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from heaters.settings import Settings

POLL_SECONDS = 0.25
IDLE_POLL_SECONDS = 0.1  # heaters.actors.worker.IDLE_POLL_MS


def settings_for(root: Path, segment_seconds: float) -> Settings:
    return Settings.from_env(
        {}, data_dir=root / "data", segment_seconds=segment_seconds, proxy_preset="veryfast",
        dispatch_seconds=3600.0, lease_seconds=3600,
    )


async def _migrate(settings: Settings) -> None:
    from heaters.db.engine import connect
    from heaters.db.migrate import migrate

    async with connect(settings) as engine:
        await migrate(engine)


def peak_rss() -> int:
    """This process's peak resident set in bytes (``VmHWM``: unlike ``ru_maxrss`` it is not inherited from
    the parent that started the process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, all its threads: the work done, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker(settings: Settings, jobs: Any, done: Any) -> None:
    """A worker process: take (stage, id) jobs until ``None``, report (stage, id, seconds) and finally its
    peak RSS."""

    async def run() -> None:
        from heaters.db.engine import connect
        from heaters.services import stages
        from heaters.services.stages import StageContext

        ctx = StageContext.from_settings(settings)
        work = {"segment": stages.encode_segment, "audio": stages.encode_review_audio}
        async with connect(settings):
            while (job := await asyncio.to_thread(jobs.get)) is not None:
                stage, row_id = job
                started = time.perf_counter()
                await work[stage](ctx, row_id)
                done.put((stage, row_id, time.perf_counter() - started))

    asyncio.run(run())
    done.put(("cpu", None, cpu_seconds()))
    done.put(("rss", None, peak_rss()))


async def _page_bytes(settings: Settings, video_id: int) -> int:
    """Bytes of what the review page fetches before the first frame: the first index window and the clips."""
    from heaters.media.frame_index import dumps, index_window
    from heaters.services.videos import get_video, live_clips
    from heaters.storage import create_storage

    video = await get_video(video_id)
    index = json.loads(create_storage(settings).get_bytes(video["proxy_index_key"]))
    window = index_window(index, 0, min(1024, int(index["frames"])))
    clips = await live_clips(video_id)
    return len(dumps(window)) + len(json.dumps(clips, default=str))


# Bytes the review page fetched, from its navigation and resource timing entries (same origin: sizes are exposed).
FETCHED = """() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const size = (e) => e.transferSize || e.encodedBodySize || 0;
  const data = entries.filter((e) => /\\/(api|media)\\//.test(e.name));
  return { all: entries.reduce((n, e) => n + size(e), 0), data: data.reduce((n, e) => n + size(e), 0),
           requests: entries.length };
}"""


def browser_page_bytes(settings: Settings, video_id: int, log: Path) -> dict[str, int]:
    """Open the video's review page in Chromium and count what it fetched until the first frame showed
    (nothing, and the reason printed, if the page did not get there: the other figures still count)."""
    from playwright.sync_api import sync_playwright

    from heaters.services.users import add_user
    from tests.browser.live import PASSWORD, LiveServer, db_call, launch, login

    db_call(settings, lambda: add_user("bench", PASSWORD))
    with LiveServer(settings, log) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            login(page, server, "bench", f"/review/{video_id}")
            page.wait_for_function("window.heaters && window.heaters.player.frame >= 0", timeout=120_000)
            fetched: dict[str, int] = page.evaluate(FETCHED)
        except Exception as exc:  # a figure lost, not the run
            print(f"the review page did not show its first frame: {exc}; server log: {log.read_text()[-1500:]}")
            return {}
        finally:
            browser.close()
    return fetched


def _whole(root: Path, source: Path, out: Any) -> None:
    """The reference in a process of its own (so its peak RSS is the encode's): download, encode, detect."""

    async def run() -> dict[str, Any]:
        from heaters.db.engine import connect
        from heaters.services import stages
        from heaters.services.ingest import ingest
        from heaters.services.stages import StageContext

        settings = settings_for(root, 0)
        await _migrate(settings)
        ctx = StageContext.from_settings(settings)
        async with connect(settings):
            started = time.perf_counter()
            video_id = await ingest(settings, ctx.storage, str(source))
            for stage in (stages.download, stages.encode, stages.detect):
                assert await stage(ctx, video_id) == "done", stage
            ready = time.perf_counter() - started
            page = await _page_bytes(settings, video_id)
        rss = peak_rss()
        return {"first": ready, "ready": ready, "rss": rss, "page": page, "cpu": cpu_seconds()}

    out.put(asyncio.run(run()))


def run_whole(root: Path, source: Path) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    proc = spawn.Process(target=_whole, args=(root, source, out))
    proc.start()
    result: dict[str, Any] = out.get()
    proc.join()
    return result


async def run_segments(
    root: Path, source: Path, segment_seconds: float, workers: int, browser: bool = False
) -> dict[str, Any]:
    from heaters.db.engine import connect
    from heaters.db.tables import Clip, ReviewAudio, Segment
    from heaters.services import stages
    from heaters.services.ingest import ingest
    from heaters.services.stages import StageContext
    from heaters.services.videos import get_video

    settings = settings_for(root, segment_seconds)
    await _migrate(settings)
    ctx = StageContext.from_settings(settings)
    spawn = multiprocessing.get_context("spawn")
    jobs, done = spawn.Queue(), spawn.Queue()
    procs = [spawn.Process(target=_worker, args=(settings, jobs, done)) for _ in range(workers)]
    for p in procs:
        p.start()
    async with connect(settings):
        started, cpu_before = time.perf_counter(), cpu_seconds()
        video_id = await ingest(settings, ctx.storage, str(source))
        assert await stages.download(ctx, video_id) == "done"
        assert await stages.encode(ctx, video_id) == "done"
        rows = await Segment.select(Segment.id).where(Segment.source_video == video_id).order_by(Segment.position)
        track = await ReviewAudio.select(ReviewAudio.id).where(ReviewAudio.source_video == video_id).first()
        for n, row in enumerate(rows):
            jobs.put(("segment", row["id"]))
            if n == 0 and track is not None:  # the sound right after the first segment, as the encode stage queues it
                jobs.put(("audio", track["id"]))
        for _ in procs:
            jobs.put(None)
        first = None
        costs: list[float] = []
        sound: list[float] = []
        cpu: list[float] = []
        rss: list[int] = []
        while len(rss) < workers:
            while not done.empty():
                kind, _, value = done.get()
                {"segment": costs, "audio": sound, "cpu": cpu}.get(kind, rss).append(value)
            if first is None and await Clip.exists().where(
                (Clip.source_video == video_id) & (Clip.state == "pending_review")
            ):
                first = time.perf_counter() - started
            await asyncio.sleep(POLL_SECONDS)
        encoded = time.perf_counter() - started
        video = await get_video(video_id)
        assert video["state"] == "encoded", video["state"]
        assert await stages.detect(ctx, video_id) == "done"
        ready = time.perf_counter() - started
        cpu.append(cpu_seconds() - cpu_before)  # this process: planning, the final detection
        page = await _page_bytes(settings, video_id)
    for p in procs:
        p.join()
    fetched = await asyncio.to_thread(browser_page_bytes, settings, video_id, root / "server.log") if browser else {}
    return {
        "fetched": fetched,
        "first": first if first is not None else ready, "ready": ready, "rss": max(rss), "page": page,
        "costs": costs, "join": ready - encoded, "segments": len(rows), "sound": sum(sound), "cpu": sum(cpu),
    }


def simulate(cost: float, join: float, segments: int, workers: int) -> float:
    """Time to ready: the segments in waves of ``workers``, one hand-over per wave, then the join."""
    waves = math.ceil(segments / workers)
    return waves * (cost + IDLE_POLL_SECONDS) + join


def main() -> None:
    from heaters.media.synthetic import make_long_video  # not at the top: worker processes re-import this module

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--segment-seconds", type=float, default=60.0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--size", default="854x480")
    parser.add_argument("--browser", action="store_true", help="also count the review page's bytes in Chromium")
    parser.add_argument("--no-whole", dest="whole", action="store_false", help="skip the unsegmented reference")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="heaters-long-"))
    try:
        source = root / "long.mp4"
        t = time.perf_counter()
        frames = make_long_video(source, args.minutes, (width, height)).frames
        print(f"source: {args.minutes:g} min {width}x{height} 25 fps with sound, {frames} frames, "
              f"{source.stat().st_size / 1e6:.0f} MB, made in {time.perf_counter() - t:.0f} s")
        results = {"whole": run_whole(root / "whole", source)} if args.whole else {}
        shutil.rmtree(root / "whole", ignore_errors=True)  # a long source's master is gigabytes
        for n in (int(w) for w in args.workers.split(",")):
            results[f"segments x{n}"] = asyncio.run(
                run_segments(root / f"seg{n}", source, args.segment_seconds, n, args.browser)
            )
            shutil.rmtree(root / f"seg{n}", ignore_errors=True)
        reference = results["whole"]["ready"] if args.whole else float("nan")
        cpu_reference = results["whole"]["cpu"] if args.whole else float("nan")
        print(f"\n{'run':<14}{'first clip s':>13}{'ready s':>9}{'ready/whole':>12}{'CPU s':>8}{'CPU/whole':>10}"
              f"{'peak RSS MB':>12}{'page kB':>9}")
        for name, r in results.items():
            print(f"{name:<14}{r['first']:>13.1f}{r['ready']:>9.1f}{r['ready'] / reference:>12.2f}"
                  f"{r['cpu']:>8.0f}{r['cpu'] / cpu_reference:>10.2f}{r['rss'] / 2**20:>12.0f}{r['page'] / 1e3:>9.1f}")
        for name, r in results.items():
            if r.get("fetched"):
                f = r["fetched"]
                print(f"{name}: the review page fetched {f['all'] / 1e3:.0f} kB in {f['requests']} requests until "
                      f"its first frame, {f['data'] / 1e3:.0f} kB of them API and media")
        one = results[f"segments x{args.workers.split(',')[0]}"]
        cost, join = statistics.mean(one["costs"]), one["join"]
        per_segment_s = args.segment_seconds
        print(f"\nper segment ({per_segment_s:g} s of {width}x{height}): mean {cost:.1f} s, "
              f"max {max(one['costs']):.1f} s over {one['segments']} segments; join + final detection {join:.1f} s; "
              f"review audio job {one['sound']:.1f} s")
        # A segment's cost grows with its pixels; the join (thumbnail features, detection) with the frame count.
        cost_1080 = cost * (1920 * 1080) / (width * height) * (60.0 / per_segment_s)
        join_hour = join * 60.0 / args.minutes
        print(f"simulated one-hour 1080p source, 60 s segments: {cost_1080:.0f} s each, join {join_hour:.0f} s")
        for workers in (1, 4, 16, 64):
            print(f"  {workers:>2} workers: ready in {simulate(cost_1080, join_hour, 60, workers):8.0f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
