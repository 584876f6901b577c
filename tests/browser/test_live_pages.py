"""The dashboard and the video page follow a video through the pipeline without a reload: its progress with the
time left, and its state when a stage ends."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any

import pytest

from heaters.settings import Settings
from tests.browser.live import PASSWORD, LiveServer, Proxy, db_call, login

pytestmark = pytest.mark.browser


def encoding_video(settings: Settings, progress: dict[str, Any]) -> int:
    async def make() -> int:
        from heaters.services import videos

        video_id = await videos.create_video("Being encoded", "https://example.invalid/long", state="encoding",
                                             fps=Fraction(25), total_frames=1000, width=320, height=180)
        await videos.set_state(video_id, "encoding", progress=progress)
        return video_id

    return db_call(settings, make)


def set_video(settings: Settings, video_id: int, state: str, progress: dict[str, Any]) -> None:
    async def change() -> None:
        from heaters.services import videos

        await videos.set_state(video_id, state, progress=progress)

    db_call(settings, change)


def progress_text(page: Any, video_id: int) -> str:
    return str(page.text_content(f'[data-progress="{video_id}"] [data-progress-text]')).strip()


@pytest.mark.parametrize("path", ["/", "/videos/{video}"], ids=["dashboard", "video-page"])
def test_progress_and_state_change_on_the_open_page(
    new_page: Any, server: LiveServer, browser_settings: Settings, path: str
) -> None:
    video = encoding_video(browser_settings, {"stage": "encode", "percent": 10.0, "frames": 100, "total": 1000,
                                              "seconds": 5.0})
    page = new_page()
    login(page, server, "alice", path.format(video=video))
    assert progress_text(page, video) == "encode 10% · 45 s left"
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    set_video(browser_settings, video, "encoding", {"stage": "encode", "percent": 50.0, "frames": 500,
                                                    "total": 1000, "seconds": 20.0})
    page.wait_for_function(
        f"""document.querySelector('[data-progress="{video}"] [data-progress-text]').textContent
            === 'encode 50% · 20 s left'""", timeout=10000)
    width = page.evaluate(f"""document.querySelector('[data-progress="{video}"] .progress > span').style.width""")
    assert width == "50%"

    set_video(browser_settings, video, "detecting", {"stage": "detect", "percent": 0.0})
    badge = f'[data-video="{video}"] .badge' if path == "/" else "h1 .badge"
    page.wait_for_function(f"document.querySelector('{badge}').textContent.trim() === 'detecting'", timeout=10000)
    assert page.evaluate("window.sameDocument") is True, "the page changed without reloading"
    assert progress_text(page, video) == "detect 0%"


def with_poster(settings: Settings, video_id: int) -> None:
    """Make the video's poster as the detect stage does, from its proxy in storage."""

    async def make() -> None:
        from heaters.db.tables import SourceVideo
        from heaters.services.stages import StageContext
        from heaters.services.stages.poster import make_poster
        from heaters.services.videos import get_video

        key = await make_poster(StageContext.from_settings(settings), await get_video(video_id))
        assert key
        await SourceVideo.update({SourceVideo.poster_key: key}).where(SourceVideo.id == video_id)

    db_call(settings, make)


@pytest.mark.parametrize("path", ["/", "/videos/{video}"], ids=["dashboard", "video-page"])
def test_a_video_shows_its_poster_and_duration(
    new_page: Any, server: LiveServer, browser_settings: Settings, video_id: int, path: str
) -> None:
    with_poster(browser_settings, video_id)
    page = new_page()
    login(page, server, "alice", path.format(video=video_id))
    scope = f'[data-video="{video_id}"] ' if path == "/" else ""
    poster = f"{scope}img[src='/media/proxies/{video_id}.poster.jpg']"
    page.wait_for_function(f"""(() => {{ const img = document.querySelector({json.dumps(poster)});
        return img && img.complete && img.naturalWidth === 320; }})()""", timeout=10000)
    # 90 frames at 30 fps
    assert page.text_content(f"{scope}[data-duration]").strip() == "0:03"


def test_an_upload_says_which_video_it_made_and_links_to_it(
    new_page: Any, server: LiveServer, browser_settings: Settings, proxy: Proxy
) -> None:
    async def operator() -> None:
        from heaters.services.users import add_user

        await add_user("olga", PASSWORD, "operator")

    db_call(browser_settings, operator)
    page = new_page()
    login(page, server, "olga", "/")
    page.evaluate("window.sameDocument = true")
    page.set_input_files("#ingest-form input[name=file]", str(proxy.path))
    page.fill("#ingest-form input[name=title]", "Harbour at dusk")
    page.click("#ingest-form button[type=submit]")
    page.wait_for_selector("#ingest-status[data-outcome=uploaded]", timeout=20000)
    video = int(page.get_attribute("#ingest-status", "data-video") or 0)
    status = page.text_content("#ingest-status") or ""
    assert f"video {video} “Harbour at dusk”" in status and "encoding has started" in status
    assert page.get_attribute("#ingest-status a", "href") == f"/videos/{video}"
    # The new video joins the table without a reload, with what it waits for.
    page.wait_for_selector(f'[data-progress="{video}"]', timeout=10000)
    assert progress_text(page, video) == "waiting for download"
    assert page.evaluate("window.sameDocument") is True
    page.click("#ingest-status a")
    page.wait_for_url(f"**/videos/{video}")
    assert "Harbour at dusk" in (page.text_content("h1") or "")


def test_an_exported_clip_has_a_download_link_to_its_mp4(
    new_page: Any, server: LiveServer, browser_settings: Settings, video_id: int, proxy: Proxy
) -> None:
    data = proxy.path.read_bytes()  # a real MP4 stands in for the export

    async def export() -> int:
        from heaters.db.tables import Clip
        from heaters.services.videos import live_clips
        from heaters.storage import create_storage

        clip = (await live_clips(video_id))[1]
        key = f"clips/{video_id}/{clip['id']}.mp4"
        create_storage(browser_settings).put_bytes(key, data, "clip")
        await Clip.update({Clip.state: "exported", Clip.export_key: key}).where(Clip.id == clip["id"])
        return int(clip["id"])

    clip = db_call(browser_settings, export)
    page = new_page()
    login(page, server, "alice", f"/videos/{video_id}")
    links = page.eval_on_selector_all("[data-download]", "links => links.map(a => a.dataset.download)")
    assert links == [str(clip)], "only the exported clip has a download link"
    fetched = page.evaluate("""async () => {
        const response = await fetch(document.querySelector('[data-download]').href);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return {type: response.headers.get('content-type'), size: bytes.length,
                brand: String.fromCharCode(...bytes.slice(4, 8)),
                sha: Array.from(digest, b => b.toString(16).padStart(2, '0')).join('')};
    }""")
    assert fetched == {"type": "video/mp4", "size": len(data), "brand": "ftyp",
                       "sha": hashlib.sha256(data).hexdigest()}
    with page.expect_download() as download:
        page.click("[data-download]")
    assert download.value.suggested_filename == "Synthetic review video clip 2 (frames 30-59).mp4"
