"""The review player on a slow link and over a long session: the network half of ``bench/player.py``.

- seek on 20 Mbit/s: random seeks on a 720p proxy over Chromium's network emulation (CDP
  ``Network.emulateNetworkConditions``: 20 Mbit/s down, 20 ms latency), each from cold (nothing decoded,
  fetched or indexed near the frame, as for a random seek in a long video): the time to the frame painted,
  and the bytes on the wire (the browser's resource timing ``transferSize``) until then and once the
  prefetching that follows has settled; beside the same seeks on the unthrottled loopback.
- renderer memory after 500 seeks: the resident set (``VmRSS`` in ``/proc``) of the browser's renderer
  processes, found as the descendants of this process whose command line says ``--type=renderer``, read
  after a forced garbage collection, at page ready and after 500 random seeks, in a browser launched for
  this alone (its renderers are those that appeared with it); then once more after a simulated critical
  memory-pressure notification (CDP ``Memory.simulatePressureNotification``), on which Chromium returns the
  memory its allocators keep after frames were freed: what the page really holds. ``Performance.getMetrics``
  (the JavaScript heap) is printed beside it, but decoded VideoFrames live outside that heap.
"""

from __future__ import annotations

import os
import random
import statistics
from pathlib import Path
from typing import Any

from tests.browser.live import LiveServer, Proxy, open_review

LINK = {"offline": False, "latency": 20, "downloadThroughput": 20e6 / 8, "uploadThroughput": 5e6 / 8}

# Forget what is near the frame (decoded frames, fetched bytes, index windows; not the measured throughput),
# seek, and account for every resource fetched from the seek until the prefetching after it has settled.
COLD_SEEK = """async (frame) => {
  const p = window.heaters.player;
  clearTimeout(p.prefetchTimer);
  if (p.prefetching) { p.prefetching.abort.abort(); p.prefetching = null; }
  while (p.pending.size) await new Promise((r) => setTimeout(r, 5));
  p.cache.clear(); p.source.bytes.clear(); p.source.blocks.clear(); p.source.loaded?.clear();
  performance.clearResourceTimings();
  const t0 = performance.now();
  const ok = await p.seek(frame);
  const painted = performance.now();
  const quiet = () => !p.prefetching && p.pending.size === 0 && p.source.inflight.size === 0;
  for (let still = 0; still < 3; still = quiet() ? still + 1 : 0) await new Promise((r) => setTimeout(r, 50));
  const all = performance.getEntriesByType('resource').filter((e) => e.startTime >= t0 - 1);
  const first = all.filter((e) => e.responseEnd <= painted + 0.5);
  const sum = (list) => list.reduce((n, e) => n + e.transferSize, 0);
  const index = (list) => list.filter((e) => e.name.includes('/index'));
  return { ms: painted - t0, ok, bytesToPaint: sum(first), requestsToPaint: first.length, bytes: sum(all),
           requests: all.length, indexBytes: sum(index(all)), rate: p.source.link?.bytesPerSecond ?? 0 };
}"""

SEEK = "async (frame) => { await window.heaters.player.seek(frame); }"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def seeks_on_link(browser: Any, server: LiveServer, video_id: int, frames: int, seeks: int, throttle: bool,
                  rng: random.Random) -> list[dict[str, Any]]:
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    if throttle:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", LINK)
    open_review(page, server, "bench", video_id)
    page.evaluate("performance.setResourceTimingBufferSize(1000000)")
    results = []
    for frame in rng.sample(range(frames), seeks):
        result = page.evaluate(COLD_SEEK, frame)
        result["exact"] = page.evaluate("window.heaters.player.frame") == frame
        results.append(result)
    page.context.close()
    return results


def renderer_pids() -> list[int]:
    """Chromium renderer processes started (through Playwright's driver) by this process."""
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])

    def mine(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return [pid for pid, cmd in commands.items() if b"--type=renderer" in cmd and mine(pid)]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def memory(page: Any, cdp: Any, others: set[int]) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    page.wait_for_timeout(500)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    sizes = [rss_bytes(pid) for pid in renderer_pids() if pid not in others]
    held = page.evaluate("(() => { const p = window.heaters.player; return"
                         " [p.cache.bytes ?? 0, p.cache.size, p.source.bytes.bytes ?? 0, p.source.bytes.size]; })()")
    return {"rss": float(max(sizes, default=0)), "rss_all": float(sum(sizes)), "renderers": float(len(sizes)),
            "js_heap": float(metrics.get("JSHeapUsedSize", 0)), "decoded": held[0], "decoded_frames": held[1],
            "encoded": held[2], "encoded_frames": held[3]}


def memory_after_seeks(launch: Any, playwright: Any, server: LiveServer, video_id: int, frames: int, seeks: int,
                       rng: random.Random) -> dict[str, Any]:
    """A browser of its own (its renderers are those that were not there before), 500 random seeks at a
    reviewer's pace."""
    others = set(renderer_pids())
    browser = launch(playwright)
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    open_review(page, server, "bench", video_id)
    page.wait_for_timeout(1000)
    start = memory(page, cdp, others)
    for frame in (rng.randrange(frames) for _ in range(seeks)):
        page.evaluate(SEEK, frame)
        page.wait_for_timeout(20)  # a quick reviewer: prefetching around each frame has begun, if not ended
    page.wait_for_timeout(1000)
    end = memory(page, cdp, others)
    # What of it the renderer needs: on memory pressure Chromium hands back what its allocators keep freed.
    cdp.send("Memory.simulatePressureNotification", {"level": "critical"})
    page.wait_for_timeout(3000)
    pressed = memory(page, cdp, others)
    browser.close()
    return {"start": start, "end": end, "pressed": pressed, "seeks": seeks}


def bench_network(playwright: Any, launch: Any, browser: Any, server: LiveServer, proxy: Proxy, video_id: int,
                  seeks: int, memory_seeks: int, rng: random.Random) -> dict[str, Any]:
    return {
        "proxy": proxy,
        "links": {
            "20 Mbit/s, 20 ms": seeks_on_link(browser, server, video_id, proxy.frames, seeks, True, rng),
            "loopback (reference)": seeks_on_link(browser, server, video_id, proxy.frames, seeks, False, rng),
        },
        "memory": memory_after_seeks(launch, playwright, server, video_id, proxy.frames, memory_seeks, rng),
    }


def kib(n: float) -> str:
    return f"{n / 1024:7.0f} KiB"


def mib(n: float) -> str:
    return f"{n / 2**20:7.0f} MiB"


def print_network(r: dict[str, Any]) -> None:
    proxy = r["proxy"]
    sizes = proxy.index["sizes"]
    mean = statistics.fmean(sizes)
    run = 24 * mean  # the frames the previous policy fetched along with a missed one, for comparison
    print(f"\nrandom seeks from cold on a {proxy.width}x{proxy.height} proxy ({mean / 1024:.0f} KiB/frame); "
          f"a run of 24 frames around a seek would be {run / 2**20:.2f} MiB = {run * 8 / 20e6 * 1000:.0f} ms "
          f"at 20 Mbit/s")
    print(f"{'link':24} {'seek -> painted':24} {'bytes until painted':22} {'bytes per seek (all)':22}"
          f" {'index part':12} {'exact':6} throughput")
    for name, rows in r["links"].items():
        ms = [row["ms"] for row in rows]
        first = [row["bytesToPaint"] for row in rows]
        total = [row["bytes"] for row in rows]
        requests = statistics.median(row["requestsToPaint"] for row in rows)
        exact = sum(row["exact"] and row["ok"] for row in rows) / len(rows)
        print(f"{name:24} p50 {statistics.median(ms):5.0f} p95 {percentile(ms, 0.95):5.0f} ms"
              f"   p50 {kib(statistics.median(first))} ({requests:.0f} req)"
              f"   p50 {kib(statistics.median(total))} p95 {kib(percentile(total, 0.95))}"
              f" {kib(statistics.median(row['indexBytes'] for row in rows))} {exact:6.0%}"
              f" {rows[-1]['rate'] * 8 / 1e6:5.1f} Mbit/s")
    m = r["memory"]
    start, end = m["start"], m["end"]
    print(f"\nrenderer memory, page ready -> after {m['seeks']} random seeks (the largest of the"
          f" {end['renderers']:.0f} renderer processes of a browser of its own):")
    print(f"{'renderer RSS':24} {mib(start['rss'])} -> {mib(end['rss'])}   (all renderers {mib(end['rss_all'])})")
    print(f"{'  after memory pressure':24} {'':11}    {mib(m['pressed']['rss'])}"
          f"   (all renderers {mib(m['pressed']['rss_all'])})")
    print(f"{'JS heap used':24} {mib(start['js_heap'])} -> {mib(end['js_heap'])}")
    print(f"{'decoded cache':24} {mib(end['decoded'])} ({end['decoded_frames']:.0f} frames);"
          f" encoded cache {mib(end['encoded'])} ({end['encoded_frames']:.0f} frames)")
