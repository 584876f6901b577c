"""Committed means success, repeated means once, private means refused: the API at its edges."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from heaters.settings import Settings
from tests.server.conftest import Web, open_web
from tests.server.live import RedisServer


async def test_committed_actions_succeed_while_the_task_queue_is_down(
    db: Settings, own_redis: RedisServer
) -> None:
    async for web in open_web(replace(db, redis_url=own_redis.url)):
        web.add_user("otto", "operator")
        await web.login("otto")
        video = web.make_video()
        clip = web.clips(video)[0]["id"]
        own_redis.stop()  # the broker was connected at startup; now it is gone

        records = Recorder()
        logging.getLogger("heaters.services.queue").addHandler(records)  # the app configures the root logger
        try:
            approved = await web.client.post(f"/api/clips/{clip}/approve")
            created = await web.client.post("/api/videos", json={"url": "https://example.com/a.mp4"})
            again = await web.client.post("/api/videos", json={"url": "https://example.com/b.mp4"})
        finally:
            logging.getLogger("heaters.services.queue").removeHandler(records)
        assert approved.status_code == 200, approved.text
        assert created.status_code == 201 and again.status_code == 201, created.text
        assert web.call(_states, video) == ["approved", "pending_review", "pending_review"]
        outage = [r for r in records.records if "unreachable" in r.getMessage()]
        assert len(outage) == 1  # logged once per outage, not per message


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _states(video: int) -> list[str]:
    from heaters.services import videos

    return [c["state"] for c in await videos.live_clips(video)]


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_video(operator: Web) -> None:
    first = await operator.client.post("/api/videos", json={"url": "https://example.com/a.mp4"},
                                       headers={"Idempotency-Key": "k-1"})
    again = await operator.client.post("/api/videos", json={"url": "https://example.com/a.mp4"},
                                       headers={"Idempotency-Key": "k-1"})
    other = await operator.client.post("/api/videos", json={"url": "https://example.com/a.mp4"},
                                       headers={"Idempotency-Key": "k-2"})
    assert first.status_code == 201 and again.status_code == 201, first.text
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    upload = {"file": ("a.mp4", b"\x00" * 1000, "video/mp4")}
    up1 = await operator.client.post("/api/videos", files=upload, headers={"Idempotency-Key": "u-1"})
    up2 = await operator.client.post("/api/videos", files=upload, headers={"Idempotency-Key": "u-1"})
    assert up1.json()["id"] == up2.json()["id"]
    listed = (await operator.client.get("/api/videos")).json()["videos"]
    assert len(listed) == 3


async def test_an_upload_that_cannot_be_stored_leaves_no_video(db: Settings, tmp_path: Path) -> None:
    root = tmp_path / "storage"
    async for web in open_web(replace(db, storage_dir=root)):
        web.add_user("otto", "operator")
        await web.login("otto")
        root.rmdir()
        root.write_text("storage cannot write under a file")
        response = await web.client.post("/api/videos", files={"file": ("a.mp4", b"\x00" * 1000, "video/mp4")})
        assert response.status_code >= 400
        assert (await web.client.get("/api/videos")).json()["videos"] == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x.mp4", "http://localhost/x.mp4", "http://[::1]/x.mp4", "http://169.254.169.254/latest",
    "http://10.1.2.3/x.mp4", "http://192.168.0.1/x.mp4", "http://[::ffff:127.0.0.1]/x.mp4", "http://0.0.0.0/x",
])
async def test_ingest_refuses_addresses_of_the_servers_own_networks(operator: Web, url: str) -> None:
    response = await operator.client.post("/api/videos", json={"url": url})
    assert response.status_code == 422, response.text
    assert "private address" in response.json()["detail"]
    assert (await operator.client.get("/api/videos")).json()["videos"] == []


async def test_file_urls_and_private_addresses_need_the_setting(db: Settings, tmp_path: Path) -> None:
    from heaters.errors import DownloadError
    from heaters.services.ingest import ingest
    from heaters.storage import create_storage

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 100)
    storage = create_storage(db)
    with pytest.raises(DownloadError, match="reads a file of the server"):
        await ingest(db, storage, video.as_uri())
    assert await ingest(db, storage, str(video))  # a local path given to the CLI stays allowed
    trusted = replace(db, allow_private_sources=True)
    assert await ingest(trusted, storage, video.as_uri())
    assert await ingest(trusted, storage, "http://127.0.0.1:9/x.mp4")


async def test_originals_are_for_operators_only(db: Settings) -> None:
    async for web in open_web(db):
        web.add_user("otto", "operator")
        web.add_user("rita")
        await web.login("otto")
        created = await web.client.post("/api/videos", files={"file": ("a.mp4", b"secret-bytes", "video/mp4")})
        key = web.video(created.json()["id"])["original_key"]
        assert (await web.client.get(f"/media/{key}")).content == b"secret-bytes"
        await web.client.post("/logout")
        await web.login("rita")
        refused = await web.client.get(f"/media/{key}")
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert (await web.client.head(f"/media/{key}")).status_code == 403


async def test_every_response_carries_the_security_headers(db: Settings) -> None:
    async for web in open_web(db):
        signed_out = [await web.client.get(path, follow_redirects=False)
                      for path in ("/login", "/", "/api/videos", "/static/js/review.js", "/healthz")]
        web.add_user("otto", "operator")
        await web.login("otto")
        pages = [await web.client.get(path) for path in ("/", "/api/videos", "/api/videos/999", "/videos/999")]
        for response in signed_out + pages:  # pages, JSON, errors, the sign-in redirect, static files
            assert response.headers["x-content-type-options"] == "nosniff", response.url
            assert response.headers["x-frame-options"] == "DENY", response.url
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], response.url
            assert response.headers["referrer-policy"] == "same-origin", response.url
        # An uploaded original is whatever the uploader sent: an HTML one opens sandboxed, without scripts.
        html = b"<script>fetch('/api/videos', {method: 'POST'})</script>"
        created = await web.client.post("/api/videos", files={"file": ("page.html", html, "text/html")})
        original = await web.client.get(f"/media/{web.video(created.json()['id'])['original_key']}")
        assert original.content == html
        policy = original.headers["content-security-policy"]
        assert policy.startswith("sandbox;") and "script-src" not in policy and "default-src 'none'" in policy
        assert original.headers["x-content-type-options"] == "nosniff"
