"""``/api/live/videos``: what the open pages poll, and the marks that tell them to fetch themselves again."""

from __future__ import annotations

import re

from heaters.db.tables import Clip
from heaters.services import videos as videos_service
from heaters.services.review import now
from tests.server.conftest import Web


def page_mark(html: str, video_id: int) -> str:
    match = re.search(rf'data-progress="{video_id}" data-mark="([^"]*)"', html)
    assert match, f"the page has a progress box for video {video_id}"
    return match.group(1)


async def test_progress_is_in_words_with_the_time_left(reviewer: Web) -> None:
    encoding = reviewer.make_video(state="encoding", progress={
        "stage": "encode", "percent": 25.0, "frames": 250, "total": 1000, "seconds": 10.0})
    ready = reviewer.make_video()
    answer = (await reviewer.client.get("/api/live/videos")).json()
    by_id = {v["id"]: v for v in answer["videos"]}
    assert by_id[encoding]["status"]["text"] == "encode 25% · 30 s left"
    assert by_id[encoding]["status"]["percent"] == 25.0 and not by_id[encoding]["status"]["finished"]
    assert by_id[ready]["status"]["text"] == "done" and by_id[ready]["duration"] == "0:03"
    one = (await reviewer.client.get(f"/api/live/videos?video={ready}")).json()["videos"]
    assert [v["id"] for v in one] == [ready]
    assert (await reviewer.client.get("/api/live/videos?video=0")).status_code == 400


async def test_the_mark_the_page_was_rendered_with_changes_with_state_cuts_and_clip_updates(reviewer: Web) -> None:
    video = reviewer.make_video()

    async def marks() -> tuple[str, str, str]:
        dashboard = page_mark((await reviewer.client.get("/")).text, video)
        timeline = page_mark((await reviewer.client.get(f"/videos/{video}")).text, video)
        polled = (await reviewer.client.get(f"/api/live/videos?video={video}")).json()["videos"][0]["mark"]
        return dashboard, timeline, polled

    first = await marks()
    assert len(set(first)) == 1, "the pages and the poll agree on the mark"
    progress_only = {"stage": "detect", "percent": 100.0, "cuts": 2}
    reviewer.call(videos_service.set_state, video, "ready", progress=progress_only)
    assert await marks() == first, "progress alone is redrawn in place, not a reason to fetch the page"
    clip = reviewer.clips(video)[0]["id"]
    # As the export stage's finish writes it: every writer of a clip stamps updated_at.
    reviewer.call(lambda: Clip.update({Clip.state: "exported", Clip.updated_at: now()}).where(Clip.id == clip))
    after_export = await marks()
    assert after_export == (after_export[0],) * 3 and after_export != first  # an export bumps no version
    reviewer.call(videos_service.set_state, video, "encode_failed")
    assert (await marks())[0] != after_export[0]


async def test_a_page_fetching_itself_again_leaves_messages_for_the_next_visit(operator: Web) -> None:
    failed = operator.make_video(state="download_failed", error="HTTP 404")
    await operator.client.post(f"/videos/{failed}/retry", data={"_csrf_token": operator.csrf},
                               headers={"referer": "http://testserver.local/"}, follow_redirects=False)
    again = await operator.client.get("/", headers={"x-heaters-live": "1"})
    assert "sent back to its failed stage" not in again.text
    assert "sent back to its failed stage" in (await operator.client.get("/")).text


async def test_the_poster_is_served_as_a_jpeg_and_named_on_the_pages(reviewer: Web) -> None:
    from heaters.storage import create_storage

    video = reviewer.make_video()
    html = (await reviewer.client.get("/")).text
    assert "poster.jpg" not in html, "a video without a poster shows none"
    key = f"proxies/{video}.poster.jpg"
    create_storage(reviewer.settings).put_bytes(key, b"\xff\xd8\xff\xe0 a poster", "proxy_index")
    before = page_mark(html, video)
    reviewer.call(videos_service.set_state, video, "ready", poster_key=key)
    html = (await reviewer.client.get("/")).text
    assert f'src="/media/{key}"' in html and page_mark(html, video) != before
    assert f'src="/media/{key}"' in (await reviewer.client.get(f"/videos/{video}")).text
    assert (await reviewer.client.get(f"/api/videos/{video}")).json()["poster_url"] == f"/media/{key}"
    served = await reviewer.client.get(f"/media/{key}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.content.startswith(b"\xff\xd8")
