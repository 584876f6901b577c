"""Ids, frames and paging values at and past their ranges: 400/404/422 in one error shape, never a 500."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from heaters.limits import MAX_FRAME, MAX_ID
from tests.server.conftest import Web

HUGE = 10**30
ERROR_KEYS = {"error", "detail", "fields", "code"}


def assert_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert {"error", "detail"} <= set(body) <= ERROR_KEYS, body


PATHS = ["/api/videos/{id}", "/api/videos/{id}/clips", "/api/videos/{id}/audit", "/api/videos/{id}/index",
         "/api/clips/{id}", "/api/clips/{id}/similar", "/api/videos/{id}/events", "/videos/{id}"]


@pytest.mark.parametrize(("value", "status"), [
    (2**31, 404), (MAX_ID, 404), (MAX_ID + 1, 400), (2**63, 400), (HUGE, 400), (0, 400), (-1, 400),
])
async def test_ids_out_of_range_are_refused_not_crashed(reviewer: Web, value: int, status: int) -> None:
    for path in PATHS:
        response = await reviewer.client.get(path.format(id=value), headers={"accept": "application/json"})
        assert_error(response, status)


async def test_frames_versions_and_paging_are_bounded(reviewer: Web) -> None:
    video = reviewer.make_video()
    client = reviewer.client
    assert_error(await client.post(f"/api/videos/{video}/cuts", json={"frame": MAX_FRAME + 1}), 400)
    assert_error(await client.post(f"/api/videos/{video}/cuts", json={"frame": MAX_FRAME}), 422)
    assert_error(await client.post(f"/api/videos/{video}/cuts", json={"frame": 45, "expected_version": HUGE}), 400)
    assert_error(await client.put(f"/api/videos/{video}/cuts/{HUGE}", json={"to": 10}), 400)
    assert_error(await client.delete(f"/api/videos/{video}/cuts/30", params={"expected_version": -1}), 400)
    assert_error(await client.get(f"/api/videos/{video}/audit", params={"after_id": HUGE}), 400)
    assert_error(await client.get(f"/api/videos/{video}/audit", params={"limit": 0}), 400)
    assert_error(await client.get(f"/api/videos/{video}/index", params={"end": HUGE}), 400)
    assert_error(await client.post(f"/api/clips/{HUGE}/approve"), 400)
    bad = await client.post(f"/api/videos/{video}/cuts", json={"frame": "x"})
    assert_error(bad, 400)
    assert bad.json()["fields"]
    assert (await client.get(f"/api/videos/{video}/audit", params={"after_id": MAX_ID})).status_code == 200
    assert_error(await client.get("/api/videos", params={"state": "re\x00ady"}), 400)  # Postgres refuses NUL
    assert [v["id"] for v in (await client.get("/api/videos", params={"state": "ready"})).json()["videos"]] == [video]


async def test_the_openapi_declares_the_error_schema_for_every_client_error(reviewer: Web) -> None:
    schema = (await reviewer.client.get("/schema/openapi.json")).json()
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"error", "detail"} and set(error["properties"]) == ERROR_KEYS
    operations = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert len(operations) > 20
    for op in operations:
        for status in ("400", "401", "403", "404", "409", "422"):
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ErrorBody"}, (op["operationId"], status)
    video_id = schema["paths"]["/api/videos/{video_id}"]["get"]["parameters"][0]["schema"]
    assert video_id["minimum"] == 1 and video_id["maximum"] == MAX_ID


@pytest.mark.parametrize(("args", "words"), [
    (["clips", str(HUGE)], "not found"), (["clips", str(MAX_ID + 1)], "not found"),
    (["cuts", "add", "1", str(MAX_FRAME + 1)], "out of range"), (["retry", "--clip", str(2**63)], "not found"),
])
def test_the_cli_refuses_ids_and_frames_out_of_range(args: list[str], words: str) -> None:
    result = subprocess.run([sys.executable, "-c", "from heaters.cli import main; main()", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and words in result.stderr, result.stderr


@pytest.mark.parametrize("path", ["/media/proxies/{huge}/pieces.mp4", "/media/proxies/{huge}/review.mp4"])
async def test_media_of_an_id_past_the_range_is_not_found(reviewer: Web, path: str) -> None:
    assert_error(await reviewer.client.get(path.format(huge=HUGE)), 404)


async def test_a_body_nested_too_deeply_is_refused(reviewer: Web) -> None:
    video = reviewer.make_video()
    deep = "[" * 100_000 + "]" * 100_000
    response = await reviewer.client.post(f"/api/videos/{video}/cuts", content=deep,
                                          headers={"content-type": "application/json"})
    assert_error(response, 400)
