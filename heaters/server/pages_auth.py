"""Login, logout and (for operators) the accounts page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from heaters.errors import HeatersError, Unauthorized
from heaters.server.auth import operator_only, safe_next
from heaters.server.sessions import start_new_session
from heaters.server.throttle import LoginThrottle
from heaters.server.views import flash, page
from heaters.services import users


class AuthController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request[Any, Any, State], next: FromQuery[str] = "/") -> Template | Redirect:
        session = request.scope.get("session")
        if isinstance(session, dict) and session.get("user_id"):
            return Redirect(safe_next(next), status_code=303)
        return page(request, "login.html", next=safe_next(next), username="", error="")

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, State], data: URLEncodedBody[dict[str, str]]
    ) -> Template | Redirect:
        target = safe_next(data.get("next"))
        name = (data.get("username") or "").strip()
        throttle: LoginThrottle = request.app.state.login_throttle
        client = request.client.host if request.client else "?"
        wait = await throttle.attempt(client, name)
        if wait:
            seconds = int(wait) + 1
            error = f"too many failed sign-ins; try again in {seconds} seconds"
            response = page(request, "login.html", status_code=429, next=target, username=name, error=error)
            response.headers["Retry-After"] = str(seconds)
            return response
        try:
            user = await users.authenticate(name, data.get("password") or "")
        except Unauthorized as exc:  # counted already
            return page(request, "login.html", status_code=401, next=target, username=name, error=exc.message)
        await throttle.succeeded(client, name)
        # A fresh session id on login: nothing from before the login carries over.
        await start_new_session(request, {"user_id": user["id"], "epoch": user["session_epoch"]})
        return Redirect(target, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, State]) -> Redirect:
        request.clear_session()  # deletes the session from the store: its cookie signs nobody in any more
        return Redirect("/login", status_code=303)


class UserPageController(Controller):
    path = "/users"
    guards = (operator_only,)
    include_in_schema = False

    @get("/")
    async def list_page(self, request: Request[Any, Any, State]) -> Template:
        return page(request, "users.html", accounts=await users.list_users(), roles=users.ROLES)

    @post("/", status_code=303)
    async def add(self, request: Request[Any, Any, State], data: URLEncodedBody[dict[str, str]]) -> Redirect:
        name = (data.get("username") or "").strip()
        try:
            await users.add_user(name, data.get("password") or "", data.get("role") or "reviewer")
        except HeatersError as exc:
            flash(request, str(exc), "error")
        else:
            flash(request, f"created {data.get('role') or 'reviewer'} {name!r}")
        return Redirect("/users", status_code=303)
