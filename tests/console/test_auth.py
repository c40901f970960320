"""Signing in and out, sessions, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import csrf_of, post_login, sign_in
from tests.console.world import Login
from vigile.console import totp
from vigile.console.accounts import AccountError, ConsoleAccounts
from vigile.console.security import CSP
from vigile.console.throttle import Throttle


def test_pages_need_a_session(client: TestClient) -> None:
    response = client.get("/console/agent", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=%2Fconsole%2Fagent")


def test_wrong_password_or_code_is_refused_alike(
    client: TestClient, logins: dict[str, Login]
) -> None:
    agent = logins["agent"]
    for wrong in (
        Login(agent.username, "not the password", agent.secret),
        Login("nobody", agent.password, None),
    ):
        response = post_login(client, wrong.username, wrong.password, agent.code())
        assert response.status_code == 401
        assert "wrong username, password or code" in response.text
    assert post_login(client, agent.username, agent.password, "000000").status_code == 401


def test_repeated_failures_lock_the_username(client: TestClient, logins: dict[str, Login]) -> None:
    agent = logins["agent"]
    for _ in range(5):
        post_login(client, "agent", "wrong password!", "")
    response = post_login(client, "agent", agent.password, agent.code())
    assert response.status_code == 401
    assert "too many failed sign-ins" in response.text


def test_sign_in_lands_on_the_role_page_and_sign_out_ends_the_session(
    client: TestClient, logins: dict[str, Login]
) -> None:
    page = sign_in(client, logins["agent"])
    assert "Workspace" in page
    cookie = client.cookies.get("vigile_session")
    assert cookie
    client.post("/console/logout", data={"csrf": csrf_of(page)})
    client.cookies.set("vigile_session", cookie)
    assert client.get("/console/agent", follow_redirects=False).status_code == 303


def test_login_without_its_csrf_cookie_is_refused(
    client: TestClient, logins: dict[str, Login]
) -> None:
    agent = logins["agent"]
    response = post_login(client, agent.username, agent.password, agent.code(), csrf="forged")
    assert response.status_code == 403


def test_only_console_paths_are_followed_after_sign_in(
    client: TestClient, logins: dict[str, Login]
) -> None:
    agent = logins["agent"]
    response = post_login(
        client,
        agent.username,
        agent.password,
        agent.code(),
        follow=False,
        next="//evil.example/console/",
    )
    assert response.headers["location"] == "/console/agent"


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/console/login", "/v1/health", "/static/vigile.css"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CSP
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    login = client.get("/console/login")
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_htmx_is_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/vendor/htmx.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]


def test_rfc_6238_vectors() -> None:
    # RFC 6238 appendix B, SHA-1, 8 digits; the seed "12345678901234567890" in base32.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    for seconds, expected in (
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ):
        assert totp.totp(secret, datetime.fromtimestamp(seconds, UTC), digits=8) == expected


def test_a_code_signs_in_once(client: TestClient, logins: dict[str, Login]) -> None:
    agent = logins["agent"]
    code = agent.code()
    sign_in(client, agent, code=code)
    client.cookies.clear()
    assert post_login(client, agent.username, agent.password, code).status_code == 401


def test_totp_accepts_one_step_of_drift_only() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    code = totp.totp(secret, now)
    assert totp.verify(secret, code, now)
    assert totp.verify(secret, code, datetime.fromtimestamp(now.timestamp() + 30, UTC))
    assert not totp.verify(secret, code, datetime.fromtimestamp(now.timestamp() + 90, UTC))
    assert not totp.verify(secret, "12345", now)
    step = totp.match(secret, code, now)
    assert step is not None
    assert totp.match(secret, code, now, after=step) is None


def test_accounts_refuse_bad_input(client: TestClient, logins: dict[str, Login]) -> None:
    accounts = ConsoleAccounts(client.app.state.store)  # type: ignore[attr-defined]
    with pytest.raises(AccountError, match="taken"):
        accounts.add("agent", role="agent", subject="a-1", password="long enough password")
    with pytest.raises(AccountError, match="role"):
        accounts.add("x-1", role="root", subject="a-1", password="long enough password")
    with pytest.raises(AccountError, match="at least 12"):
        accounts.add("x-2", role="agent", subject="a-1", password="short")
    with pytest.raises(AccountError, match="no such customer"):
        accounts.add("x-3", role="customer", subject="c-nope", password="long enough password")
    with pytest.raises(AccountError, match="username"):
        accounts.add("Bad Name", role="agent", subject="a-1", password="long enough password")


def test_signing_in_again_ends_the_previous_session(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["agent"])
    first = client.cookies.get("vigile_session")
    sign_in(client, logins["agent"])
    assert client.cookies.get("vigile_session") != first
    # Only the old cookie (httpx2, Starlette's test client when installed, keeps a cookie
    # set by hand beside the server's, and sends both).
    client.cookies.clear()
    client.cookies.set("vigile_session", first or "")
    assert client.get("/console/agent", follow_redirects=False).status_code == 303


def test_the_throttle_keeps_only_recent_failures_of_a_bounded_number_of_names() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    throttle = Throttle(failures=1, period=timedelta(minutes=15), keep=3)
    throttle.failed("a", now)
    assert throttle.blocked("a", now)
    assert not throttle.blocked("a", now + timedelta(minutes=16))  # the period passed
    throttle.failed("a", now)
    for name in ("b", "c", "d"):
        throttle.failed(name, now)
        assert throttle.blocked(name, now)
    assert not throttle.blocked("a", now)  # forgotten: only three names are kept
    assert len(throttle._seen) == 3
