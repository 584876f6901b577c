"""Pipeline fixtures: a namespace on the session's redis-server, worker processes, tiny videos, a local web server.

Workers run as ``heaters workers`` subprocesses configured only through the environment, exactly as users run
them; they share the test's database (the SQLite file or Postgres) and storage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from heaters.settings import Settings
from tests.service_fixtures import free_port  # noqa: F401 - pipeline tests import it from here


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process build exactly ``settings``."""
    env = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if f.name == "database_url":
            value = settings.resolved_database_url
        env[f.metadata["env"]] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


@pytest.fixture
def redis_namespace() -> str:
    """A key prefix of this test's own on the session's redis-server (tests never see each other's queues)."""
    return f"heaters-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pipeline(db: Settings, redis_server: str, redis_namespace: str) -> Settings:
    """Settings for pipeline tests: real Redis, short leases and dispatcher interval, few attempts; sources on
    this machine allowed (the tests serve their videos from 127.0.0.1)."""
    return replace(
        db, redis_url=redis_server, redis_namespace=redis_namespace, lease_seconds=2, dispatch_seconds=0.3,
        max_attempts=3, restore_poll_seconds=1.0, export_preset="ultrafast", proxy_preset="ultrafast",
        allow_private_sources=True,
    )


@pytest.fixture
def broker(pipeline: Settings) -> Iterator[Any]:
    """A broker in the test process, to read what was sent."""
    from heaters.services.broker import create_broker

    b = create_broker(pipeline)
    yield b
    b.close()


@pytest.fixture
def tasks(broker: Any, pipeline: Settings) -> Any:
    """A task queue in the test process, so services here send work like the web app does."""
    from heaters.services.queue import TaskQueue

    return TaskQueue(broker, lease_seconds=pipeline.lease_seconds)


class WorkerProcess:
    """A ``heaters workers`` subprocess that can be killed and restarted."""

    def __init__(self, settings: Settings, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, **settings_env(settings), **(extra_env or {})}
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> WorkerProcess:
        self.runs += 1
        log = open(self.log_dir / f"worker-{self.runs}.log", "wb")  # noqa: SIM115 - lives as long as the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "heaters", "workers", "--threads", "2"], env=self.env, stdout=log, stderr=log,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, exactly like a crash or the OOM killer."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def worker(pipeline: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A running worker process on the test's database, storage and Redis namespace."""
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = WorkerProcess(pipeline, logs).start()
    yield proc
    proc.stop()


async def wait_for(
    check: Callable[[], Awaitable[Any]], timeout: float = 60.0, interval: float = 0.1, what: str = "condition",
    worker: WorkerProcess | None = None,
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the worker's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    detail = f"\n--- worker log ---\n{worker.logs()[-4000:]}" if worker else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


async def video_state(video_id: int, *states: str) -> dict[str, Any] | None:
    from heaters.services.videos import get_video

    video = await get_video(video_id)
    return video if video["state"] in states else None


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served over HTTP on 127.0.0.1 by Python's own server: (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


