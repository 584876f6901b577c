"""``GET /healthz``: is the process up and the database reachable (for load balancers; no login)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get

from heaters.db.tables import SourceVideo


class HealthController(Controller):
    path = "/healthz"
    tags = ("health",)

    @get("/", summary="Liveness and database check (no login)")
    async def health(self) -> Response[dict[str, Any]]:
        try:
            await SourceVideo.count()
        except Exception as exc:  # any failure to query is "not healthy", whatever the driver raises
            return Response({"status": "error", "db": "unreachable", "detail": type(exc).__name__}, status_code=503)
        return Response({"status": "ok", "db": "ok"}, status_code=200)
