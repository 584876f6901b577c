"""Player benchmark: frame-step and seek latency, and frame exactness, in headless Chromium on a 720p proxy.

Measures the review page's WebCodecs player and, on the same proxy file, a plain ``<video>`` element seeking
by ``currentTime`` (to the frame's centre, its best case, and to the frame's start, the naive way):

- step: a key press (ArrowRight) to the next frame painted, timed inside the page from the key event;
- seek: ``seek(frame)`` to a random frame until that frame is painted (for ``<video>``: until it has sought
  and presented a new picture);
- exact: the share of seeks whose picture carries the requested frame's number (read from the pixels).

and, as an editor is used (``--editor``, on by default): on a 640x360 video with sound (a click every second,
on a frame that flashes),

- L -> playing: from the L key event to the first painted frame after the start, beside the same for Space;
- A/V offset: for each click heard during 10 s of play, its time at the speakers' side of Web Audio minus
  the paint of its frame (one frame period is the reference);
- loop: a 30-frame clip looping from the page's first Space: click to click on the audio clock, and Space
  to the first click;
- page load with the clip list: from navigation to a usable page (player ready, clip list drawn) for a
  1,200-clip video, beside a 3-clip one.

and on the network (``--network``, on by default; see ``bench/player_network.py``): bytes and time per random
seek at 720p on a link throttled to 20 Mbit/s, and renderer memory after 500 seeks.

Run from the repository root (it needs /usr/bin/chromium and takes a few minutes)::

    python -m bench.player [--frames 300] [--steps 120] [--seeks 60] [--size 1280x720] [--fps 30000/1001]
                           [--net-seeks 40] [--memory-seeks 500] [--no-editor] [--no-network]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.player_network import bench_network, print_network
from heaters.settings import Settings
from tests.browser.live import (
    PASSWORD,
    LiveServer,
    add_video,
    db_call,
    launch,
    make_proxy,
    open_review,
    prepare_database,
    shown_number,
)
from tests.browser.test_sound import LISTEN

# Time from each key event to the paint it causes, recorded inside the page.
STEP_PROBE = """() => {
  window.benchKeys = []; window.benchPaints = [];
  document.addEventListener('keydown', () => window.benchKeys.push(performance.now()), true);
  window.heaters.player.subscribe((frame) => window.benchPaints.push([frame, performance.now()]));
}"""

SEEK_TIMED = """async (frame) => {
  const t0 = performance.now();
  await window.heaters.player.seek(frame);
  return performance.now() - t0;
}"""

# Forget every decoded frame and every fetched byte (the frame index stays: it is fetched once per page).
COLD = """() => {
  const player = window.heaters.player;
  clearTimeout(player.prefetchTimer);
  player.cache.clear();
  player.source.bytes.clear();
}"""

# A plain <video> element on the proxy, stepped by a key handler and sought by currentTime. A seek is done
# when the element has both sought and presented a new picture (the two come in either order).
VIDEO_SETUP = """async ([url, fps]) => {
  document.body.innerHTML = '';
  const video = document.createElement('video');
  video.id = 'plain'; video.muted = true; video.preload = 'auto'; video.src = url;
  document.body.append(video);
  await new Promise((resolve) => video.addEventListener('canplaythrough', resolve, { once: true }));
  const [num, den] = fps.split('/').map(Number);
  window.plain = { video, frame: 0, painted: [] };
  window.plainSeek = (frame, centre = true) => new Promise((resolve) => {
    const t0 = performance.now();
    let seeked = false, presented = false, timer = 0;
    const settle = () => {
      if (!seeked || !presented) return;
      clearTimeout(timer);
      window.plain.frame = frame;
      resolve(performance.now() - t0);
    };
    video.requestVideoFrameCallback(() => { presented = true; settle(); });
    video.addEventListener('seeked', () => {
      seeked = true;
      timer = setTimeout(() => { presented = true; settle(); }, 250);
      settle();
    }, { once: true });
    video.currentTime = ((centre ? frame + 0.5 : frame) * den) / num;
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight') return;
    const t0 = performance.now();
    window.plainSeek(window.plain.frame + 1).then(() => window.plain.painted.push(performance.now() - t0));
  });
  await window.plainSeek(0);
}"""

PACE_MS = 40  # between key presses: a quick reviewer tapping 25 times a second


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"


def bench_webcodecs(page: Any, frames: int, steps: int, seeks: int, rng: random.Random) -> dict[str, Any]:
    page.evaluate("window.heaters.player.seek(0)")
    page.wait_for_timeout(500)  # the reviewer looks at the first frame for a moment
    page.evaluate(STEP_PROBE)
    step_times = []
    for target in range(1, min(steps, frames - 1) + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"window.heaters.player.frame === {target}")
        key_at = page.evaluate("window.benchKeys[window.benchKeys.length - 1]")
        painted = page.evaluate(f"window.benchPaints.filter(([f]) => f === {target}).pop()[1]")
        step_times.append(painted - key_at)
        page.wait_for_timeout(PACE_MS)
    seek_times, exact = [], 0
    for frame in rng.sample(range(frames), seeks):
        seek_times.append(page.evaluate(SEEK_TIMED, frame))
        exact += shown_number(page) == frame
    # Cold: nothing decoded or fetched beforehand, so each seek pays an index-free Range request and a decode.
    cold_times, cold_exact = [], 0
    for frame in rng.sample(range(frames), seeks):
        page.wait_for_timeout(150)  # let the previous seek's prefetching finish, then forget it all
        page.evaluate(COLD)
        cold_times.append(page.evaluate(SEEK_TIMED, frame))
        cold_exact += shown_number(page) == frame
    return {"step": step_times, "seek": seek_times, "exact": exact / seeks, "seek_cold": cold_times,
            "exact_cold": cold_exact / seeks}


def bench_video(page: Any, server: LiveServer, proxy_path: str, fps: str, frames: int, steps: int, seeks: int,
                rng: random.Random) -> dict[str, Any]:
    page.goto(f"{server.url}/healthz")  # any page of the server's origin, so the session cookie goes along
    page.evaluate(VIDEO_SETUP, [f"{server.url}{proxy_path}", fps])
    for i in range(1, min(steps, frames - 1) + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"window.plain.painted.length >= {i}")
        page.wait_for_timeout(PACE_MS)
    results: dict[str, Any] = {"step": page.evaluate("window.plain.painted")}
    for centre in (True, False):
        times, exact = [], 0
        for frame in rng.sample(range(frames), seeks):
            times.append(page.evaluate("([f, c]) => window.plainSeek(f, c)", [frame, centre]))
            exact += shown_number(page, "#plain") == frame
        results["seek" if centre else "seek_start"] = times
        results["exact" if centre else "exact_start"] = exact / seeks
    return results


LOAD_TIMED = """async () => {
  while (document.body.dataset.ready !== 'true' || !document.querySelector('#clip-list .clip-row'))
    await new Promise((r) => setTimeout(r, 5));
  return performance.now();
}"""


def time_to_playing(page: Any, key: str, start: int, tries: int) -> list[float]:
    """Key event to the first paint of a later frame, ``tries`` times from frame ``start``."""
    times = []
    for _ in range(tries):
        page.evaluate(f"window.heaters.player.seek({start})")
        page.wait_for_function(f"window.heaters.player.frame === {start}")
        page.wait_for_timeout(200)
        page.evaluate(STEP_PROBE)
        page.keyboard.press(key)
        page.wait_for_function(f"window.benchPaints.some(([f]) => f > {start})", timeout=5000)
        key_at = page.evaluate("window.benchKeys[window.benchKeys.length - 1]")
        first = page.evaluate(f"window.benchPaints.find(([f]) => f > {start})[1]")
        times.append(first - key_at)
        page.keyboard.press("k")
    return times


def bench_editor(browser: Any, server: LiveServer, settings: Settings, root: Path) -> dict[str, Any]:
    clicks = tuple(range(15, 330, 30))
    sound = make_proxy(root / "sound", size=(640, 360), shots=(165, 165), clicks=clicks, crf=18)
    many = make_proxy(root / "many", size=(320, 180), shots=(1200,), crf=18)
    sound_id = db_call(settings, lambda: add_video(settings, sound, title="Sound", cuts=()))
    few_id = db_call(settings, lambda: add_video(settings, many, title="3 clips", cuts=(400, 800)))
    many_id = db_call(settings, lambda: add_video(settings, many, title="1,200 clips", cuts=tuple(range(1, 1200))))
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    open_review(page, server, "bench", sound_id)
    page.keyboard.press("Shift+L")  # no loop: 10 s of play straight through
    results: dict[str, Any] = {"L": time_to_playing(page, "l", 0, 10), "Space": time_to_playing(page, " ", 0, 10)}
    page.evaluate("window.heaters.player.seek(0)")
    page.wait_for_function("window.heaters.player.frame === 0")
    page.evaluate(LISTEN)
    # Every paint against the clock (what is being heard): how far behind its own sound each frame shows.
    page.evaluate("""() => { window.lag = []; const p = window.heaters.player;
      p.subscribe((f) => { const now = performance.now(); if (!p.playing || !p.clock) return;
        window.lag.push(p.clock.seconds(now) * 1000 - (f - p.clock.first) * 1000 / 30); }); }""")
    page.keyboard.press("l")
    page.wait_for_timeout(10_500)
    page.keyboard.press("k")
    paints = page.evaluate("window.painted")
    heard = page.evaluate("window.heardClicks")
    painted_at = {f: t for f, t in reversed(paints)}  # the first paint of each frame
    offsets = []
    for at in heard:
        times = [painted_at[c] for c in clicks if c in painted_at]
        if times:
            offsets.append(abs(min((at - t for t in times), key=abs)))
    results["clicks"] = offsets
    results["av"] = [abs(v) for v in page.evaluate("window.lag")]
    results["paints"] = len({f for f, _ in paints})
    results["av_frame_ms"] = 1000 / float(sound.fps)
    loads: dict[str, list[float]] = {}
    for name, video_id in (("3 clips", few_id), ("1,200 clips", many_id)):
        loads[name] = []
        for _ in range(5):
            page.goto(f"{server.url}/review/{video_id}")
            loads[name].append(page.evaluate(LOAD_TIMED))  # navigation starts at performance time 0
    results["load"] = loads
    page.context.close()
    results["loop"], results["first_click"] = bench_loop(browser, server, settings, sound)
    return results


def bench_loop(browser: Any, server: LiveServer, settings: Settings, sound: Any) -> tuple[list[float], float]:
    """A 30-frame clip (a click on its frame 15) playing in a loop from the page's first Space: the time
    between clicks on the audio clock (the clip's length when a restart costs nothing), and from Space to the
    first click (the first loop's sound, when it was ready in time)."""
    loop_id = db_call(settings, lambda: add_video(settings, sound, title="Loop", cuts=tuple(range(30, 330, 30))))
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    open_review(page, server, "bench", loop_id)
    page.evaluate(LISTEN)
    page.keyboard.press("Space")
    page.wait_for_function("window.clickTimes.length >= 8", timeout=20_000)
    page.keyboard.press("Space")
    times = page.evaluate("window.clickTimes")
    first = page.evaluate("window.heardClicks[0] - window.pressed")
    page.context.close()
    return [(b - a) * 1000 for a, b in itertools.pairwise(times)], first


def print_editor(r: dict[str, Any]) -> None:
    print(f"\n{'':24} {'key -> first frame playing':32}")
    print(f"{'L (shuttle)':24} {summary(r['L']):32}")
    print(f"{'Space (reference)':24} {summary(r['Space']):32}")
    print(f"\nA/V offset over 10 s of play ({r['paints']} distinct frames painted); reference: one frame ="
          f" {r['av_frame_ms']:.1f} ms")
    print(f"{'paint vs audio clock':24} {summary(r['av']):32} ({len(r['av'])} paints)")
    if r["clicks"]:
        print(f"{'heard click vs paint':24} {summary(r['clicks']):32} ({len(r['clicks'])} clicks)")
    else:
        print(f"{'heard click vs paint':24} no click was heard by the page's tap (a starved main thread drops them)")
    loop = r["loop"]
    print(f"\na 30-frame clip looping ({len(loop)} restarts); reference: its length, 1000.0 ms")
    print(f"{'click to click':24} {summary(loop):32} (audio clock; min {min(loop):.1f}, max {max(loop):.1f})")
    print(f"{'Space to first click':24} {r['first_click']:6.1f} ms  (the click is 500 ms into the clip)")
    print("\npage load to a usable page with the clip list:")
    for name, times in r["load"].items():
        print(f"{name:24} {summary(times):32}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="length of the generated proxy")
    parser.add_argument("--steps", type=int, default=120, help="key presses to time")
    parser.add_argument("--seeks", type=int, default=60, help="random seeks to time")
    parser.add_argument("--size", default="1280x720", help="picture size WxH")
    parser.add_argument("--fps", default="30", help="frame rate, e.g. 30000/1001")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-editor", dest="editor", action="store_false", help="skip the editor figures")
    parser.add_argument("--no-network", dest="network", action="store_false", help="skip the network figures")
    parser.add_argument("--net-seeks", type=int, default=40, help="random seeks timed on each link")
    parser.add_argument("--memory-seeks", type=int, default=500, help="random seeks before reading memory")
    parser.add_argument("--net-crf", type=int, default=10,
                        help="x264 CRF of the network proxy (10 makes synthetic frames weigh like real 720p)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    rng = random.Random(args.seed)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="heaters-bench-") as tmp:
        root = Path(tmp)
        started = time.monotonic()
        proxy = make_proxy(root / "proxy", size=(width, height), shots=(args.frames,), crf=18,
                           fps=Fraction(args.fps))
        print(f"proxy: {proxy.width}x{proxy.height}, {proxy.frames} frames at {proxy.fps} fps, "
              f"{proxy.path.stat().st_size / proxy.frames / 1024:.0f} KiB/frame, {proxy.index['codec']} "
              f"(made in {time.monotonic() - started:.0f} s)")
        settings = Settings.from_env({}, data_dir=root / "data", secret_key="bench", min_clip_frames=1)
        prepare_database(settings)

        async def setup() -> int:
            from heaters.services.users import add_user

            await add_user("bench", PASSWORD, "reviewer")
            return await add_video(settings, proxy, title="Player benchmark", cuts=())

        video_id = db_call(settings, setup)
        if args.network:
            started = time.monotonic()
            heavy = make_proxy(root / "net", size=(width, height), shots=(args.frames,), crf=args.net_crf,
                               fps=Fraction(args.fps))
            heavy_id = db_call(settings, lambda: add_video(settings, heavy, title="Network benchmark", cuts=()))
            print(f"network proxy: {heavy.path.stat().st_size / heavy.frames / 1024:.0f} KiB/frame "
                  f"(made in {time.monotonic() - started:.0f} s)")
        fps = f"{proxy.fps.numerator}/{proxy.fps.denominator}"
        with LiveServer(settings, root / "server.log") as server, sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            open_review(page, server, "bench", video_id)
            rows = {
                "WebCodecs player": bench_webcodecs(page, proxy.frames, args.steps, args.seeks, rng),
                "<video> currentTime": bench_video(
                    page, server, f"/media/proxies/{video_id}.mp4", fps, proxy.frames, args.steps, args.seeks, rng
                ),
            }
            editor = bench_editor(browser, server, settings, root) if args.editor else None
            network = (bench_network(playwright, launch, browser, server, heavy, heavy_id, args.net_seeks,
                                     args.memory_seeks, rng) if args.network else None)
            browser.close()

    print(f"\n{'':24} {'step (key -> painted)':32} {'random seek':32} exact")
    for name, r in rows.items():
        print(f"{name:24} {summary(r['step']):32} {summary(r['seek']):32} {r['exact']:.0%}")
        if "seek_cold" in r:
            print(f"{'  cold (nothing cached)':24} {'':32} {summary(r['seek_cold']):32} {r['exact_cold']:.0%}")
        if "seek_start" in r:
            print(f"{'  seeking to frame start':24} {'':32} {summary(r['seek_start']):32} {r['exact_start']:.0%}")
    if editor is not None:
        print_editor(editor)
    if network is not None:
        print_network(network)
    return 0


if __name__ == "__main__":
    sys.exit(main())
