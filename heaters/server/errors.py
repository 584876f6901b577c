"""Every error answered in one place: JSON ``{"error", "detail"}`` under ``/api``, an HTML page elsewhere.

Domain errors (``HeatersError``) carry their own status; the framework's own exceptions (unknown route, bad
parameter, CSRF failure, missing login) get the same JSON shape so API clients handle a single format. A page
request without a login is sent to the login page instead of seeing a 401. ``ErrorBody`` is that shape, declared
once and attached to every operation of the OpenAPI for each client error it can answer.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.config.app import AppConfig
from litestar.controller import Controller
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from msgspec import Struct

from heaters.errors import HeatersError

log = logging.getLogger(__name__)

# Framework status codes -> the ``error`` kind an API client switches on.
KINDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "unprocessable", 429: "too_many_requests"}


class ErrorBody(Struct):
    """Every error the API answers."""

    error: str  # a stable kind to switch on: not_found, conflict, invalid_cut, unprocessable, …
    detail: str  # what went wrong and what to do, for people
    fields: list[dict[str, Any]] | None = None  # the parameters that failed validation
    code: str | None = None  # the finer reason of an invalid cut


ERROR_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)
    for status, description in (
        (400, "Malformed request or a parameter out of range"), (401, "Not logged in"),
        (403, "Missing role or CSRF token"), (404, "No such resource"), (405, "Method not allowed"),
        (409, "The state changed under the request"), (413, "Request body too large"),
        (422, "Valid request that cannot be carried out (bad cut, undownloadable source)"),
        (429, "Too many requests"),
    )
}


def declare_errors(app_config: AppConfig) -> AppConfig:
    """``on_app_init`` hook: every route handler documents ``ErrorBody`` for its client errors (its own
    declared responses win)."""
    for layer in app_config.route_handlers:
        handlers = vars(layer).values() if isinstance(layer, type) and issubclass(layer, Controller) else [layer]
        for handler in handlers:
            if isinstance(handler, HTTPRouteHandler):
                handler.responses = {**ERROR_RESPONSES, **(handler.responses or {})}
    return app_config


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


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # Where a request meets the recursion limit: decoding a body nested thousands of levels deep, which the
    # JSON decoder does not turn into a decode error of its own.
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 400, "bad_request", "the request body is nested too deeply to read")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HeatersError: heaters_error,
    HTTPException: http_error,
    RecursionError: too_deep,
    Exception: unexpected_error,
}
