"""Reviewer and operator accounts on top of Piccolo's hashed-password user table."""

from __future__ import annotations

from typing import Any

from heaters.db.tables import User
from heaters.errors import BadInput, Conflict, Unauthorized

ROLES = ("reviewer", "operator")


async def add_user(username: str, password: str, role: str = "reviewer") -> int:
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
    if await User.exists().where(User.username == username):
        raise Conflict(f"user {username!r} already exists", "choose another name")
    try:
        user = await User.create_user(
            username=username, password=password, email=f"{username}@users.heaters.invalid", active=True,
            role=role,
        )
    except ValueError as exc:  # Piccolo's password rules
        raise BadInput(str(exc), "use a password of at least 6 characters") from None
    return int(user.id)


async def authenticate(username: str, password: str) -> dict[str, Any]:
    """The user's id, name and role, or ``Unauthorized`` (same message for unknown name and bad password)."""
    user_id = await User.login(username=username, password=password)
    if user_id is None:
        raise Unauthorized("wrong user name or password")
    row = await User.select(User.id, User.username, User.role).where(User.id == user_id).first()
    assert row is not None
    return row


async def get_user(user_id: int) -> dict[str, Any] | None:
    return await User.select(User.id, User.username, User.role, User.active).where(User.id == user_id).first()


async def list_users() -> list[dict[str, Any]]:
    return await User.select(User.id, User.username, User.role, User.active, User.last_login).order_by(User.id)
