"""The task broker: Dramatiq over Redis, from ``REDIS_URL`` or an embedded redis-server in the data dir.

The embedded default needs nothing installed (``embedded_redis``): a redis-server child on a unix socket under
``<data dir>/redis``. A second process attaches to the running server, so ``heaters up``, its workers and a
``heaters ingest`` in another terminal share one queue.
"""

from __future__ import annotations

import logging
from typing import Any

from heaters.errors import ConfigError
from heaters.services.embedded_redis import (
    embedded_redis_file,
    embedded_redis_url,
    start_embedded_redis,
    stop_embedded_redis,
)
from heaters.settings import Settings

__all__ = ["create_broker", "embedded_redis_file", "embedded_redis_url", "start_embedded_redis",
           "stop_embedded_redis", "try_broker"]

log = logging.getLogger(__name__)

# A dead worker's unacknowledged messages come back after this long; the dispatcher usually re-queues the
# work sooner (expired lease), and a duplicate message is harmless because every stage claims its row.
HEARTBEAT_TIMEOUT_MS = 60_000


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
