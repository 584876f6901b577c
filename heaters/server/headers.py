"""Security headers on every response, error pages, redirects and static files included.

An ASGI middleware rather than layered response headers, which the framework leaves off responses made by
its exception handlers. A response that sets one of these headers itself keeps its own value (stored media
is sandboxed, see ``heaters.server.media``).
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),  # a file is what its type says, never sniffed into HTML
    (b"x-frame-options", b"DENY"),  # no page in another site's frame: approve/reject cannot be clickjacked
    (b"content-security-policy", b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
    (b"referrer-policy", b"same-origin"),  # review URLs name videos and clips: they stay on this site
)
# Stored files (originals are whatever was uploaded: HTML, SVG) open as an opaque origin without scripts.
SANDBOXED = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
