"""``heaters serve`` as users run it, and the web stack's import hygiene."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The console script's entry point, run by the interpreter under test (no PATH lookup).
HEATERS = [sys.executable, "-c", "from heaters.cli import main; main()"]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEATERS_", "DATABASE_URL"))}
    env["HEATERS_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_serve_help() -> None:
    result = subprocess.run([*HEATERS, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--host" in result.stdout and "--port" in result.stdout


def test_the_server_package_does_not_import_textual() -> None:
    code = "import sys, heaters.server.app; print('textual' in sys.modules, 'litestar' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_and_stops(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    migrated = subprocess.run([*HEATERS, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = subprocess.Popen([*HEATERS, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "db": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/videos").status_code == 401
        key = tmp_path / "data" / "secret_key"
        assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
