"""schemathesis against the OpenAPI of a real ``heaters serve``: no 5xx and every answer as documented.

Bounded in examples and time so it takes about two minutes on two cores. The server runs on the database under
test with a logged-in operator and one ready video, so generated requests reach the code behind the ids.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from heaters.services import videos
from heaters.settings import Settings
from tests.server.live import Installation, login

pytestmark = pytest.mark.slow

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


async def test_the_api_answers_fuzzed_requests_as_its_schema_says(db: Settings, tmp_path: Path) -> None:
    await videos.create_video("fuzz target", "https://example.com/v.mp4", state="ready", fps=Fraction(25),
                              total_frames=500, width=320, height=180, initial_cuts=(100, 250, 400))
    site = Installation(db)
    site.add_user("otto", "operator")
    with site.serve() as base, httpx.Client(base_url=base) as client:
        assert login(client, "otto").status_code == 303
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/schema/openapi.json", "--checks", CHECKS,
             "-H", f"Cookie: {cookie}", "-H", f"x-csrftoken: {client.headers['x-csrftoken']}",
             "--exclude-path-regex", "/events$",  # an endless event stream
             # One worker: Hypothesis describes its filters with ast.parse, which Python 3.11.7 can fail when two
             # threads parse at once ("AST constructor recursion depth mismatch"); one covers as much.
             "--max-examples", "15", "--max-time", "100", "--seed", "1", "--workers", "1",
             "--generation-database", "none", "--request-timeout", "10", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=400,
        )
        assert client.get("/api/videos").status_code == 200  # the session outlived the run (no logout fuzzed)
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "failed" not in summary.split("SUMMARY")[-1], summary
