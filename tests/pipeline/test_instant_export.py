"""An approval from the web app or the CLI puts the export on the queue at once, not at the next dispatch."""

from __future__ import annotations

import json
import subprocess
import sys

import redis

from heaters.settings import Settings
from tests.pipeline.conftest import settings_env
from tests.server.conftest import open_web


def export_queue(settings: Settings) -> list[dict[str, object]]:
    client = redis.Redis.from_url(settings.redis_url)
    ids = client.lrange(f"{settings.redis_namespace}:export", 0, -1)
    messages = [client.hget(f"{settings.redis_namespace}:export.msgs", i) for i in ids]
    return [json.loads(m) for m in messages if m]


async def test_web_approval_is_queued_at_once(pipeline: Settings) -> None:
    async for web in open_web(pipeline):
        web.add_user("rita")
        await web.login("rita")
        video = web.make_video()
        clip = web.clips(video)[0]["id"]
        response = await web.client.post(f"/api/clips/{clip}/approve", json={})
        assert response.status_code in (200, 201), response.text
        assert [(m["actor_name"], m["args"]) for m in export_queue(pipeline)] == [("export_clip", [clip])]


def test_cli_approval_is_queued_at_once(pipeline: Settings) -> None:
    env = {**settings_env(pipeline), "PATH": "/usr/bin:/bin", "HEATERS_USER": "cli"}
    make = (
        "import asyncio; from fractions import Fraction; from heaters.settings import Settings;"
        "from heaters.db.engine import connect; from heaters.services.videos import create_video, live_clips\n"
        "async def main():\n"
        "    async with connect(Settings.from_env()):\n"
        "        v = await create_video('v', state='ready', fps=Fraction(25), total_frames=50, initial_cuts=[20])\n"
        "        print((await live_clips(v))[0]['id'])\n"
        "asyncio.run(main())"
    )
    clip = subprocess.run([sys.executable, "-c", make], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    result = subprocess.run([sys.executable, "-m", "heaters", "review", "approve", clip], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [(m["actor_name"], m["args"]) for m in export_queue(pipeline)] == [("export_clip", [int(clip)])]
