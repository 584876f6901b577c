"""Logins, sessions, CSRF and roles, through the real app."""

from __future__ import annotations

import stat
from urllib.parse import unquote

import pytest

from heaters.server.auth import load_secret_key, safe_next
from heaters.services import users
from heaters.settings import Settings
from tests.server.conftest import PASSWORD, Web, open_web


@pytest.mark.parametrize("path", ["/api/videos", "/api/videos/1/clips", "/api/videos/1/audit", "/media/proxies/1.mp4"])
async def test_api_needs_login(web: Web, path: str) -> None:
    response = await web.client.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_media_head_needs_login_too(web: Web) -> None:
    # Litestar's session auth skips HEAD by default; media must not leak sizes or ETags.
    response = await web.client.head("/media/proxies/1.mp4")
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/", "/review", "/videos/1", "/users", "/clips/1/similar"])
async def test_pages_redirect_to_login(web: Web, path: str) -> None:
    response = await web.client.get(path, params={"x": "1"}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    assert unquote(location.removeprefix("/login?next=")) == f"{path}?x=1"


async def test_public_routes(web: Web) -> None:
    assert (await web.client.get("/login")).status_code == 200
    health = await web.client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "db": "ok"}
    css = await web.client.get("/static/css/heaters.css")
    assert css.status_code == 200 and "--bg" in css.text
    js = await web.client.get("/static/js/api.js")
    assert js.status_code == 200 and "x-csrftoken" in js.text


async def test_login_sets_a_hardened_session_and_logout_ends_it(web: Web) -> None:
    web.add_user("rita")
    await web.client.get("/login")
    response = await web.client.post(
        "/login", data={"username": "rita", "password": PASSWORD, "next": "/videos/7", "_csrf_token": web.csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/videos/7"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "heaters_session" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert (await web.client.get("/api/videos")).status_code == 200

    response = await web.client.post("/logout", data={"_csrf_token": web.csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await web.client.get("/api/videos")).status_code == 401


async def test_wrong_password_is_refused(web: Web) -> None:
    web.add_user("rita")
    await web.client.get("/login")
    response = await web.client.post(
        "/login", data={"username": "rita", "password": "nope-nope", "_csrf_token": web.csrf}, follow_redirects=False
    )
    assert response.status_code == 401
    assert "wrong user name or password" in response.text
    assert (await web.client.get("/api/videos")).status_code == 401


async def test_password_guessing_is_throttled(web: Web) -> None:
    web.add_user("rita")
    await web.client.get("/login")

    async def attempt(password: str) -> int:
        response = await web.client.post(
            "/login", data={"username": "rita", "password": password, "_csrf_token": web.csrf},
            follow_redirects=False,
        )
        return response.status_code

    assert [await attempt(f"guess-{n}") for n in range(5)] == [401] * 5
    refused = await web.client.post(
        "/login", data={"username": "rita", "password": PASSWORD, "_csrf_token": web.csrf}, follow_redirects=False
    )
    assert refused.status_code == 429  # even the right password waits once the limit is reached
    assert 290 < int(refused.headers["retry-after"]) <= 301
    assert (await web.client.get("/api/videos")).status_code == 401


async def test_throttle_counts_per_client_across_names_and_windows_end(db: Settings) -> None:
    from heaters.server.throttle import LoginThrottle

    throttle = LoginThrottle(per_name=2, per_client=3, window=300)
    assert [await throttle.attempt("10.0.0.1", "rita") for _ in range(2)] == [0, 0]
    assert 299 < await throttle.attempt("10.0.0.1", "Rita") <= 300  # names compare without case
    assert await throttle.attempt("10.0.0.1", "otto") == 0  # a third name-spraying attempt: the last allowed
    assert await throttle.attempt("10.0.0.1", "someone-new") > 0
    assert await throttle.attempt("10.0.0.2", "rita") == 0

    ended = LoginThrottle(per_name=1, per_client=1, window=-1)  # every window is already over
    assert [await ended.attempt("10.0.0.3", "rita") for _ in range(3)] == [0, 0, 0]


async def test_throttle_bounds_one_name_across_clients(db: Settings) -> None:
    from heaters.server.throttle import LoginThrottle

    throttle = LoginThrottle(per_name=2, per_client=5, per_account=3, window=300)
    assert [await throttle.attempt(f"10.1.0.{n}", "rita") for n in range(3)] == [0, 0, 0]  # many addresses
    assert 299 < await throttle.attempt("10.1.0.9", "RITA") <= 300  # a fourth address: the name's bound
    assert await throttle.attempt("10.1.0.9", "otto") == 0  # other names are untouched
    await throttle.succeeded("10.1.0.9", "otto")

    shared = LoginThrottle(per_name=5, per_client=5, per_account=2, window=300)
    assert await shared.attempt("10.2.0.1", "sam") == 0
    await shared.succeeded("10.2.0.1", "sam")  # a success is taken back from the name's count too
    assert [await shared.attempt("10.2.0.2", "sam") for _ in range(2)] == [0, 0]
    assert await shared.attempt("10.2.0.1", "sam") > 0  # and it does not clear what the other address tried


async def test_a_success_takes_its_attempt_back(db: Settings) -> None:
    from heaters.server.throttle import LoginThrottle

    throttle = LoginThrottle(per_name=2, per_client=2, window=300)
    for _ in range(3):  # signing in again and again is no guessing
        assert await throttle.attempt("10.0.0.4", "rita") == 0
        await throttle.succeeded("10.0.0.4", "rita")
    assert await throttle.attempt("10.0.0.4", "otto") == 0  # a failure
    assert await throttle.attempt("10.0.0.4", "rita") == 0
    await throttle.succeeded("10.0.0.4", "rita")  # forgets rita's count, not otto's failure
    assert await throttle.attempt("10.0.0.4", "ana") == 0
    assert await throttle.attempt("10.0.0.4", "bob") > 0  # two failures from this client: the bound


async def test_a_seen_block_is_answered_without_the_database(db: Settings) -> None:
    """A flood from a blocked client costs no queries: the block is remembered in the process until it ends."""
    from heaters.db import kv
    from heaters.server.throttle import LoginThrottle

    throttle = LoginThrottle(per_name=1, per_client=5, window=300)
    assert await throttle.attempt("10.0.0.9", "rita") == 0
    assert await throttle.retry_after("10.0.0.9", "rita") > 0
    await kv.reset("signin:10.0.0.9:rita")  # the database no longer knows; this process still does
    assert 299 < await throttle.retry_after("10.0.0.9", "rita") <= 300
    assert await LoginThrottle(per_name=1, per_client=5, window=300).retry_after("10.0.0.9", "rita") == 0


async def test_login_page_escapes_what_it_echoes(web: Web) -> None:
    page = await web.client.get("/login", params={"next": '/"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text


async def test_open_redirects_after_login_are_refused() -> None:
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example/") == "/"
    assert safe_next("/\\evil.example") == "/"
    assert safe_next("/videos/3?x=1") == "/videos/3?x=1"


async def test_deactivated_user_loses_the_session(reviewer: Web) -> None:
    from heaters.db.tables import User

    async def deactivate() -> None:
        await User.update({User.active: False}).where(User.username == "rita")

    reviewer.call(deactivate)
    assert (await reviewer.client.get("/api/videos")).status_code == 401


async def test_csrf_is_required_for_every_state_change(reviewer: Web) -> None:
    video = reviewer.make_video()
    reviewer.client.headers.pop("x-csrftoken")
    attempts = [
        reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45}),
        reviewer.client.delete(f"/api/videos/{video}/cuts/30"),
        reviewer.client.put(f"/api/videos/{video}/cuts/30", json={"to": 20}),
        reviewer.client.post("/api/review/claim"),
        reviewer.client.post("/logout"),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403
        assert "CSRF" in response.text
    forged = await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45},
                                        headers={"x-csrftoken": "forged" * 20})
    assert forged.status_code == 403
    assert reviewer.video(video)["cut_version"] == 0  # nothing happened

    ok = await reviewer.client.post(f"/api/videos/{video}/cuts", json={"frame": 45},
                                    headers={"x-csrftoken": reviewer.csrf})
    assert ok.status_code == 200
    assert reviewer.video(video)["cut_version"] == 1


async def test_login_form_itself_needs_the_csrf_token(web: Web) -> None:
    web.add_user("rita")
    await web.client.get("/login")
    response = await web.client.post("/login", data={"username": "rita", "password": PASSWORD})
    assert response.status_code == 403


async def test_pages_carry_the_csrf_token(reviewer: Web) -> None:
    page = await reviewer.client.get("/")
    assert f'<meta name="csrf-token" content="{reviewer.csrf}">' in page.text
    assert f'name="_csrf_token" value="{reviewer.csrf}"' in page.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/videos", {"url": "https://example.invalid/v"}),
        ("POST", "/api/videos/1/retry", None),
        ("POST", "/api/clips/1/retry", None),
        ("GET", "/users", None),
    ],
)
async def test_reviewers_cannot_operate(reviewer: Web, method: str, path: str, body: dict | None) -> None:
    reviewer.make_video(state="download_failed")
    response = await reviewer.client.request(method, path, json=body)
    assert response.status_code == 403
    if path.startswith("/api"):
        assert response.json()["error"] == "forbidden"
    assert len(reviewer.call(__import__("heaters.services.videos", fromlist=["x"]).list_videos)) == 1


async def test_ingest_form_is_for_operators_only(reviewer: Web) -> None:
    response = await reviewer.client.post("/ingest", data={"url": "https://example.invalid/v",
                                                           "_csrf_token": reviewer.csrf})
    assert response.status_code == 403


async def test_operator_manages_users(operator: Web) -> None:
    response = await operator.client.post(
        "/users", data={"username": "newbie", "password": "secret-pw", "role": "reviewer",
                        "_csrf_token": operator.csrf},
    )
    assert response.status_code == 200 and "created reviewer" in response.text
    assert "newbie" in response.text
    await operator.client.post("/logout", data={"_csrf_token": operator.csrf})
    await operator.login("newbie", "secret-pw")
    assert (await operator.client.get("/api/videos")).status_code == 200


@pytest.mark.parametrize("name", ["", " ", "bad\nname", "tab\tname", "nul\0name", "x" * 101, "-dash", "DEMO",
                                  "<b>", "a b"])
async def test_user_names_that_would_not_read_well_are_refused(operator: Web, name: str) -> None:
    operator.add_user("demo")
    response = await operator.client.post(
        "/users", data={"username": name, "password": "secret-pw", "role": "reviewer", "_csrf_token": operator.csrf},
    )
    assert "created reviewer" not in response.text
    assert name.strip() in ("", "DEMO") or "not a usable user name" in response.text
    assert len(operator.call(users.list_users)) == 2  # the operator and demo


async def test_user_names_of_any_script_are_welcome(operator: Web) -> None:
    for name in ("zoë", "日本", "anna.k", "ops@site", "a"):
        response = await operator.client.post(
            "/users", data={"username": name, "password": "secret-pw", "role": "reviewer",
                            "_csrf_token": operator.csrf},
        )
        assert "created reviewer" in response.text, name


async def test_cookies_are_secure_over_https(db: Settings) -> None:
    async for web in open_web(db):
        web.client.base_url = "https://testserver.local"
        response = await web.client.get("/login")
        cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
        assert cookies and all("Secure" in c for c in cookies)


def test_secret_key_is_created_once_private_and_reused(tmp_path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path / "d")
    first = load_secret_key(settings)
    path = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(settings) == first and len(first) >= 32
    assert load_secret_key(Settings.from_env({}, data_dir=tmp_path / "d", secret_key="given")) == "given"
