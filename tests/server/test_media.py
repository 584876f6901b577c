"""``/media``: byte ranges served exactly from local storage, no escape from the storage root, S3 redirects."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from heaters.settings import Settings
from heaters.storage import LocalStorage
from tests.server.conftest import Web, open_web

SIZE = 600_001  # a few read chunks (256 KiB), not a multiple of anything


@pytest.fixture
def media(reviewer: Web) -> bytes:
    data = random.Random(7).randbytes(SIZE)
    LocalStorage(reviewer.settings.resolved_storage_dir).put_bytes("proxies/1.mp4", data)
    return data


async def test_whole_file(reviewer: Web, media: bytes) -> None:
    response = await reviewer.client.get("/media/proxies/1.mp4")
    assert response.status_code == 200
    assert response.content == media
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["etag"].startswith('"') and response.headers["last-modified"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=0-99", 0, 100),
        ("bytes=262000-262200", 262000, 262201),  # across a read-chunk boundary
        ("bytes=100-524400", 100, 524401),
        ("bytes=599990-", 599990, SIZE),  # open-ended
        ("bytes=-500", SIZE - 500, SIZE),  # suffix
        ("bytes=-9999999", 0, SIZE),  # suffix longer than the file
        ("bytes=599000-700000", 599000, SIZE),  # end clamped
        ("bytes=999999-, 10-19", 10, 20),  # first satisfiable range wins
    ],
)
async def test_ranges_are_byte_exact(reviewer: Web, media: bytes, header: str, start: int, end: int) -> None:
    response = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == media[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["content-length"] == str(end - start)


async def test_random_ranges_like_the_player(reviewer: Web, media: bytes) -> None:
    rng = random.Random(1)
    for _ in range(25):
        a = rng.randrange(SIZE)
        b = rng.randrange(a, min(SIZE, a + 50_000))
        response = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": f"bytes={a}-{b}"})
        assert (response.status_code, response.content) == (206, media[a : b + 1])


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
async def test_unsatisfiable_is_416(reviewer: Web, media: bytes, header: str) -> None:
    response = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.content == b""


async def test_malformed_range_serves_everything(reviewer: Web, media: bytes) -> None:
    response = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": "frames=1-2"})
    assert response.status_code == 200 and response.content == media


async def test_head(reviewer: Web, media: bytes) -> None:
    whole = await reviewer.client.head("/media/proxies/1.mp4")
    assert whole.status_code == 200 and whole.content == b""
    assert whole.headers["content-length"] == str(SIZE) and whole.headers["accept-ranges"] == "bytes"
    part = await reviewer.client.head("/media/proxies/1.mp4", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == f"bytes 10-19/{SIZE}" and part.headers["content-length"] == "10"
    get = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": "bytes=0-1"})
    assert whole.headers["etag"] == get.headers["etag"]


async def test_etag_and_if_range(reviewer: Web, media: bytes) -> None:
    etag = (await reviewer.client.head("/media/proxies/1.mp4")).headers["etag"]
    same = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": "bytes=5-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == media[5:10]
    stale = await reviewer.client.get("/media/proxies/1.mp4", headers={"Range": "bytes=5-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == media  # changed since: the whole new file
    cached = await reviewer.client.get("/media/proxies/1.mp4", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""

    # Rewriting the object changes the validator.
    os.utime(reviewer.settings.resolved_storage_dir / "proxies/1.mp4", (1_000_000, 1_000_000))
    assert (await reviewer.client.head("/media/proxies/1.mp4")).headers["etag"] != etag


async def test_missing_object_is_404(reviewer: Web, media: bytes) -> None:
    response = await reviewer.client.get("/media/proxies/2.mp4")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert (await reviewer.client.get("/media/proxies")).status_code == 404  # a directory is not an object
    # A name no file system allows (over 255 bytes in UTF-8) names nothing either: 404, not a server error.
    long_name = "proxies/" + "o\u0361" * 100 + ".mp4"
    response = await reviewer.client.get(f"/media/{long_name}")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/media/%2e%2e/secret_key",
        "/media/proxies/%2e%2e/%2e%2e/secret_key",
        "/media/proxies/..%2f..%2fsecret_key",
        "/media/%2Fetc/passwd",
        "/media//etc/passwd",
        "/media/proxies%5c..%5c..%5csecret_key",
        "/media/.tmp-x",
    ],
)
async def test_keys_cannot_escape_the_storage_root(reviewer: Web, media: bytes, path: str) -> None:
    (reviewer.settings.data_dir / "secret_key").write_text("top secret")
    response = await reviewer.client.send(reviewer.client.build_request("GET", httpx.URL(path)))
    assert response.status_code in (400, 404), (path, response.status_code)
    assert b"top secret" not in response.content and b"root:" not in response.content


async def test_symlink_out_of_the_root_is_refused(reviewer: Web, media: bytes) -> None:
    outside = reviewer.settings.data_dir / "outside.txt"
    outside.write_text("private")
    (reviewer.settings.resolved_storage_dir / "proxies" / "link.mp4").symlink_to(outside)
    response = await reviewer.client.get("/media/proxies/link.mp4")
    assert response.status_code == 400 and b"private" not in response.content


async def test_content_types(reviewer: Web) -> None:
    storage = LocalStorage(reviewer.settings.resolved_storage_dir)
    storage.put_bytes("keyframes/3/0.jpg", b"\xff\xd8\xff")
    storage.put_bytes("proxies/3.index.json", b"{}")
    assert (await reviewer.client.get("/media/keyframes/3/0.jpg")).headers["content-type"] == "image/jpeg"
    assert (await reviewer.client.get("/media/proxies/3.index.json")).headers["content-type"] == "application/json"


@pytest.fixture
async def s3_web(db: Settings, s3_endpoint: str, s3_bucket: str, s3_client) -> AsyncIterator[Web]:
    settings = dataclasses.replace(db, storage="s3", s3_bucket_name=s3_bucket, s3_endpoint_url=s3_endpoint,
                                   proxy_cdn_domain="")
    s3_client.put_object(Bucket=s3_bucket, Key="proxies/1.mp4", Body=b"proxy bytes")
    s3_client.put_object(Bucket=s3_bucket, Key="masters/1.mkv", Body=b"master bytes")
    async for web in open_web(settings):
        web.add_user("rita")
        await web.login("rita")
        yield web


async def test_s3_media_redirects_to_a_presigned_url(s3_web: Web, s3_bucket: str) -> None:
    response = await s3_web.client.get("/media/proxies/1.mp4", follow_redirects=False)
    assert response.status_code == 302
    location = response.headers["location"]
    assert f"/{s3_bucket}/proxies/1.mp4?" in location and "X-Amz-Signature=" in location
    assert response.headers["cache-control"] == "private, no-store"
    async with httpx.AsyncClient() as plain:  # the browser follows it straight to S3
        fetched = await plain.get(location, headers={"Range": "bytes=0-4"})
    assert fetched.status_code == 206 and fetched.content == b"proxy"
    assert (await s3_web.client.get("/media/../x", follow_redirects=False)).status_code in (400, 404)


async def test_s3_proxies_come_from_the_cdn(db: Settings, s3_endpoint: str, s3_bucket: str) -> None:
    settings = dataclasses.replace(db, storage="s3", s3_bucket_name=s3_bucket, s3_endpoint_url=s3_endpoint,
                                   proxy_cdn_domain="cdn.example.invalid")
    async for web in open_web(settings):
        web.add_user("rita")
        await web.login("rita")
        proxy = await web.client.get("/media/proxies/1.mp4", follow_redirects=False)
        assert proxy.headers["location"] == "https://cdn.example.invalid/proxies/1.mp4"
        master = await web.client.get("/media/masters/1.mkv", follow_redirects=False)
        assert master.status_code == 302 and "X-Amz-Signature=" in master.headers["location"]
        anonymous = await httpx.AsyncClient(transport=web.client._transport, base_url=str(web.client.base_url)).get(
            "/media/proxies/1.mp4"
        )
        assert anonymous.status_code == 401


async def test_frames_of_a_real_proxy_decode_from_their_ranges(reviewer: Web, tmp_path) -> None:
    """The player's path end to end minus the browser: index window, one Range per frame, decode, read the
    frame number burnt into the picture."""
    import base64

    import av

    from heaters.media.synthetic import make_video, read_frame_number
    from heaters.media.transcode import transcode

    make_video(tmp_path / "src.mp4", shot_frames=(20, 20), size=(160, 90))
    result = transcode(tmp_path / "src.mp4", tmp_path / "m.mkv", tmp_path / "p.mp4", proxy_short_side=90)
    video = reviewer.make_video(total=result.total_frames, cuts=(20,))
    storage = LocalStorage(reviewer.settings.resolved_storage_dir)
    storage.put_file(f"proxies/{video}.mp4", tmp_path / "p.mp4")
    storage.put_bytes(f"proxies/{video}.index.json", json.dumps(result.index).encode())

    async def point() -> None:
        from heaters.services.videos import set_state

        await set_state(video, "ready", proxy_key=f"proxies/{video}.mp4", proxy_index_key=f"proxies/{video}.index.json")

    reviewer.call(point)
    shown = (await reviewer.client.get(f"/api/videos/{video}")).json()
    window = (await reviewer.client.get(shown["index_url"], params={"start": 15, "end": 25})).json()
    avcc = base64.b64decode(window["description"])
    for i, (offset, size) in enumerate(zip(window["offsets"], window["sizes"], strict=True)):
        ranged = {"Range": f"bytes={offset}-{offset + size - 1}"}
        response = await reviewer.client.get(shown["proxy_url"], headers=ranged)
        assert response.status_code == 206 and len(response.content) == size
        decoder = av.CodecContext.create("h264", "r")  # a fresh decoder: each frame decodes on its own
        decoder.extradata = avcc
        frames = decoder.decode(av.Packet(response.content)) + decoder.decode(None)
        assert [read_frame_number(f.to_ndarray(format="rgb24")) for f in frames] == [15 + i]


async def test_an_exported_clip_downloads_as_a_named_attachment(reviewer: Web) -> None:
    from heaters.db.tables import Clip, SourceVideo
    from heaters.storage import create_storage

    video = reviewer.make_video()
    reviewer.call(lambda: SourceVideo.update({SourceVideo.title: "Café at dusk"}).where(SourceVideo.id == video))
    clip = reviewer.clips(video)[1]
    link = f"/clips/{clip['id']}/download"
    assert (await reviewer.client.get(link)).status_code == 404  # not exported yet
    assert link not in (await reviewer.client.get(f"/videos/{video}")).text
    key = f"clips/{video}/{clip['id']}.mp4"
    body = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40
    create_storage(reviewer.settings).put_bytes(key, body, "clip")
    reviewer.call(lambda: Clip.update({Clip.state: "exported", Clip.export_key: key}).where(Clip.id == clip["id"]))
    assert f'href="{link}"' in (await reviewer.client.get(f"/videos/{video}")).text
    response = await reviewer.client.get(link)
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "video/mp4"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Cafe at dusk clip ')
    assert "filename*=UTF-8''Caf%C3%A9%20at%20dusk%20clip%20" in disposition
    assert disposition.endswith("%28frames%2030-59%29.mp4")
    ranged = await reviewer.client.get(link, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.content == body[:8]


async def test_s3_downloads_redirect_to_a_url_that_answers_as_an_attachment(s3_web: Web, s3_client, s3_bucket) -> None:
    from heaters.db.tables import Clip

    video = s3_web.make_video()
    clip = s3_web.clips(video)[0]
    key = f"clips/{video}/{clip['id']}.mp4"
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"exported clip bytes")
    s3_web.call(lambda: Clip.update({Clip.state: "embedded", Clip.export_key: key}).where(Clip.id == clip["id"]))
    response = await s3_web.client.get(f"/clips/{clip['id']}/download", follow_redirects=False)
    assert response.status_code == 302
    async with httpx.AsyncClient() as plain:
        fetched = await plain.get(response.headers["location"])
    assert fetched.status_code == 200 and fetched.content == b"exported clip bytes"
    assert fetched.headers["content-disposition"].startswith('attachment; filename="video with cuts')
