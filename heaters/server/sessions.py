"""Server-side sessions: the cookie holds only a random id, the session lives in a store and can be ended.

The store is the database (``heaters_store``) by default, so ``heaters serve`` alone needs nothing more and
signing in keeps working while the task queue's Redis is down; ``HEATERS_SESSION_STORE=redis`` keeps them in
Redis (``REDIS_URL``) instead. Logout deletes the session; a password change, a role change or disabling an account
bumps the user's ``session_epoch``, which voids every session signed in before (checked on each request).
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import NamespacedStore, Store
from litestar.types import Empty, Message, ScopeSession

from heaters.db import kv
from heaters.settings import Settings

# Set in the scope by the login handler: the response carries a fresh session id, never the pre-login one.
ROTATE = "heaters.new_session_id"


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DatabaseStore(NamespacedStore):
    """A Litestar ``Store`` on the ``heaters_store`` table."""

    def __init__(self, namespace: str = "heaters") -> None:
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(f"{self.namespace}:{namespace}")

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        seconds = _seconds(expires_in)
        data = value.encode() if isinstance(value, str) else value
        await kv.put(self._key(key), data, None if seconds is None else time.time() + seconds)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        found = await kv.get(self._key(key))
        if found is None:
            return None
        seconds = _seconds(renew_for)
        if seconds is not None and found[1] is not None:
            await kv.set_expiry(self._key(key), time.time() + seconds)
        return found[0]

    async def delete(self, key: str) -> None:
        await kv.delete(self._key(key))

    async def delete_all(self) -> None:
        await kv.delete_prefix(self.namespace + ":")

    async def exists(self, key: str) -> bool:
        return await kv.get(self._key(key)) is not None

    async def expires_in(self, key: str) -> int | None:
        found = await kv.get(self._key(key))
        if found is None or found[1] is None:
            return None
        return max(0, int(found[1] - time.time()))


def session_store(settings: Settings) -> Store:
    """The database, or Redis when configured so."""
    if settings.session_store == "redis":
        if not settings.redis_url:
            from heaters.errors import ConfigError

            raise ConfigError("HEATERS_SESSION_STORE=redis needs REDIS_URL", "set REDIS_URL or use 'database'")
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace=f"{settings.redis_namespace}-sessions")
    return DatabaseStore("sessions")


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, plus a new session id at sign-in (no session fixation), and no
    stored session without something in it."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        rotated = connection.scope.get(ROTATE)  # type: ignore[call-overload]
        if rotated:
            return str(rotated)
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        # The framework stores every request's session, even an empty one: each signed-out request (a health
        # check, a static file, a cookie the client made up) would add a row living for SESSION_DAYS.
        if scope_session is Empty or not scope_session:
            if connection.cookies.get(self.config.key, "null") != "null":
                await super().store_in_message(Empty, message, connection)  # forget it, clear the cookie
            return
        await super().store_in_message(scope_session, message, connection)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


async def start_new_session(connection: ASGIConnection[Any, Any, Any, Any], data: dict[str, Any]) -> None:
    """End the connection's current session (if any) and give it a fresh id holding ``data``."""
    config: SessionConfig = connection.app.state.session_config
    store = config.get_store_from_app(connection.app)
    old = connection.cookies.get(config.key)
    if old:
        await store.delete(old)
    connection.scope[ROTATE] = secrets.token_hex(config.session_id_bytes)  # type: ignore[literal-required]
    connection.set_session(data)

