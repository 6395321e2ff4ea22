"""Sign-in, sessions and CSRF: argon2id hashes, HttpOnly SameSite=Lax cookies (Secure over HTTPS), a token on
every form, sign-out. How failed sign-ins slow an account and a client down: test_sign_in_throttle.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from okr_rollout.models import SignInThrottle, User, WebSession
from tests.conftest import Clock
from tests.web._pages import field_errors
from tests.web._seed import PASSWORD, World
from tests.web.conftest import csrf_of, sign_in


def _post_sign_in(web: TestClient, email: str, password: str) -> tuple[int, str, dict[str, str]]:
    token = csrf_of(web.get("/sign-in").text)
    response = web.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    return response.status_code, response.text, dict(response.headers)


def test_pages_need_a_sign_in_and_come_back_after_it(web: TestClient, world: World) -> None:
    response = web.get(f"/engagements/{world.formosa}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=/engagements/{world.formosa}"
    token = csrf_of(web.get(response.headers["location"]).text)
    signed = web.post("/sign-in", data={"email": "CHEN@example.com ", "password": PASSWORD, "csrf_token": token,
                                        "next": f"/engagements/{world.formosa}"})
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/engagements/{world.formosa}"
    assert web.get(f"/engagements/{world.formosa}").status_code == 200


def test_a_wrong_password_or_unknown_address_says_the_same(web: TestClient, world: World) -> None:
    wrong = _post_sign_in(web, "chen@example.com", "not the password")
    unknown = _post_sign_in(web, "nobody@example.com", PASSWORD)
    assert wrong[0] == unknown[0] == 401
    assert "The e-mail address or the password is wrong." in wrong[1]
    assert "The e-mail address or the password is wrong." in unknown[1]
    assert "okr_session" not in wrong[2].get("set-cookie", "")


def test_a_nul_character_is_shown_beside_its_field_and_no_failure_is_recorded(
        web: TestClient, world: World, db: Callable[[], Session]) -> None:
    """SQLite recorded a failed sign-in for the address with the NUL; PostgreSQL answered the page with JSON."""
    address = _post_sign_in(web, "chen@example.com\0", PASSWORD)
    password = _post_sign_in(web, "chen@example.com", PASSWORD + "\0")
    for status, text, headers in (address, password):
        assert status == 422
        assert "okr_session" not in headers.get("set-cookie", "")
        assert "\0" not in text
    nul = "This text contains the NUL character, which cannot be stored; remove it."
    assert field_errors(address[1]) == {"email": [nul]}
    assert 'value="chen@example.com\ufffd"' in address[1]
    assert field_errors(password[1]) == {"password": [nul]}
    with db() as session:
        assert session.scalar(select(func.coalesce(func.sum(SignInThrottle.failures), 0))) == 0
    assert _post_sign_in(web, "chen@example.com", PASSWORD)[0] == 303


def test_the_password_is_stored_as_an_argon2id_hash(world: World, db: Callable[[], Session]) -> None:
    with db() as session:
        user = session.scalar(select(User).where(User.email == "chen@example.com"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_session_cookie_is_http_only_and_same_site_lax(web: TestClient, world: World,
                                                       db: Callable[[], Session]) -> None:
    token = csrf_of(web.get("/sign-in").text)
    response = web.post("/sign-in", data={"email": "chen@example.com", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["set-cookie"]
    assert "okr_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP (a test server): no Secure flag
    raw = web.cookies["okr_session"]
    with db() as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert raw not in stored and len(stored) == 1  # only a hash of the token is kept


def test_cookies_are_secure_over_https(web: TestClient, world: World) -> None:
    web.base_url = web.base_url.copy_with(scheme="https")
    token = csrf_of(web.get("/sign-in").text)
    response = web.post("/sign-in", data={"email": "chen@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_forms_without_the_csrf_token_are_refused(web: TestClient, world: World, token: str | None,
                                                  db: Callable[[], Session]) -> None:
    web.get("/sign-in")
    data = {"email": "chen@example.com", "password": PASSWORD} | ({"csrf_token": token} if token else {})
    assert web.post("/sign-in", data=data).status_code == 403
    sign_in(web, "chen@example.com")
    item = _first_checklist_item(web, world)
    data = {"checked": "1"} | ({"csrf_token": token} if token else {})
    refused = web.post(item, data=data)
    assert refused.status_code == 403
    assert "The form has expired" in refused.text


def _first_checklist_item(web: TestClient, world: World) -> str:
    html = web.get(f"/engagements/{world.formosa}").text
    start = html.index(f'action="/engagements/{world.formosa}/tasks/')
    return html[start + len('action="'):html.index('"', start + len('action="'))]


def test_sign_out_ends_the_session(web: TestClient, world: World, db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    response = web.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert 'okr_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert web.get("/portfolio").status_code == 303


def test_a_session_expires(web: TestClient, world: World, clock: Clock) -> None:
    sign_in(web, "chen@example.com")
    clock.advance(hours=12)
    response = web.get("/portfolio")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


def test_a_disabled_login_cannot_sign_in(web: TestClient, world: World, clock: Clock,
                                        db: Callable[[], Session]) -> None:
    sign_in(web, "chen@example.com")
    with db() as session:
        user = session.scalar(select(User).where(User.email == "chen@example.com"))
        assert user is not None
        user.disabled_at = clock.now
    assert web.get("/portfolio").status_code == 303  # its open session stops working
    assert _post_sign_in(web, "chen@example.com", PASSWORD)[0] == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(web: TestClient, world: World, target: str) -> None:
    token = csrf_of(web.get("/sign-in").text)
    response = web.post("/sign-in", data={"email": "chen@example.com", "password": PASSWORD, "csrf_token": token,
                                          "next": target})
    assert response.headers["location"] == "/portfolio"


def test_home_is_the_portfolio_for_a_coach_and_readiness_for_an_internal_coach(web: TestClient,
                                                                               world: World) -> None:
    assert web.get("/").headers["location"] == "/sign-in"
    sign_in(web, "wang@example.com")
    assert web.get("/").headers["location"] == "/readiness"
    web.cookies.clear()
    sign_in(web, "chen@example.com")
    assert web.get("/").headers["location"] == "/portfolio"


def test_pages_stay_out_of_the_api_description(web: TestClient) -> None:
    paths = web.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/")]
