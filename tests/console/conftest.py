"""The console over a fresh store with the small organisation of :mod:`world`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.console.world import Login, populate
from vigile.api import create_app
from vigile.settings import Settings
from vigile.store import Store


@pytest.fixture
def console_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, broker_token_key=str(tmp_path / "broker.key"))


@pytest.fixture
def logins(store: Store) -> dict[str, Login]:
    return populate(store)


@pytest.fixture
def client(
    store: Store, console_settings: Settings, logins: dict[str, Login]
) -> Iterator[TestClient]:
    app = create_app(console_settings, store=store)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client
    app.state.broker.close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post_login(
    client: TestClient,
    username: str,
    password: str,
    code: str,
    *,
    csrf: str | None = None,
    follow: bool = True,
    **more: str,
) -> Response:
    """Posts the sign-in form, with the token of a freshly loaded form unless ``csrf``."""
    token = csrf if csrf is not None else csrf_of(client.get("/console/login").text)
    data = {"csrf": token, "username": username, "password": password, "code": code, **more}
    return client.post("/console/login", data=data, follow_redirects=follow)


def sign_in(
    client: TestClient, login: Login, *, code: str | None = None, follow: bool = True
) -> str:
    """Signs in; returns the landing page's HTML (or its address, without ``follow``)."""
    code = login.code() if code is None else code
    response = post_login(client, login.username, login.password, code, follow=follow)
    if not follow:
        assert response.status_code == 303, response.text
        return response.headers["location"]
    assert response.status_code == 200, response.text
    return response.text
