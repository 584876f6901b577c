"""A video encoded in segments, reviewed in headless Chromium against a live server: the WebCodecs page hears its
one review track (and takes it up when it arrives after the pictures), and the ``<video>`` fallback plays and
seeks the virtual MP4 the server makes of its pieces and sound, which PyAV also reads over HTTP frame exactly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from heaters.db.tables import ReviewAudio, Segment
from heaters.media.synthetic import make_video, read_frame_number
from heaters.settings import Settings
from tests.browser.live import PASSWORD, LiveServer, db_call, open_review, shown_number, wait_frame
from tests.browser.test_sound import LISTEN

pytestmark = pytest.mark.browser

SHOTS = (40, 45, 50, 35, 40, 40)  # 250 frames at 25 fps with a tone; 1 s segments put seams inside shots


def _segmented(settings: Settings, workdir: Path, *, sound_done: bool = True) -> int:
    """A video encoded in 1 s segments, detected and ready (its review track made, or still to come)."""
    from heaters.services import stages
    from heaters.services.ingest import ingest
    from heaters.services.stages import StageContext

    ctx = StageContext.from_settings(replace(settings, segment_seconds=1.0, proxy_preset="ultrafast"))
    truth = make_video(workdir / "long.mp4", shot_frames=SHOTS, size=(160, 90), audio=True)

    async def build() -> int:
        video_id = await ingest(ctx.settings, ctx.storage, str(truth.path), title="Segmented")
        assert await stages.download(ctx, video_id) == "done"
        assert await stages.encode(ctx, video_id) == "done"
        for row in await Segment.select(Segment.id).where(Segment.source_video == video_id):
            assert await stages.encode_segment(ctx, row["id"]) == "done"
        if sound_done:
            await _finish_sound(ctx, video_id)
        assert await stages.detect(ctx, video_id) == "done"
        return video_id

    return db_call(settings, build)


async def _finish_sound(ctx: Any, video_id: int) -> None:
    from heaters.services import stages

    track = await ReviewAudio.select(ReviewAudio.id).where(ReviewAudio.source_video == video_id).first()
    assert track is not None and await stages.encode_review_audio(ctx, track["id"]) == "done"


@pytest.fixture(scope="module")
def segmented(browser_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> int:
    return _segmented(browser_settings, tmp_path_factory.mktemp("segmented"))


def _cookie(server: LiveServer) -> str:
    from tests.server.live import login

    with httpx.Client(base_url=server.url) as client:
        assert login(client, "alice", PASSWORD).status_code == 303
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def test_the_virtual_mp4_reads_frame_exactly_over_http(server: LiveServer, segmented: int) -> None:
    cookie = _cookie(server)
    url = f"{server.url}/media/proxies/{segmented}/review.mp4"
    with httpx.Client(headers={"Cookie": cookie}) as client:
        head = client.head(url)
        assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"
        size = int(head.headers["content-length"])
        part = client.get(url, headers={"Range": "bytes=4-11"})
        assert part.status_code == 206 and part.content == b"ftypisom"
        assert part.headers["content-range"] == f"bytes 4-11/{size}"
        assert client.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
        whole = client.get(url)
        assert whole.status_code == 200 and len(whole.content) == size
        # Named with the index it is made from: a player holding an older one is refused, not fed other bytes.
        shown = client.get(f"{server.url}/api/videos/{segmented}").json()
        assert client.head(server.url + shown["video_url"]).headers["content-length"] == str(size)
        peaks = client.get(server.url + shown["peaks_url"])
        assert peaks.status_code == 200 and len(peaks.content) == 2 * 1001  # mono, 100 bins a second, 10 s
        assert client.get(f"{url}?v=index-150", headers={"Range": "bytes=0-7"}).status_code == 404
    options = {"headers": f"Cookie: {cookie}\r\n"}
    with av.open(url, options=options) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (audio.codec_context.name, audio.codec_context.sample_rate) == ("aac", 48000)
        numbers = [read_frame_number(f.to_ndarray(format="rgb24")) for f in container.decode(video)]
    assert numbers == list(range(sum(SHOTS)))
    with av.open(url, options=options) as container:
        audio = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio))
    assert abs(samples - sum(SHOTS) / 25 * 48000) < 2048  # the whole duration, no gap at the nine seams
    with av.open(url, options=options) as container:
        video = container.streams.video[0]
        assert video.time_base is not None
        container.seek(round(137 / 25 / video.time_base), stream=video, backward=True)
        first = next(container.decode(video))
        assert read_frame_number(first.to_ndarray(format="rgb24")) == 137


def test_the_fallback_plays_and_seeks_a_segmented_video_with_sound(
    new_page: Any, fallback_server: LiveServer, segmented: int
) -> None:
    page = new_page()
    open_review(page, fallback_server, "alice", segmented)
    assert page.evaluate("window.heaters.player.kind") == "video"
    assert f"/media/proxies/{segmented}/review.mp4?v=index-250" in page.evaluate(
        "document.getElementById('player-video').currentSrc"
    )
    assert page.evaluate("document.getElementById('player-video').duration") == pytest.approx(10, abs=0.1)
    for frame in (137, 24, 25, 249):  # across seams, and the last frame
        page.evaluate(f"window.heaters.player.seek({frame})")
        wait_frame(page, frame, timeout=10000)
        assert shown_number(page, "#player-video") == frame
    page.evaluate("window.heaters.player.seek(40)")
    wait_frame(page, 40, timeout=10000)
    page.keyboard.press("Space")
    page.wait_for_function("window.heaters.player.frame > 50", timeout=10000)
    page.keyboard.press("Space")
    # Chromium decoded the track's sound while it played the pictures.
    assert page.evaluate("document.getElementById('player-video').webkitAudioDecodedByteCount") > 0


def test_the_page_hears_a_segmented_video_and_draws_its_waveform(
    new_page: Any, server: LiveServer, segmented: int
) -> None:
    page = new_page()
    open_review(page, server, "alice", segmented)
    assert page.evaluate("window.heaters.player.kind") == "webcodecs"
    assert page.evaluate("window.heaters.player.audio !== null")
    page.wait_for_function("document.body.dataset.waveform === 'true'", timeout=10000)
    page.evaluate(LISTEN)
    page.keyboard.press("Space")
    page.wait_for_function("window.heardClicks.length > 0", timeout=5000)  # the tone is heard
    page.keyboard.press("Space")


def test_sound_that_arrives_after_the_page_opened_is_taken_up(
    new_page: Any, server: LiveServer, browser_settings: Settings, tmp_path: Path
) -> None:
    from heaters.services.stages import StageContext

    video_id = _segmented(browser_settings, tmp_path, sound_done=False)
    page = new_page()
    open_review(page, server, "alice", video_id)
    assert page.evaluate("window.heaters.player.audio") is None
    assert page.evaluate("document.body.dataset.sound") == "no"
    ctx = StageContext.from_settings(browser_settings)
    db_call(browser_settings, lambda: _finish_sound(ctx, video_id))
    page.evaluate("window.heaters.player.seek(200)")  # frames not fetched yet: their index block is asked again
    wait_frame(page, 200, timeout=10000)
    page.wait_for_function("window.heaters.player.audio !== null", timeout=10000)
    page.wait_for_function("document.body.dataset.sound === 'yes'", timeout=5000)
    page.wait_for_function("document.body.dataset.waveform === 'true'", timeout=10000)


def test_the_fallback_takes_the_new_mp4_when_the_sound_arrives(
    new_page: Any, fallback_server: LiveServer, browser_settings: Settings, tmp_path: Path
) -> None:
    from heaters.services.stages import StageContext

    video_id = _segmented(browser_settings, tmp_path, sound_done=False)
    page = new_page()
    open_review(page, fallback_server, "alice", video_id)
    src = "document.getElementById('player-video').currentSrc"
    before = page.evaluate(src)
    assert "review.mp4?v=index-250" in before and ".audio" not in before
    page.evaluate("window.heaters.player.seek(100)")
    wait_frame(page, 100, timeout=10000)
    ctx = StageContext.from_settings(browser_settings)
    db_call(browser_settings, lambda: _finish_sound(ctx, video_id))
    # The element asks for its file again, past its cache (as it does for any part it has not buffered; this
    # small file is buffered whole): the old one is refused, the player takes the new one, with sound.
    page.evaluate("(el => { el.src = el.currentSrc + '&again=1'; })(document.getElementById('player-video'))")
    page.wait_for_function(f"{src}.includes('index-250.audio')", timeout=10000)
    page.wait_for_function("document.getElementById('player-video').readyState >= 2", timeout=10000)
    page.evaluate("window.heaters.player.seek(120)")
    wait_frame(page, 120, timeout=10000)
    assert shown_number(page, "#player-video") == 120
    page.keyboard.press("Space")
    page.wait_for_function("window.heaters.player.frame > 130", timeout=10000)
    page.keyboard.press("Space")
    assert page.evaluate("document.getElementById('player-video').webkitAudioDecodedByteCount") > 0
