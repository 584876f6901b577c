"""The player on the network: a seek fetches the wanted frame first and alone, prefetching follows the link's
measured throughput, and a slow link (Chromium's network emulation at 20 Mbit/s) still shows exact frames.

Requests are recorded from the browser's own request events; the frame on screen is read from its pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.live import LiveServer, Proxy, open_review, player_frame, shown_number

pytestmark = pytest.mark.browser

QUIET = "() => { const p = window.heaters.player; return !p.prefetching && p.pending.size === 0; }"


def frame_range(proxy: Proxy, frame: int) -> str:
    """The Range header asking for exactly ``frame``'s bytes of the proxy."""
    offset, size = proxy.index["offsets"][frame], proxy.index["sizes"][frame]
    return f"bytes={offset}-{offset + size - 1}"


class Recorder:
    """The proxy Range requests a page makes, and those that failed, in order."""

    def __init__(self, page: Any) -> None:
        self.ranges: list[str] = []
        self.failed: list[str] = []
        page.on("request", self.on_request)
        page.on("requestfailed", lambda request: self.failed.append(str(request.failure)))

    def on_request(self, request: Any) -> None:
        value = request.headers.get("range")
        if value and "/media/proxies/" in request.url:
            self.ranges.append(value)

    def clear(self) -> None:
        self.ranges.clear()
        self.failed.clear()


@pytest.fixture
def throttled() -> Iterator[Any]:
    """Turn a page's link into 20 Mbit/s down, 5 Mbit/s up, 20 ms latency (undone with its context)."""

    def throttle(page: Any) -> None:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "downloadThroughput": 20e6 / 8, "uploadThroughput": 5e6 / 8,
        })

    yield throttle


def seek_recorded(page: Any, recorder: Recorder, frame: int) -> list[str]:
    """Seek to ``frame`` from a quiet network; the Range requests made until it was painted."""
    page.wait_for_function(QUIET, timeout=10000)
    page.wait_for_timeout(100)
    recorder.clear()
    assert page.evaluate(f"window.heaters.player.seek({frame})") is True
    return list(recorder.ranges)


def test_a_seek_fetches_exactly_the_wanted_frame_first_and_alone(
    new_page: Any, server: LiveServer, proxy: Proxy, video_id: int
) -> None:
    page = new_page()
    recorder = Recorder(page)
    open_review(page, server, "alice", video_id)
    tried = []
    for frame in (75, 44, 19, 53, 87, 11, 26):
        page.wait_for_function(QUIET, timeout=10000)
        if page.evaluate(f"window.heaters.player.source.has({frame})"):
            continue  # fetched already (the filmstrip's thumbnails take frames too)
        tried.append(frame)
        before_paint = seek_recorded(page, recorder, frame)
        assert before_paint == [frame_range(proxy, frame)], frame
        assert player_frame(page) == shown_number(page) == frame
        # Then the frames around it follow, in their own requests, without asking for the wanted one again.
        page.wait_for_function(QUIET, timeout=10000)
        assert len(recorder.ranges) > 1
        assert recorder.ranges.count(frame_range(proxy, frame)) == 1
    assert len(tried) >= 4, tried
    # A frame already fetched by that prefetching costs no request at all.
    assert page.evaluate(f"window.heaters.player.source.has({tried[-1] + 1})")
    assert seek_recorded(page, recorder, tried[-1] + 1) == []
    assert shown_number(page) == tried[-1] + 1


def test_under_a_20_mbit_link_seeks_paint_the_right_frame_and_a_stale_prefetch_is_cancelled(
    new_page: Any, server: LiveServer, proxy: Proxy, video_id: int, throttled: Any
) -> None:
    page = new_page()
    recorder = Recorder(page)
    throttled(page)
    open_review(page, server, "alice", video_id)
    for frame in (80, 33, 61, 2, 47):
        page.wait_for_function(QUIET, timeout=10000)
        fetched = page.evaluate(f"window.heaters.player.source.has({frame})")
        assert seek_recorded(page, recorder, frame) == ([] if fetched else [frame_range(proxy, frame)])
        assert player_frame(page) == shown_number(page) == frame
    assert page.evaluate("window.heaters.player.source.link.samples") > 0
    # Prefetching paced by the link is cut short when the reviewer jumps elsewhere meanwhile (from a player
    # that has forgotten what it fetched, so the frames around 40 are not in memory).
    page.wait_for_function(QUIET, timeout=10000)
    page.evaluate("""async () => { const p = window.heaters.player;
      p.cache.clear(); p.source.bytes.clear();
      await p.seek(40);
      for (let i = 0; i < 500 && !p.prefetching; i++) await new Promise((r) => setTimeout(r, 1));
      window.stale = p.prefetching ? [...p.prefetching.frames] : null;
      await p.seek(85); }""")
    assert player_frame(page) == shown_number(page) == 85
    stale = page.evaluate("window.stale")
    assert stale and 85 not in stale, stale
    page.wait_for_timeout(200)
    assert any("ABORTED" in failure for failure in recorder.failed), recorder.failed
