"""Reviewer and operator accounts on top of Piccolo's hashed-password user table.

Password hashing (PBKDF2, hundreds of thousands of rounds) runs in a small thread pool, never on the event
loop, so sign-in attempts cannot stall other requests; the pool's size bounds the CPU they can take. Every
change that must end a user's sessions (password, role, disabling) bumps ``session_epoch``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from heaters.db.tables import User
from heaters.errors import BadInput, Conflict, NotFound, Unauthorized

ROLES = ("reviewer", "operator")
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")
# Hashed for unknown names too, so the answer takes as long as for a wrong password (no name probing).
_DUMMY_HASH = User.hash_password("no such user")


async def _hash(password: str, salt: str = "", iterations: int | None = None) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, User.hash_password, password, salt, iterations)


# Letters and digits of any script, and . _ - @ + inside: a name that reads the same in the audit log, a table
# and a terminal, and that sign-in (which takes at most 100 characters) accepts.
USERNAME = re.compile(r"[^\W_](?:[\w.@+-]{0,98}[^\W_])?")


async def add_user(username: str, password: str, role: str = "reviewer") -> int:
    _check_role(role)
    if not USERNAME.fullmatch(username):
        raise BadInput(f"{username!r} is not a usable user name",
                       "use 1 to 100 letters or digits (and . _ - @ + between them)")
    taken = {row["username"].casefold() for row in await User.select(User.username)}  # a few dozen rows
    if username.casefold() in taken:
        raise Conflict(f"user {username!r} already exists (names are the same in any case)", "choose another name")
    try:
        User._validate_password(password)
    except ValueError as exc:  # Piccolo's password rules
        raise BadInput(str(exc), "use a password of at least 6 characters") from None
    user = User(username=username, password=await _hash(password), email=f"{username}@users.heaters.invalid",
                active=True, role=role)
    await user.save()
    return int(user.id)


async def authenticate(username: str, password: str) -> dict[str, Any]:
    """The user's id, name, role and session epoch, or ``Unauthorized`` (the same for unknown names, wrong
    passwords and disabled accounts)."""
    wrong = Unauthorized("wrong user name or password")
    if len(username) > (User.username.length or 100) or len(password) > User._max_password_length:
        raise wrong
    row = await User.select(User.id, User.username, User.role, User.active, User.password, User.session_epoch).where(
        User.username == username
    ).first()
    stored = row["password"] if row else _DUMMY_HASH
    _, iterations, salt, _ = User.split_stored_password(stored)
    candidate = await _hash(password, salt, int(iterations))
    if row is None or not row["active"] or not hmac.compare_digest(candidate, stored):
        raise wrong
    await User.update({User.last_login: datetime.now()}).where(User.id == row["id"])
    return {k: row[k] for k in ("id", "username", "role", "session_epoch")}


async def get_user(user_id: int) -> dict[str, Any] | None:
    return await User.select(User.id, User.username, User.role, User.active, User.session_epoch).where(
        User.id == user_id
    ).first()


async def list_users() -> list[dict[str, Any]]:
    return await User.select(User.id, User.username, User.role, User.active, User.last_login).order_by(User.id)


async def set_password(username: str, password: str) -> None:
    """Change the password and end the user's sessions."""
    try:
        User._validate_password(password)
    except ValueError as exc:
        raise BadInput(str(exc), "use a password of at least 6 characters") from None
    await _change(username, {User.password: await _hash(password)})


async def set_role(username: str, role: str) -> None:
    """Change the role and end the user's sessions (they sign in again with the new rights)."""
    _check_role(role)
    await _change(username, {User.role: role})


async def set_active(username: str, active: bool) -> None:
    """Disable (ending every session at once) or enable an account."""
    await _change(username, {User.active: active})


async def _change(username: str, values: dict[Any, Any]) -> None:
    updated = await User.update({**values, User.session_epoch: User.session_epoch + 1}).where(
        User.username == username
    ).returning(User.id)
    if not updated:
        raise NotFound(f"no user {username!r}", "see `heaters user list`")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
