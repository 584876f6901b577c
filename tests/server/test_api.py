"""The JSON API, route by route, with its error statuses (400, 401/403, 404, 409, 422)."""

from __future__ import annotations

import json
import random
import re

import pytest

from heaters.server.api_docs import INTEGRITY, SWAGGER_VERSION
from heaters.services import queue, review
from heaters.storage import LocalStorage
from tests.server.conftest import Web


def clip_spans(body: dict) -> list[tuple[int, int]]:
    return [(c["start_frame"], c["end_frame"]) for c in body["clips"]]


async def test_list_and_show_videos(reviewer: Web) -> None:
    ready = reviewer.make_video()
    new = reviewer.make_video(state="new")
    listed = (await reviewer.client.get("/api/videos")).json()["videos"]
    assert [v["id"] for v in listed] == [ready, new]
    assert listed[0]["clip_counts"] == {"pending_review": 3} and listed[1]["clip_counts"] == {}
    assert listed[0]["fps"] == "30000/1001" and listed[0]["proxy_url"] == ""
    only_new = (await reviewer.client.get("/api/videos", params={"state": "new"})).json()["videos"]
    assert [v["id"] for v in only_new] == [new]

    shown = (await reviewer.client.get(f"/api/videos/{ready}")).json()
    assert shown["total_frames"] == 90 and shown["cut_version"] == 0 and shown["claim"]["review_user"] == ""
    missing = await reviewer.client.get("/api/videos/999")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and "999" in missing.json()["detail"]


async def test_unknown_api_route_and_bad_parameter_are_json(reviewer: Web) -> None:
    unknown = await reviewer.client.get("/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    bad = await reviewer.client.get("/api/videos/1/audit", params={"limit": "lots"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"


async def test_clips_snapshot(reviewer: Web) -> None:
    video = reviewer.make_video()
    body = (await reviewer.client.get(f"/api/videos/{video}/clips")).json()
    assert body["cut_version"] == 0 and body["total_frames"] == 90 and body["fps"] == "30000/1001"
    assert clip_spans(body) == [(0, 30), (30, 60), (60, 90)]
    assert set(body["clips"][0]) == {"id", "number", "start_frame", "end_frame", "state", "reviewed_by", "cut"}
    assert [c["number"] for c in body["clips"]] == [1, 2, 3]
    assert body["clips"][0]["cut"] is None  # no detector proposed these cuts


async def test_clips_say_how_sure_detection_was(reviewer: Web) -> None:
    from heaters.db.tables import Clip

    video = reviewer.make_video()

    async def mark() -> None:
        await Clip.update({Clip.cut_kind: "dissolve", Clip.cut_confidence: 0.3}).where(Clip.start_frame == 30)
        await Clip.update({Clip.cut_kind: "hard", Clip.cut_confidence: 0.9}).where(Clip.start_frame == 60)

    reviewer.call(mark)
    clips = (await reviewer.client.get(f"/api/videos/{video}/clips")).json()["clips"]
    assert [c["cut"] for c in clips] == [
        None, {"kind": "dissolve", "confidence": 0.3, "low": True}, {"kind": "hard", "confidence": 0.9, "low": False},
    ]
    # Splitting a clip keeps what detection said about the cut the left part still starts with.
    added = await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45, "expected_version": 0})
    after = {c["start_frame"]: c["cut"] for c in added.json()["clips"]}
    assert after[30] == {"kind": "dissolve", "confidence": 0.3, "low": True} and after[45] is None


async def test_cut_add_move_remove_return_fresh_clips(reviewer: Web) -> None:
    video = reviewer.make_video()
    added = await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45, "expected_version": 0})
    assert added.status_code == 200
    body = added.json()
    assert body["kind"] == "add" and body["cut_version"] == 1 and len(body["removed"]) == 1
    assert clip_spans(body) == [(0, 30), (30, 45), (45, 60), (60, 90)]

    moved = (await reviewer.client.put(f"/api/videos/{video}/cuts/45", json={"to": 50, "expected_version": 1})).json()
    assert moved["kind"] == "move" and clip_spans(moved) == [(0, 30), (30, 50), (50, 60), (60, 90)]

    removed = await reviewer.client.delete(f"/api/videos/{video}/cuts/50", params={"expected_version": 2})
    assert removed.status_code == 200
    assert removed.json()["cut_version"] == 3 and clip_spans(removed.json()) == [(0, 30), (30, 60), (60, 90)]
    ops = reviewer.call(__import__("heaters.services.videos", fromlist=["x"]).audit_log, video)
    assert [op["kind"] for op in ops] == ["remove", "move", "add"] and {op["user"] for op in ops} == {"rita"}


async def test_stale_version_is_409_and_changes_nothing(reviewer: Web) -> None:
    video = reviewer.make_video()
    reviewer.call(review.add_cut, video, 10, user="someone-else")
    for attempt in (
        reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45, "expected_version": 0}),
        reviewer.client.delete(f"/api/videos/{video}/cuts/30", params={"expected_version": 0}),
        reviewer.client.put(f"/api/videos/{video}/cuts/30", json={"to": 35, "expected_version": 0}),
        reviewer.client.post(f"/api/videos/{video}/undo", json={"expected_version": 0}),
        reviewer.client.post(f"/api/clips/{reviewer.clips(video)[0]['id']}/approve", json={"expected_version": 0}),
    ):
        response = await attempt
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "conflict" and "version is 1" in response.json()["detail"]
        assert response.json()["code"] == "stale_version" and "someone-else edited it" in response.json()["detail"]
    assert reviewer.video(video)["cut_version"] == 1
    assert [(c["start_frame"], c["state"]) for c in reviewer.clips(video)] == [
        (0, "pending_review"), (10, "pending_review"), (30, "pending_review"), (60, "pending_review")]


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("POST", "cuts", {"frame": 90}, "out_of_range"),
        ("POST", "cuts", {"frame": 30}, None),  # already a cut
        ("DELETE", "cuts/45", None, "not_a_cut"),
        ("DELETE", "cuts/0", None, "not_a_cut"),
        ("PUT", "cuts/30", {"to": 60}, None),  # onto the neighbouring cut
        ("PUT", "cuts/31", {"to": 40}, "not_a_cut"),
    ],
)
async def test_invalid_cuts_are_422(reviewer: Web, method: str, path: str, body: dict | None, code: str | None) -> None:
    video = reviewer.make_video()
    response = await reviewer.client.request(method, f"/api/videos/{video}/{path}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_cut"
    if code:
        assert response.json()["code"] == code
    assert reviewer.video(video)["cut_version"] == 0


async def test_bad_bodies_are_400(reviewer: Web) -> None:
    video = reviewer.make_video()
    for body in ({"frame": "middle"}, {}, {"frame": 1.5}):
        response = await reviewer.client.post(f"/api/videos/{video}/cuts", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "bad_request"
    response = await reviewer.client.post(f"/api/videos/{video}/cuts", content=b"{not json",
                                          headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_edits_on_missing_or_unready_videos(reviewer: Web) -> None:
    assert (await reviewer.client.post("/api/videos/999/cuts", json={"frame": 5})).status_code == 404
    assert (await reviewer.client.post("/api/clips/999/approve")).status_code == 404
    unready = reviewer.make_video(state="encoding")
    assert (await reviewer.client.post(f"/api/videos/{unready}/cuts", json={"frame": 5})).status_code == 409


async def test_decisions_and_the_export_queue(reviewer: Web) -> None:
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    broker = StubBroker()
    broker.declare_queue("export")
    reviewer.client.app.state.tasks = queue.TaskQueue(broker)
    try:
        video = reviewer.make_video()
        first, second, third = (c["id"] for c in reviewer.clips(video))
        approved = await reviewer.client.post(f"/api/clips/{first}/approve", json={"expected_version": 0})
        assert approved.status_code == 200 and approved.json()["kind"] == "approve"
        assert approved.json()["clips"][0] == {"id": first, "number": 1, "start_frame": 0, "end_frame": 30,
                                               "state": "approved", "reviewed_by": "rita", "cut": None}
        queued = [dramatiq.Message.decode(m) for m in broker.queues["export"].queue]
        assert [(m.actor_name, m.args) for m in queued] == [("export_clip", (first,))]
        skipped = await reviewer.client.post(f"/api/clips/{second}/skip")  # no body: no version check
        rejected = await reviewer.client.post(f"/api/clips/{third}/reject", json={"expected_version": 2})
        assert skipped.json()["clips"][1]["state"] == "skipped"
        assert rejected.json()["clips"][2]["state"] == "rejected" and rejected.json()["cut_version"] == 3
    finally:
        reviewer.client.app.state.tasks = queue.OFFLINE


async def test_decision_on_a_replaced_clip_is_409(reviewer: Web) -> None:
    video = reviewer.make_video()
    middle = reviewer.clips(video)[1]["id"]
    await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45})
    response = await reviewer.client.post(f"/api/clips/{middle}/approve")
    assert response.status_code == 409 and "replaced" in response.json()["detail"]


async def test_undo_and_redo(reviewer: Web) -> None:
    video = reviewer.make_video()
    nothing = await reviewer.client.post(f"/api/videos/{video}/undo")
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["detail"]
    await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45})
    undone = await reviewer.client.post(f"/api/videos/{video}/undo", json={"expected_version": 1})
    assert undone.status_code == 200 and undone.json()["kind"] == "undo"
    assert clip_spans(undone.json()) == [(0, 30), (30, 60), (60, 90)]
    redone = await reviewer.client.post(f"/api/videos/{video}/redo")
    assert redone.json()["kind"] == "redo" and (45, 60) in clip_spans(redone.json())
    assert (await reviewer.client.post(f"/api/videos/{video}/redo")).status_code == 409


async def test_audit(reviewer: Web) -> None:
    video = reviewer.make_video()
    await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45})
    await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 15})
    ops = (await reviewer.client.get(f"/api/videos/{video}/audit")).json()["operations"]
    assert [(op["kind"], op["frame"], op["user"]) for op in ops] == [("add", 15, "rita"), ("add", 45, "rita")]
    newer = (await reviewer.client.get(f"/api/videos/{video}/audit", params={"after_id": ops[1]["id"]})).json()
    assert [op["frame"] for op in newer["operations"]] == [15]
    assert (await reviewer.client.get("/api/videos/999/audit")).status_code == 404


def store_index(web: Web, video: int, frames: int = 90) -> dict:
    index = {"version": 1, "codec": "avc1.64000C", "description": "AWQADP/hABg=", "width": 160, "height": 90,
             "fps": "30000/1001", "frames": frames, "offsets": [48 + 100 * i for i in range(frames)],
             "sizes": [100] * frames}
    storage = LocalStorage(web.settings.resolved_storage_dir)
    storage.put_bytes(f"proxies/{video}.index.json", json.dumps(index).encode())

    async def point() -> None:
        from heaters.services.videos import set_state

        await set_state(video, "ready", proxy_key=f"proxies/{video}.mp4", proxy_index_key=f"proxies/{video}.index.json")

    web.call(point)
    return index


async def test_index_window(reviewer: Web) -> None:
    video = reviewer.make_video()
    none_yet = await reviewer.client.get(f"/api/videos/{video}/index")
    assert none_yet.status_code == 404
    index = store_index(reviewer, video)
    shown = (await reviewer.client.get(f"/api/videos/{video}")).json()
    assert shown["proxy_url"] == f"/media/proxies/{video}.mp4" and shown["index_url"] == f"/api/videos/{video}/index"

    window = (await reviewer.client.get(f"/api/videos/{video}/index", params={"start": 30, "end": 33})).json()
    assert window["start"] == 30 and window["frames"] == 3 and window["total_frames"] == 90
    assert window["offsets"] == index["offsets"][30:33] and window["sizes"] == [100, 100, 100]
    assert window["codec"] == "avc1.64000C" and window["description"] == index["description"]
    whole = (await reviewer.client.get(f"/api/videos/{video}/index")).json()
    assert whole["frames"] == 90 and whole["offsets"] == index["offsets"]

    # Parsed once per process: the cached index answers even when storage is unreachable.
    (reviewer.settings.resolved_storage_dir / f"proxies/{video}.index.json").unlink()
    assert (await reviewer.client.get(f"/api/videos/{video}/index", params={"start": 89})).json()["frames"] == 1


@pytest.mark.parametrize("params", [{"start": 30, "end": 30}, {"start": 40, "end": 20}, {"start": 0, "end": 91},
                                    {"start": 90}, {"start": -1}, {"end": 0}, {"start": "x"}])
async def test_index_window_bad_ranges_are_400(reviewer: Web, params: dict) -> None:
    video = reviewer.make_video()
    store_index(reviewer, video)
    response = await reviewer.client.get(f"/api/videos/{video}/index", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"


async def test_review_claim_queue(reviewer: Web) -> None:
    reviewer.add_user("sam")
    first = reviewer.make_video()
    second = reviewer.make_video()
    claimed = (await reviewer.client.post("/api/review/claim")).json()
    assert claimed["video"]["id"] == first and claimed["claim"]["review_user"] == "rita"
    assert claimed["next_clip"]["start_frame"] == 0
    again = (await reviewer.client.post("/api/review/claim")).json()
    assert again["video"]["id"] == first  # your own claim comes back first

    from heaters.services import claims

    assert reviewer.call(claims.claim_next, "sam", 300) == second
    assert reviewer.call(claims.claim_next, "tom", 300) is None
    taken = await reviewer.client.post(f"/api/videos/{second}/claim")
    assert taken.status_code == 409 and "sam" in taken.json()["detail"]
    renewed = await reviewer.client.post(f"/api/videos/{first}/claim")
    assert renewed.status_code == 200 and renewed.json()["review_user"] == "rita"
    released = await reviewer.client.delete(f"/api/videos/{first}/claim")
    assert released.json()["released"] is True
    assert reviewer.call(claims.claim_next, "tom", 300) == first
    nothing = (await reviewer.client.post("/api/review/claim")).json()
    assert nothing == {"video": None, "next_clip": None, "claim": None}


async def test_edits_renew_the_editors_claim(reviewer: Web) -> None:
    from heaters.services import claims

    video = reviewer.make_video()
    reviewer.call(claims.claim, video, "rita", 5)
    before = reviewer.call(claims.claim_info, video)["review_lease_until"]
    await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45})
    after = reviewer.call(claims.claim_info, video)["review_lease_until"]
    assert (after - before).total_seconds() > 200  # renewed to the full review_lease_seconds (300)


async def test_operator_ingests_by_url(operator: Web) -> None:
    response = await operator.client.post("/api/videos", json={"url": "https://example.invalid/talk.mp4"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "new" and body["source"] == "https://example.invalid/talk.mp4"
    titled = (await operator.client.post("/api/videos", json={"url": "http://example.invalid/x", "title": "T"})).json()
    assert titled["title"] == "T"


@pytest.mark.parametrize("body", [{"url": "/etc/passwd"}, {"url": "file:///etc/passwd"}, {"url": "ftp://x/y"},
                                  {"url": ""}, {"title": "no url"}, ["https://example.invalid/"]])
async def test_ingest_refuses_non_http_sources(operator: Web, body: object) -> None:
    response = await operator.client.post("/api/videos", json=body)
    assert response.status_code == 400, response.text
    assert (await operator.client.get("/api/videos")).json()["videos"] == []


@pytest.mark.parametrize("csrf_in", ["header", "form"])
async def test_operator_ingests_an_upload(operator: Web, csrf_in: str) -> None:
    # With the token in the header the body streams to disk; with it in the form the framework parses it.
    payload = random.Random(3).randbytes(2_500_000)
    data = {"title": ""}
    if csrf_in == "form":
        data["_csrf_token"] = operator.csrf
        operator.client.headers.pop("x-csrftoken")
    response = await operator.client.post(
        "/api/videos", files={"file": ("../My Clip.mp4", payload, "video/mp4")}, data=data
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "new" and body["title"] == "My Clip"
    # Stored as the video's original in storage, byte for byte; the spooled copy is gone; no host path recorded.
    video = operator.video(body["id"])
    stored = operator.settings.resolved_storage_dir / video["original_key"]
    assert video["original_key"].startswith("originals/") and stored.read_bytes() == payload
    assert video["source"] == "upload:My_Clip.mp4"
    assert list((operator.settings.data_dir / "uploads").rglob("*")) == []
    empty = await operator.client.post("/api/videos", files={"file": ("e.mp4", b"", "video/mp4")}, data=data)
    assert empty.status_code == 400


@pytest.mark.parametrize("name", ["видео.mp4", "日本の旅.mp4", "café.mp4"])
async def test_an_upload_keeps_a_name_outside_latin_1(operator: Web, name: str) -> None:
    # Browsers send the file name as UTF-8 bytes; the streamed parse must neither fail on them nor garble them.
    response = await operator.client.post(
        "/api/videos", files={"file": (name, b"\0" * 1000, "video/mp4")}, data={"title": ""}
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == name.removesuffix(".mp4")


async def test_streamed_form_without_a_file_takes_the_url(operator: Web) -> None:
    response = await operator.client.post("/api/videos", files={"url": (None, "https://example.invalid/x")})
    assert response.status_code == 201 and response.json()["source"] == "https://example.invalid/x"
    broken = await operator.client.post("/api/videos", content=b"--b\r\nnonsense",
                                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert broken.status_code == 400
    nothing = await operator.client.post("/api/videos", content=b"x", headers={"content-type": "text/plain"})
    assert nothing.status_code == 400


async def test_retry_failed_work(operator: Web) -> None:
    failed = operator.make_video(state="encode_failed", error="boom")
    ready = operator.make_video()
    retried = await operator.client.post(f"/api/videos/{failed}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "downloaded" and retried.json()["error"] == ""
    assert (await operator.client.post(f"/api/videos/{ready}/retry")).status_code == 409
    assert (await operator.client.post("/api/videos/999/retry")).status_code == 404

    from heaters.db.tables import Clip

    clip = operator.clips(ready)[0]["id"]

    async def fail_clip() -> None:
        await Clip.update({Clip.state: "export_failed", Clip.error: "disk full"}).where(Clip.id == clip)

    operator.call(fail_clip)
    retried_clip = await operator.client.post(f"/api/clips/{clip}/retry")
    assert retried_clip.status_code == 200 and retried_clip.json()["state"] == "approved"
    assert (await operator.client.post(f"/api/clips/{clip}/retry")).status_code == 409


async def test_clip_and_similar(reviewer: Web) -> None:
    video = reviewer.make_video()
    clip = reviewer.clips(video)[0]["id"]
    shown = (await reviewer.client.get(f"/api/clips/{clip}")).json()
    assert shown["video_id"] == video and shown["start_frame"] == 0
    from heaters.db.tables import Artifact

    async def keyframe() -> None:
        await Artifact.insert(Artifact(clip=clip, kind="keyframe", key=f"keyframes/{clip}/0.jpg", position=0, frame=3))

    reviewer.call(keyframe)
    similar = (await reviewer.client.get(f"/api/clips/{clip}/similar", params={"k": 5})).json()
    assert similar["clip"]["keyframes"] == [{"url": f"/media/keyframes/{clip}/0.jpg", "frame": 3}]
    assert similar["similar"] == [] and similar["embedded"] is False
    assert (await reviewer.client.get("/api/clips/999/similar")).status_code == 404
    assert (await reviewer.client.get(f"/api/clips/{clip}/similar", params={"k": 0})).status_code == 400


async def test_health_and_schema(reviewer: Web) -> None:
    assert (await reviewer.client.get("/healthz")).json()["db"] == "ok"
    schema = (await reviewer.client.get("/schema/openapi.json")).json()
    paths = set(schema["paths"])
    for expected in ("/api/videos", "/api/videos/{video_id}", "/api/videos/{video_id}/clips",
                     "/api/videos/{video_id}/index", "/api/videos/{video_id}/cuts",
                     "/api/videos/{video_id}/cuts/{frame}", "/api/clips/{clip_id}/approve",
                     "/api/clips/{clip_id}/skip", "/api/clips/{clip_id}/reject", "/api/videos/{video_id}/undo",
                     "/api/videos/{video_id}/redo", "/api/videos/{video_id}/audit", "/api/clips/{clip_id}/similar",
                     "/api/review/claim", "/api/videos/{video_id}/claim", "/api/videos/{video_id}/retry",
                     "/api/clips/{clip_id}/retry", "/api/videos/{video_id}/events", "/media/{key}", "/healthz"):
        assert expected in paths, expected
    assert "/login" not in paths  # pages are not API
    assert (await reviewer.client.get("/schema")).status_code == 200


async def test_the_swagger_page_loads_only_files_pinned_by_their_hash(reviewer: Web) -> None:
    page = (await reviewer.client.get("/schema/swagger")).text
    external = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)=[\"'](https?://[^\"']+)[\"'][^>]*>", page)
    tags = re.findall(r"<(?:script|link)\b[^>]*https?://[^>]*>", page)
    assert len(external) == len(tags) == 3, tags  # the bundle, its preset and its stylesheet; no remote icon
    for tag, url in zip(tags, external, strict=True):
        assert f'integrity="{INTEGRITY[url.rsplit("/", 1)[-1]]}"' in tag, tag
        assert f"swagger-ui-dist@{SWAGGER_VERSION}/" in url
        assert 'crossorigin="anonymous"' in tag
