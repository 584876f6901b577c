"""The pipeline commands as users run them: subprocesses configured by the environment, a real worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heaters.media.synthetic import ShotSpec, make_video
from heaters.settings import Settings
from tests.pipeline.conftest import WorkerProcess, settings_env

pytestmark = pytest.mark.slow


def heaters(settings: Settings | None, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(settings_env(settings) if settings else {})}
    return subprocess.run(
        [sys.executable, "-m", "heaters", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.redis
async def test_ingest_wait_end_to_end(pipeline: Settings, worker: WorkerProcess, tmp_path: Path) -> None:
    from heaters.services.videos import get_video, mece_problems

    truth = make_video(tmp_path / "My Holiday.mp4", shot_frames=(18, 22), size=(160, 90))
    result = heaters(pipeline, "ingest", str(truth.path), "--wait")
    assert result.returncode == 0, result.stderr + worker.logs()[-3000:]
    video_id = int(result.stdout.splitlines()[0])
    assert f"video {video_id}: ready, {truth.frames} frames" in result.stdout
    assert "?" not in result.stdout and "[" not in result.stdout  # plain lines without a terminal, no bars
    video = await get_video(video_id)
    assert video["state"] == "ready" and video["title"] == "My Holiday"
    assert await mece_problems(video_id) == []

    bad = tmp_path / "readme.txt"
    bad.write_text("plain text\n" * 20)
    result = heaters(pipeline, "ingest", str(bad), "--wait")
    assert result.returncode == 1
    assert "download_failed" in result.stderr and "not a video" in result.stderr

    # retry puts the failed video back in the queue; it fails again the same way, cleanly.
    failed_id = int(result.stdout.splitlines()[0])
    retried = heaters(pipeline, "retry", str(failed_id))
    assert retried.returncode == 0 and f"re-queued video {failed_id}" in retried.stdout
    again = heaters(pipeline, "retry", str(video_id))
    assert again.returncode == 2 and "not in a failed state" in again.stderr


def test_ingest_of_a_missing_file_fails_at_once(settings: Settings, tmp_path: Path) -> None:
    heaters(settings, "migrate")
    result = heaters(settings, "ingest", str(tmp_path / "nope.mp4"))
    assert result.returncode == 2
    assert "nope.mp4 does not exist" in result.stderr


def test_scenes_json_matches_the_ground_truth(tmp_path: Path) -> None:
    shots = [ShotSpec(30), ShotSpec(25, flashes=(10,)), ShotSpec(40, "dissolve", 10), ShotSpec(30)]
    truth = make_video(tmp_path / "s.mp4", shots=shots, size=(160, 90))
    result = heaters(None, "scenes", str(truth.path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["frames"] == truth.frames and data["fps"] == "25/1"
    assert len(data["cuts"]) == len(truth.cuts)
    for cut, (lo, hi) in zip(data["cuts"], truth.windows, strict=True):
        assert lo - 1 <= cut <= hi, (data["cuts"], truth.windows)

    plain = heaters(None, "scenes", str(truth.path))
    assert plain.returncode == 0 and f"{truth.frames} frames" in plain.stdout

    text = tmp_path / "t.txt"
    text.write_bytes(b"")
    empty = heaters(None, "scenes", str(text))
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_scenes_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    import pty

    truth = make_video(tmp_path / "long.mp4", shot_frames=(150, 150), size=(160, 90))
    terminal, stderr = pty.openpty()  # stderr is a terminal, stdout a pipe: the JSON stays clean
    try:
        result = subprocess.run([sys.executable, "-m", "heaters", "scenes", str(truth.path), "--json"],
                                stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120)
        os.close(stderr)
        shown = b""
        while chunk := _read_some(terminal):
            shown += chunk
    finally:
        os.close(terminal)
    assert result.returncode == 0
    assert json.loads(result.stdout)["cuts"] == [150]
    assert b"long.mp4: 100/300 frames" in shown
    assert shown.endswith(b"\r\x1b[K")  # the line is cleared at the end


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the other end is closed
        return b""


def test_doctor_reports_each_part(settings: Settings) -> None:
    heaters(settings, "migrate")
    result = heaters(settings, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(result.stdout)}
    assert set(checks) == {"database", "redis", "storage", "codecs", "chromium"}
    assert checks["database"]["ok"] and checks["storage"]["ok"] and checks["codecs"]["ok"]
    assert result.returncode == 0


def test_help_explains_every_command() -> None:
    for command in ("ingest", "scenes", "workers", "up", "retry", "doctor"):
        result = heaters(None, command, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout
        assert len(result.stdout.splitlines()) > 4, command


def test_workers_never_import_the_console_or_web_stacks() -> None:
    code = (
        "import sys; from heaters.cli import cli; import heaters.actors, heaters.actors.worker, "
        "heaters.cli.pipeline; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'litestar')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.redis
async def test_up_demo_runs_the_pipeline_and_stops_cleanly(pipeline: Settings) -> None:
    import signal
    import time

    from heaters.db.tables import User
    from heaters.services.videos import list_videos, mece_problems
    from tests.pipeline.conftest import video_state, wait_for

    env = {**os.environ, **settings_env(pipeline), "PYTHONUNBUFFERED": "1"}  # lines arrive as they are printed
    proc = subprocess.Popen(
        [sys.executable, "-m", "heaters", "up", "--demo", "--no-server"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        async def demo_video() -> list[dict[str, object]]:
            return await list_videos()

        (video,) = await wait_for(demo_video, timeout=60, what="the demo video")
        await wait_for(lambda: video_state(int(video["id"]), "ready"), timeout=120, what="demo ready")
        assert await mece_problems(int(video["id"])) == []
        assert await User.count().where(User.username == "demo") == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert time.monotonic() - started < 30
    assert "demo: video" in output and "demo: reviewer demo / " in output and "stopping workers" in output

    # Twice: the same video and user, no second sample; the credentials printed are the ones that work now.
    again = subprocess.Popen([sys.executable, "-m", "heaters", "up", "--demo", "--no-server"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert again.stdout is not None
        lines = []
        for line in again.stdout:
            lines.append(line)
            if "demo: reviewer demo / " in line:
                break
    finally:
        again.send_signal(signal.SIGTERM)
        rest, _ = again.communicate(timeout=60)
    second = "".join(lines) + rest
    assert again.returncode == 0, second
    assert f"demo: video {video['id']} already here, reused" in second
    assert [v["id"] for v in await list_videos()] == [video["id"]]
    assert await User.count().where(User.username == "demo") == 1
    password = second.split("demo: reviewer demo / ", 1)[1].split()[0]
    from heaters.services.users import authenticate

    assert (await authenticate("demo", password))["username"] == "demo"


def test_wait_shows_one_bar_per_stage() -> None:
    from heaters.cli.waiting import stage_bars

    encoding = {"id": 7, "state": "encoding", "title": "Sea", "progress": {"stage": "encode", "percent": 50.0,
                                                                          "frames": 120}}
    lines = stage_bars(encoding)
    assert lines[0] == "video 7 Sea"
    assert lines[1].split()[0] == "download" and "100.0%" in lines[1]
    assert lines[2].split()[0] == "encode" and "50.0%" in lines[2] and "120 frames" in lines[2]
    assert "#" * 15 + "-" * 15 in lines[2]
    assert lines[3].endswith("waiting")
    failed = stage_bars({"id": 7, "state": "detect_failed", "title": "Sea", "progress": {}})
    assert failed[3].endswith("failed") and "100.0%" in failed[2]


def test_wait_without_a_terminal_prints_plain_lines() -> None:
    from heaters.cli.waiting import plain_line

    def encoding(**progress: object) -> dict[str, object]:
        return {"id": 3, "state": "encoding", "progress": {"stage": "encode", **progress}}

    assert plain_line(encoding(percent=25.0, frames=250, total=1000, seconds=10.0)) == (
        "video 3: encode 25.0% (250/1000 frames, 30 s left)")
    assert plain_line(encoding(percent=50.0, frames=500, total=1000, seconds=240.0)) == (
        "video 3: encode 50.0% (500/1000 frames, 4 min left)")
    assert plain_line(encoding(percent=100.0, frames=1000, total=1000, seconds=40.0,
                               step="verifying and indexing")) == (
        "video 3: encode 100.0% (1000/1000 frames, verifying and indexing)")
    assert plain_line({"id": 3, "state": "encoding", "progress": {}}) == "video 3: encode starting"
    assert plain_line(encoding(percent=None, frames=40)) == "video 3: encode started (40 frames)"
    assert plain_line({"id": 3, "state": "downloaded", "progress": {}}) == "video 3: waiting for encode"


@pytest.mark.parametrize("option", [["--threshold", "0"], ["--threshold", "-2"], ["--min-frames", "0"]])
def test_scenes_refuses_an_out_of_range_setting(tmp_path: Path, option: list[str]) -> None:
    # A threshold of 0 divided by zero; a negative one printed NaN confidences, which is not JSON.
    video = make_video(tmp_path / "v.mp4", shots=[ShotSpec(20), ShotSpec(20)], size=(160, 90))
    result = heaters(None, "scenes", str(video.path), "--json", *option)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert option[0] in result.stderr
    refused = subprocess.run([sys.executable, "-m", "heaters", "scenes", str(video.path)], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "HEATERS_SCENE_THRESHOLD": "0"})
    assert refused.returncode != 0 and "HEATERS_SCENE_THRESHOLD" in refused.stderr, refused.stderr
