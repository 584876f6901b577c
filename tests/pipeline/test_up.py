"""``heaters up`` with the review app and the embedded Redis stops everything it started on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from heaters.services.broker import embedded_redis_url
from heaters.settings import Settings
from tests.pipeline.conftest import free_port, settings_env


def test_up_serves_and_stops_workers_and_redis_on_sigterm(settings: Settings) -> None:
    port = free_port()
    env = {**os.environ, **settings_env(settings), "HEATERS_PORT": str(port)}
    env.pop("REDIS_URL", None)  # the embedded default
    proc = subprocess.Popen([sys.executable, "-m", "heaters", "up"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the review app did not come up"
                time.sleep(0.3)
        assert embedded_redis_url(settings) is not None
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "stopping workers" in output
    assert embedded_redis_url(settings) is None  # not left running behind
