"""Logins, sessions, roles and cookie hardening.

Sessions live on the server (``heaters.server.sessions``) and hold the user id and the user's session epoch;
every request looks the user up again, so logging out, a password or role change and a disabled account end
the user's sessions at once. Everything needs a login except the login
page, the health check and static files. Operators may also ingest, retry and manage users.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.security.session_auth import SessionAuth
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from heaters.errors import Forbidden
from heaters.server.sessions import SessionConfig
from heaters.services import users
from heaters.settings import Settings

SESSION_COOKIE = "heaters_session"
SESSION_DAYS = 14
# Regexes matched against the request path: the only routes reachable without logging in.
PUBLIC_PATHS = [r"^/login$", r"^/healthz$", r"^/static/"]


def load_secret_key(settings: Settings) -> str:
    """``settings.secret_key``, or a random key created once in the data dir (mode 0600) and reused.

    Reusing it keeps sessions valid across restarts and across several web processes on one data dir.
    """
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.is_file():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: of two processes starting together, one writes and the other reads the winner's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so the session cipher and CSRF tokens never share key material."""
    return hmac.new(secret.encode(), f"heaters:{purpose}".encode(), hashlib.sha256).digest()


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """The logged-in user as ``{id, username, role}``, or None (which answers 401) if gone or inactive."""
    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    row = await users.get_user(user_id)
    if row is None or not row["active"] or row["session_epoch"] != session.get("epoch"):
        return None
    return {"id": row["id"], "username": row["username"], "role": row["role"]}


async def still_signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the session a long response (an event stream) began with still signs its user in: not ended
    by a logout, its account neither disabled nor changed since."""
    config: SessionConfig = connection.app.state.session_config
    session_id = connection.cookies.get(config.key)
    if not session_id or await config.get_store_from_app(connection.app).get(session_id) is None:
        return False
    session = connection.scope.get("session")
    return isinstance(session, dict) and await retrieve_user(session, connection) is not None


def session_config() -> SessionConfig:
    return SessionConfig(key=SESSION_COOKIE, max_age=SESSION_DAYS * 24 * 3600, httponly=True, samesite="lax")


def session_auth(config: SessionConfig) -> SessionAuth[Any, Any]:
    return SessionAuth(
        session_backend_config=config,
        retrieve_user_handler=retrieve_user,
        exclude=PUBLIC_PATHS,
        # Litestar skips HEAD by default; media HEAD requests must be authenticated like GETs.
        exclude_http_methods=["OPTIONS"],
    )


def secure_cookies_outermost(app_config: AppConfig) -> AppConfig:
    """Put ``SecureCookies`` around every other middleware, the session middleware included (which the
    session auth inserts first), so the session cookie is marked too; and security headers on everything."""
    from heaters.server.headers import SecurityHeaders

    app_config.middleware[0:0] = [DefineMiddleware(SecurityHeaders), DefineMiddleware(SecureCookies)]
    return app_config


def operator_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: ingest, retry and user management are for operators."""
    user = connection.user
    if not user or user.get("role") != "operator":
        raise Forbidden("this needs the operator role", "ask an operator (`heaters user add NAME --role operator`)")


def is_operator(user: dict[str, Any] | None) -> bool:
    return bool(user) and user.get("role") == "operator"  # type: ignore[union-attr]


def safe_next(target: str | None) -> str:
    """A redirect target after login: a local path only, never another site (``//evil`` or ``https://…``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SecureCookies:
    """ASGI middleware: mark every cookie ``Secure`` when the request came over https.

    Behind a TLS-terminating proxy, run uvicorn with proxy headers so the scheme is seen as https.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie" and not _has_secure(value):
                        value = value + b"; Secure"
                    headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_secure)


def _has_secure(set_cookie: bytes) -> bool:
    """Whether a Set-Cookie header already has the Secure attribute (the value itself is not looked at)."""
    attributes = set_cookie.split(b";")[1:]
    return any(a.strip().lower() == b"secure" for a in attributes)
