"""``heaters serve`` as users run it, in child processes, on the database under test.

For what the in-process test client cannot show: a proxy's ``X-Forwarded-Proto`` through uvicorn, several web
processes sharing state, a real HTTP stack for schemathesis.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from heaters.settings import Settings

HEATERS = [sys.executable, "-c", "from heaters.cli import main; main()"]
PASSWORD = "correct-horse"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Installation:
    """The environment of one installation: its data dir and database, as the CLI reads them."""

    settings: Settings
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEATERS_", "DATABASE_URL", "REDIS_URL"))}
        env.update(HEATERS_DATA_DIR=str(self.settings.data_dir), DATABASE_URL=self.settings.resolved_database_url,
                   HEATERS_SECRET_KEY=self.settings.secret_key or "live-secret")
        self.env = env

    def heaters(self, *args: str, stdin: str = "") -> str:
        result = subprocess.run([*HEATERS, *args], env=self.env, input=stdin, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def add_user(self, name: str, role: str = "reviewer") -> None:
        self.heaters("user", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")

    @contextlib.contextmanager
    def serve(self, *args: str) -> Iterator[str]:
        """Run ``heaters serve`` on a free port until the block ends; yield its base URL."""
        port = free_port()
        server = subprocess.Popen([*HEATERS, "serve", "--port", str(port), "--log-level", "warning", *args],
                                  env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(server.stdout.read() if server.stdout else "no server") from None
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def login(client: httpx.Client, name: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    """Sign ``client`` in through the login form; the CSRF header is set for later requests."""
    client.get("/login", headers=headers)
    token = client.cookies.get("csrftoken") or ""
    response = client.post("/login", data={"username": name, "password": password, "_csrf_token": token},
                           headers=headers, follow_redirects=False)
    client.headers["x-csrftoken"] = token
    return response


@dataclass
class RedisServer:
    """A private redis-server on a free port, started and stopped by the test that needs it."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        from tests.service_fixtures import redis_executable

        binary = redis_executable()
        assert binary, "no redis-server on this machine"
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return self
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
