"""Server-side sessions that end when they must, and sign-in under attack, through the real app and real servers."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest

from heaters.services import users
from heaters.settings import Settings
from tests.server.conftest import PASSWORD, Web, open_web
from tests.server.live import Installation, RedisServer, login


async def test_a_saved_session_cookie_signs_nobody_in_after_logout(reviewer: Web) -> None:
    saved = reviewer.client.cookies.get("heaters_session")
    assert saved and len(saved) == 64  # an id, not the session's content
    assert (await reviewer.client.post("/logout", follow_redirects=False)).status_code == 303
    reviewer.client.cookies.set("heaters_session", saved)  # an attacker who kept a copy
    assert (await reviewer.client.get("/api/videos")).status_code == 401


async def test_signing_in_starts_a_new_session(web: Web) -> None:
    web.add_user("rita")
    await web.client.get("/login")
    planted = "f" * 64  # set by someone else before the login
    response = await web.client.post(
        "/login", data={"username": "rita", "password": PASSWORD, "_csrf_token": web.csrf},
        headers={"cookie": f"csrftoken={web.csrf}; heaters_session={planted}"}, follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.cookies.get("heaters_session") not in (None, planted)


async def _stored_sessions() -> int:
    from heaters.db.tables import StoredValue

    return await StoredValue.count().where(StoredValue.key.like("sessions%"))


async def test_signed_out_requests_store_no_session(web: Web) -> None:
    for path in ("/healthz", "/login", "/static/js/review.js", "/", "/api/videos"):
        response = await web.client.get(path, follow_redirects=False)
        assert "heaters_session" not in response.headers.get("set-cookie", ""), path
    made_up = await web.client.get("/healthz", headers={"cookie": "heaters_session=" + "a" * 64})
    assert "heaters_session=null;" in made_up.headers["set-cookie"]  # made up by the client: cleared, not stored
    assert web.call(_stored_sessions) == 0
    web.add_user("rita")
    await web.login("rita")
    assert web.call(_stored_sessions) == 1  # signing in stores one
    await web.client.post("/logout")
    assert web.call(_stored_sessions) == 0


CHANGES: dict[str, Callable[[], Awaitable[None]]] = {
    "password": lambda: users.set_password("rita", "another-password"),
    "role": lambda: users.set_role("rita", "operator"),
    "disable": lambda: users.set_active("rita", False),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_account_changes_end_the_users_sessions_at_once(reviewer: Web, change: str) -> None:
    other = reviewer.add_user("vera")
    assert other
    assert (await reviewer.client.get("/api/videos")).status_code == 200
    reviewer.call(CHANGES[change])
    assert (await reviewer.client.get("/api/videos")).status_code == 401


def test_heaters_user_disable_ends_sessions_of_a_running_server(db: Settings) -> None:
    site = Installation(db)
    site.add_user("rita")
    with site.serve() as base, httpx.Client(base_url=base) as client:
        assert login(client, "rita").status_code == 303
        assert client.get("/api/videos").status_code == 200
        site.heaters("user", "disable", "rita")
        assert client.get("/api/videos").status_code == 401
        assert login(client, "rita").status_code == 401
        site.heaters("user", "enable", "rita")
        assert login(client, "rita").status_code == 303


def test_the_session_cookie_is_secure_on_the_https_sign_in(db: Settings) -> None:
    site = Installation(db)
    site.add_user("rita")
    https = {"x-forwarded-proto": "https"}
    with site.serve("--proxy-headers") as base, httpx.Client(base_url=base) as client:
        page = client.get("/login", headers=https)
        token = page.cookies.get("csrftoken") or ""
        signed_in = client.post(
            "/login", data={"username": "rita", "password": PASSWORD, "_csrf_token": token},
            headers={**https, "cookie": f"csrftoken={token}"}, follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        cookies = [v for k, v in signed_in.headers.multi_items() if k == "set-cookie"]
        session = next(c for c in cookies if c.startswith("heaters_session="))
        assert "Secure" in session and "HttpOnly" in session
        plain = httpx.Client(base_url=base)
        plain.get("/login")
        assert all("Secure" not in c for k, c in plain.get("/login").headers.multi_items() if k == "set-cookie")
        plain.close()


def test_failed_sign_ins_count_across_web_processes_and_names(db: Settings) -> None:
    site = Installation(db)
    site.add_user("rita")
    with site.serve() as first, site.serve() as second:
        statuses = []
        for n in range(20):  # a new name each time, alternating between the two processes
            with httpx.Client(base_url=(first, second)[n % 2]) as client:
                statuses.append(login(client, f"name-{n}", "wrong-password").status_code)
        assert statuses == [401] * 20
        with httpx.Client(base_url=second) as client:
            refused = login(client, "rita")  # the right password, but this client has sprayed enough
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_guesses_sent_at_once_are_held_to_the_bound(db: Settings) -> None:
    # Each attempt is counted before its password is hashed: a burst cannot all be checked while the first
    # hashes run (they take a quarter of a second each on two hashing threads).
    site = Installation(db)
    site.add_user("rita")
    with site.serve() as base:
        clients = [httpx.Client(base_url=base) for _ in range(20)]
        tokens = [(c, (c.get("/login"), c.cookies.get("csrftoken"))[1]) for c in clients]

        def guess(pair: tuple[httpx.Client, str | None], n: int) -> int:
            client, token = pair
            data = {"username": "rita", "password": f"guess-{n}", "_csrf_token": token or ""}
            return client.post("/login", data=data, follow_redirects=False).status_code

        with ThreadPoolExecutor(len(tokens)) as pool:
            codes = sorted(pool.map(guess, tokens, range(len(tokens))))
        for client in clients:
            client.close()
    assert codes == [401] * 5 + [429] * 15


async def test_password_hashing_runs_off_the_event_loop(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    from heaters.db.tables import User

    threads: list[str] = []
    real = User.hash_password.__func__  # type: ignore[attr-defined]

    def recording(cls: Any, *args: Any, **kwargs: Any) -> str:
        threads.append(threading.current_thread().name)
        return str(real(cls, *args, **kwargs))

    web.add_user("rita")
    monkeypatch.setattr(User, "hash_password", classmethod(recording))
    loop_thread = web.call(_thread_name)
    await web.client.get("/login")
    for password in ("wrong-password", PASSWORD):
        await web.client.post("/login", data={"username": "rita", "password": password, "_csrf_token": web.csrf})
    await web.client.post("/login", data={"username": "nobody", "password": "x" * 8, "_csrf_token": web.csrf})
    assert len(threads) == 3 and loop_thread not in threads
    assert all(name.startswith("password-hash") for name in threads)


async def _thread_name() -> str:
    return threading.current_thread().name


async def test_sessions_can_live_in_redis(db: Settings, own_redis: RedisServer) -> None:
    redis_url = own_redis.url
    settings = replace(db, redis_url=redis_url, session_store="redis")
    async for web in open_web(settings):
        web.add_user("rita")
        await web.login("rita")
        saved = web.client.cookies.get("heaters_session") or ""
        import redis

        client = redis.Redis.from_url(redis_url)
        assert any(saved in key.decode() for key in client.scan_iter(match="*sessions*"))
        await web.client.post("/logout")
        assert not any(saved in key.decode() for key in client.scan_iter(match="*sessions*"))
        client.close()


async def test_expired_sessions_and_counters_are_removed_at_startup(db: Settings) -> None:
    from heaters.db import kv

    await kv.put("sessions:old", b"{}", expires_at=1.0)
    await kv.put("sessions:live", b"{}", expires_at=None)
    await kv.hit("signin:10.0.0.9", window=-1)
    async for web in open_web(db):
        assert (await web.client.get("/healthz")).status_code == 200
    assert await kv.get("sessions:live") is not None
    from heaters.db.tables import Counter, StoredValue

    assert await StoredValue.count().where(StoredValue.key == "sessions:old") == 0
    assert await Counter.count() == 0


async def test_a_running_web_process_keeps_removing_expired_sessions(db: Settings) -> None:
    import asyncio
    import time

    from heaters.db import kv
    from heaters.db.tables import StoredValue

    sweeper = asyncio.create_task(kv.sweep_expired(0.05))
    try:
        await kv.put("sessions:live", b"{}", expires_at=None)
        await kv.put("sessions:ending", b"{}", expires_at=time.time() + 0.2)  # expires while the sweeper runs
        deadline = time.monotonic() + 10
        while await StoredValue.count().where(StoredValue.key == "sessions:ending") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await StoredValue.count().where(StoredValue.key == "sessions:ending") == 0
        assert await kv.get("sessions:live") is not None
    finally:
        sweeper.cancel()
