"""The HTML pages: what they show, their forms, and the context the review page gets."""

from __future__ import annotations

import json
import re

import numpy as np

from heaters.db.tables import Artifact, Clip, Embedding
from heaters.services import claims
from tests.server.conftest import Web


def review_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="review-data">(.*?)</script>', html, re.S)
    assert match, "the review page carries its data block"
    return json.loads(match.group(1))


async def test_dashboard_for_a_reviewer(reviewer: Web) -> None:
    video = reviewer.make_video()
    reviewer.make_video(state="encode_failed", error="x264 said no")
    page = await reviewer.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f'<tr data-video="{video}">' in html and "pending review 3" in html
    assert "x264 said no" in html  # failures are visible to everyone
    assert "/retry" not in html and 'action="/ingest"' not in html  # but only operators act on them
    assert 'href="/users"' not in html


async def test_dashboard_for_an_operator_retries_and_ingests(operator: Web) -> None:
    failed = operator.make_video(state="download_failed", error="HTTP 404")
    html = (await operator.client.get("/")).text
    assert f'action="/videos/{failed}/retry"' in html and 'action="/ingest"' in html
    assert 'enctype="multipart/form-data"' in html

    retried = await operator.client.post(f"/videos/{failed}/retry", data={"_csrf_token": operator.csrf},
                                         headers={"referer": "http://testserver.local/"})
    assert retried.status_code == 200 and f"video {failed} sent back to its failed stage" in retried.text
    assert operator.video(failed)["state"] == "new"
    # The message is shown once.
    assert "sent back" not in (await operator.client.get("/")).text

    queued = await operator.client.post("/ingest", data={"url": "https://example.invalid/a.mp4",
                                                         "_csrf_token": operator.csrf})
    assert "queued for download" in queued.text
    refused = await operator.client.post("/ingest", data={"url": "file:///etc/passwd", "_csrf_token": operator.csrf})
    assert "is not an http(s) URL" in refused.text

    uploaded = await operator.client.post("/ingest", data={"_csrf_token": operator.csrf, "title": "Holiday"},
                                          files={"file": ("clip.mp4", b"\x00" * 1000, "video/mp4")})
    assert uploaded.status_code == 200 and "queued for download" in uploaded.text
    titles = [v["title"] for v in (await operator.client.get("/api/videos")).json()["videos"]]
    assert "Holiday" in titles


async def test_review_queue_page_claims_and_redirects(reviewer: Web) -> None:
    video = reviewer.make_video()
    response = await reviewer.client.get("/review", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/review/{video}"
    assert reviewer.call(claims.claim_info, video)["review_user"] == "rita"
    reviewer.call(claims.release, video, "rita")
    reviewer.call(claims.claim, video, "sam", 300)
    empty = await reviewer.client.get("/review")
    assert empty.status_code == 200 and "Nothing to review" in empty.text


async def test_review_page_context(reviewer: Web) -> None:
    video = reviewer.make_video()
    clips = reviewer.clips(video)
    page = await reviewer.client.get(f"/review/{video}")
    assert page.status_code == 200
    data = review_data(page.text)
    assert data["video"] == {"id": video, "title": "video with cuts (30, 60)", "fps": "30000/1001",
                             "total_frames": 90, "width": 160, "height": 90, "cut_version": 0,
                             "proxy_url": "", "video_url": "", "index_url": "", "peaks_url": "",
                             "has_audio": False}
    assert [c["id"] for c in data["clips"]] == [c["id"] for c in clips]
    assert data["start_clip_id"] == clips[0]["id"] and data["held_by"] == "" and data["lease_seconds"] == 300
    assert data["webcodecs_enabled"] is True
    # The page learns which clips are frozen from the server's pipeline table, not from a copy in the script.
    # (``encoding``: the unencoded tail of a video still being encoded in segments.)
    assert data["locked_states"] == ["embed_failed", "embedded", "encoding", "exported", "exporting",
                                     "keyframe_failed", "keyframed"]
    assert reviewer.call(claims.claim_info, video)["review_user"] == "rita"  # opening claims a free video
    assert f'<meta name="csrf-token" content="{reviewer.csrf}">' in page.text

    chosen = review_data((await reviewer.client.get(f"/review/{video}", params={"clip": clips[2]["id"]})).text)
    assert chosen["start_clip_id"] == clips[2]["id"]


async def test_review_page_of_a_video_held_by_someone_else(reviewer: Web) -> None:
    video = reviewer.make_video()
    reviewer.call(claims.claim, video, "sam", 300)
    data = review_data((await reviewer.client.get(f"/review/{video}")).text)
    assert data["held_by"] == "sam"
    assert reviewer.call(claims.claim_info, video)["review_user"] == "sam"  # not taken over


async def test_review_page_errors_are_html(reviewer: Web) -> None:
    unready = reviewer.make_video(state="encoding")
    response = await reviewer.client.get(f"/review/{unready}")
    assert response.status_code == 409 and response.headers["content-type"].startswith("text/html")
    assert "not ready for review" in response.text
    missing = await reviewer.client.get("/review/999")
    assert missing.status_code == 404 and "video 999 does not exist" in missing.text and "<html" in missing.text


async def test_video_timeline(reviewer: Web) -> None:
    video = reviewer.make_video()
    first = reviewer.clips(video)[0]["id"]
    await reviewer.client.post(f"/api/clips/{first}/approve")
    html = (await reviewer.client.get(f"/videos/{video}")).text
    bars = re.findall(r'<a role="listitem" href="/review/\d+\?clip=(\d+)" data-state="(\w+)"', html)
    assert bars == [(str(c["id"]), c["state"]) for c in reviewer.clips(video)]
    assert bars[0][1] == "approved"
    assert "left: 0.0000%; width: 33.3333%" in html and "left: 66.6667%; width: 33.3333%" in html
    assert "approve" in html  # the audit log


async def test_similar_page_ranks_by_embedding(reviewer: Web) -> None:
    video = reviewer.make_video(total=120, cuts=(30, 60, 90))
    ids = [c["id"] for c in reviewer.clips(video)]
    vectors = {ids[0]: [1, 0, 0], ids[1]: [0.9, 0.1, 0], ids[2]: [0, 1, 0], ids[3]: [0.6, 0.4, 0]}

    async def embed() -> None:
        for clip, v in vectors.items():
            unit = np.asarray(v, dtype="<f4") / np.linalg.norm(v)
            await Embedding.insert(Embedding(clip=clip, model="colour-layout", dim=3, vector=unit.tobytes()))
        await Artifact.insert(Artifact(clip=ids[1], kind="keyframe", key=f"keyframes/{ids[1]}/0.jpg", frame=40))
        await Clip.update({Clip.state: "embedded"}).where(Clip.id.is_in(ids))

    reviewer.call(embed)
    body = (await reviewer.client.get(f"/api/clips/{ids[0]}/similar", params={"k": 2})).json()
    assert body["embedded"] is True
    assert [s["id"] for s in body["similar"]] == [ids[1], ids[3]]
    assert body["similar"][0]["score"] > body["similar"][1]["score"] > 0.5
    html = (await reviewer.client.get(f"/clips/{ids[0]}/similar")).text
    assert html.index(f'data-clip="{ids[1]}"') < html.index(f'data-clip="{ids[3]}"') < html.index(
        f'data-clip="{ids[2]}"')
    assert f'src="/media/keyframes/{ids[1]}/0.jpg"' in html

    not_embedded = reviewer.make_video()
    other = reviewer.clips(not_embedded)[0]["id"]
    assert "not embedded yet" in (await reviewer.client.get(f"/clips/{other}/similar")).text


async def test_theme_and_layout(reviewer: Web) -> None:
    html = (await reviewer.client.get("/")).text
    assert 'id="theme-toggle"' in html and 'localStorage.getItem("heaters-theme")' in html
    assert '<link rel="stylesheet" href="/static/css/heaters.css">' in html
    css = (await reviewer.client.get("/static/css/heaters.css")).text
    assert "@media (prefers-color-scheme: dark)" in css and ':root[data-theme="dark"]' in css
    login = await reviewer.client.get("/login", follow_redirects=False)
    assert login.status_code == 303  # already logged in


async def test_a_video_kept_with_a_warning_says_so(reviewer: Web) -> None:
    warning = "cut.mkv decodes to 111 frames (4.4 s) but its container promises 8.0 s: the file is truncated"
    video = reviewer.make_video(warning=warning)
    html = (await reviewer.client.get(f"/videos/{video}")).text
    assert 'class="flash warning"' in html and "the file is truncated" in html
    api = (await reviewer.client.get(f"/api/videos/{video}")).json()
    assert api["warning"] == warning
    plain = reviewer.make_video()
    assert 'class="flash warning"' not in (await reviewer.client.get(f"/videos/{plain}")).text


async def test_the_video_page_names_a_local_source_by_its_file_name_only(reviewer: Web) -> None:
    local = reviewer.make_video(source="/srv/private/incoming/talk.mp4")
    html = (await reviewer.client.get(f"/videos/{local}")).text
    assert "talk.mp4" in html and "/srv/private" not in html
    remote = reviewer.make_video()
    assert 'href="https://example.invalid/v"' in (await reviewer.client.get(f"/videos/{remote}")).text


async def test_a_finished_video_shows_done_not_its_last_stage_progress(reviewer: Web) -> None:
    reviewer.make_video(progress={"stage": "detect", "percent": 100.0})
    html = (await reviewer.client.get("/")).text
    assert "detect 100%" not in html and ">done<" in html
