"""Sound in review, in headless Chromium: the proxy's AAC track decoded by WebCodecs and scheduled on the
same clock as the pictures. The test video is silent but for a click on frames that also flash."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import LiveServer, Proxy, add_video, db_call, make_proxy, open_review, wait_frame

pytestmark = pytest.mark.browser

CLICKS = (12, 45, 75)  # one per clip of [0,30) [30,60) [60,90)

# Log every paint (frame, time), and tap the player's output with an AudioWorklet (it runs on the audio
# thread, so a busy page cannot make it miss a click) to find when each click is heard, as a page time.
LISTEN = """async () => {
  const player = window.heaters.player, audio = player.audio, ctx = audio.context();
  window.painted = []; window.heardClicks = []; window.clickTimes = [];
  addEventListener("keydown", () => { window.pressed ??= performance.now(); }, { capture: true });
  player.subscribe((f) => window.painted.push([f, performance.now()]));
  const code = `registerProcessor("click-tap", class extends AudioWorkletProcessor {
    constructor() { super(); this.quiet = true; }
    process(inputs) {
      const x = inputs[0] && inputs[0][0];
      if (!x) return true;
      let hit = -1;
      for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > 0.3) { hit = i; break; }
      if (hit >= 0 && this.quiet) this.port.postMessage(currentTime + hit / sampleRate);
      this.quiet = hit < 0;
      return true;
    }
  });`;
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
  const tap = new AudioWorkletNode(ctx, "click-tap");
  tap.port.onmessage = ({ data: at }) => {
    window.clickTimes.push(at);
    const stamp = ctx.getOutputTimestamp();
    window.heardClicks.push(stamp.performanceTime + (at - stamp.contextTime) * 1000);
  };
  audio.output.connect(tap); tap.connect(ctx.destination);
  window.tap = tap;
}"""


@pytest.fixture(scope="module")
def sound_proxy(tmp_path_factory: pytest.TempPathFactory, browser_settings: Settings) -> Proxy:
    return make_proxy(tmp_path_factory.mktemp("sound"), clicks=CLICKS)


@pytest.fixture
def sound_video(browser_settings: Settings, sound_proxy: Proxy) -> int:
    return db_call(browser_settings, lambda: add_video(browser_settings, sound_proxy, title="Clicks"))


def test_the_proxy_carries_aac_with_a_packet_index_and_peaks(sound_proxy: Proxy) -> None:
    audio = sound_proxy.index["audio"]
    assert (audio["codec"], audio["sample_rate"]) == ("mp4a.40.2", 48000)
    assert len(audio["offsets"]) == len(audio["sizes"]) == len(audio["pts"]) >= 3 * 48000 // 1024
    peaks = sound_proxy.index["peaks"]
    assert peaks["rate"] == 100 and peaks["bins"] >= 300
    assert sound_proxy.peaks is not None and sound_proxy.peaks.stat().st_size == peaks["bins"] * peaks["channels"] * 2


def test_sound_plays_with_the_picture_within_a_frame(
    new_page: Any, server: LiveServer, sound_video: int
) -> None:
    page = new_page()
    open_review(page, server, "alice", sound_video)
    assert page.evaluate("window.heaters.player.audio !== null")
    page.evaluate(LISTEN)
    page.keyboard.press("Space")
    # The clip [0, 30) loops: its click on frame 12 sounds once a loop. Pause a little after the third paint of
    # frame 12, not at a fixed time, which could fall between a click and its paint.
    page.wait_for_function("window.painted.filter(([f]) => f === 12).length >= 3", timeout=10_000)
    page.wait_for_timeout(200)
    page.keyboard.press("Space")
    paints = [t for f, t in page.evaluate("window.painted") if f == 12]
    heard = page.evaluate("window.heardClicks")
    assert paints and heard, (paints, heard)
    assert len(heard) <= 4, "sound of frames outside the looping clip was heard"
    # Each click heard against the paint of frame 12 nearest to it. A loaded machine may drop a paint (a later
    # frame overtakes it): a click with no paint of its frame within half a loop has nothing to be measured
    # against, and is left out; one loop apart would look like a lag of a whole second.
    offsets = sorted(min((h - p for p in paints), key=abs) for h in heard)
    print(f"A/V offsets at frame 12: {[round(o, 1) for o in offsets]} ms")
    measured = [o for o in offsets if abs(o) < 500]
    assert measured, f"no click was heard within half a loop of a paint of its frame: {offsets} ms"
    # Within a frame period; a loaded machine can paint a frame late once, so the best of the loops must be
    # within one period and the median within two.
    frame_ms = 1000 / 30
    median = measured[len(measured) // 2]
    assert min(abs(o) for o in measured) < frame_ms, f"clicks heard {offsets} ms after the paint of their frame"
    assert abs(median) < 2 * frame_ms, f"the click on frame 12 was heard {median:.1f} ms after its paint"
    # The first loop is heard too: its sound was decoded when the clip opened, before the first gesture.
    first = heard[0] - page.evaluate("window.pressed")
    assert first < 1000, f"the first click was heard {first:.0f} ms after Space: the first loop was silent"
    # The sound goes round the clip by itself: a click every 30 frames, with no pause at the restart. Measured
    # on the audio clock, which the picture follows: a loaded machine can stall the audio output, and then a
    # loop takes longer in page time, picture and sound alike.
    times = page.evaluate("window.clickTimes")
    gaps = [round((b - a) * 1000, 1) for a, b in itertools.pairwise(times)]
    assert gaps and all(abs(g - 1000) < 2 for g in gaps), f"clicks {gaps} ms apart in audio time, not one loop"


def test_stepping_plays_a_short_scrub_and_mute_silences_it(
    new_page: Any, server: LiveServer, sound_video: int
) -> None:
    page = new_page()
    open_review(page, server, "alice", sound_video)
    page.evaluate(LISTEN)
    page.evaluate("window.heaters.player.seek(11)")
    wait_frame(page, 11)
    page.keyboard.press("ArrowRight")  # onto frame 12: its click sounds
    wait_frame(page, 12)
    # The scrub's sound is fetched and decoded after the step: on a machine busy with other tests that has
    # taken over 3 s (the time it takes is not what this test measures).
    page.wait_for_function("window.heardClicks.length > 0", timeout=10_000)
    page.keyboard.press("Shift+M")
    assert page.evaluate("window.heaters.player.muted") is True
    assert page.get_attribute("[data-action=mute]", "aria-pressed") == "true"
    page.evaluate("window.heardClicks = []")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    wait_frame(page, 12)
    page.wait_for_timeout(300)
    assert page.evaluate("window.heardClicks") == []
