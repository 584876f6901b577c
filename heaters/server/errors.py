"""Every error answered in one place: JSON ``{"error", "detail"}`` under ``/api``, an HTML page elsewhere.

Domain errors (``HeatersError``) carry their own status; the framework's own exceptions (unknown route, bad
parameter, CSRF failure, missing login) get the same JSON shape so API clients handle a single format. A page
request without a login is sent to the login page instead of seeing a 401.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from heaters.errors import HeatersError

log = logging.getLogger(__name__)

# Framework status codes -> the ``error`` kind an API client switches on.
KINDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "unprocessable", 429: "too_many_requests"}


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """API and media paths and explicit JSON clients get JSON; browsers navigating pages get HTML.

    Media answers JSON too: its clients are scripts fetching byte ranges, for which a redirect to the login
    page would look like a successful response.
    """
    path = request.url.path
    if path.startswith(("/api/", "/media/")) or path in ("/api", "/healthz"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request[Any, Any, Any], status: int, kind: str, detail: str, extra: dict[str, Any] | None = None
) -> Response[Any]:
    if wants_json(request):
        return Response({"error": kind, "detail": detail, **(extra or {})}, status_code=status,
                        media_type=MediaType.JSON)
    from heaters.server.views import csrf_token

    context = {"status": status, "kind": kind, "detail": detail, "user": request.scope.get("user"),
               "csrf_token": csrf_token(request), "flashes": [], "path": request.url.path}
    return Template("error.html", context=context, status_code=status)


def heaters_error(request: Request[Any, Any, Any], exc: HeatersError) -> Response[Any]:
    extra = {"code": exc.code} if hasattr(exc, "code") else None
    if exc.status_code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return error_response(request, exc.status_code, exc.kind, str(exc), extra)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target)}", status_code=303)
    detail = exc.detail or KINDS.get(status, "error")
    if isinstance(exc, NotAuthorizedException):
        detail = "log in first"
    extra = None
    if isinstance(exc, ValidationException) and exc.extra:
        extra = {"fields": exc.extra}
    if status == 403 and "CSRF" in detail:
        detail += " (send the csrftoken cookie's value in the x-csrftoken header, or _csrf_token in forms)"
    response = error_response(request, status, KINDS.get(status, "error"), detail, extra)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return error_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "internal", "internal server error (see the server log)"
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HeatersError: heaters_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
