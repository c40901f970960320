"""Signing in and out of the console (local accounts, password and TOTP)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigile.console.core import COOKIE, HOME, ConsoleDep, ConsoleRoute, SessionDep, check_csrf

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)
_LOGIN_CSRF = "vigile_login"
#: The roles that act through the broker, with the broker role their token carries.
_BROKER_ROLES = {"agent": "agent", "supervisor": "supervisor", "analyst": "analyst"}


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, console: ConsoleDep) -> Response:
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse(HOME[session.account.role], status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, console: ConsoleDep, why: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    page = console.render(request, "login.html.j2", csrf=token, why=why[:200], error=None)
    _set_cookie(page, console, request, _LOGIN_CSRF, token, path="/console/login")
    return page


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    console: ConsoleDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    code: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    await check_csrf(request, request.cookies.get(_LOGIN_CSRF, ""))
    now = console.clock()
    name = username.strip().lower()
    if console.throttle.blocked(name, now):
        return _refused(request, console, "too many failed sign-ins: wait 15 minutes")
    account = console.accounts.check(name, password, code, now=now)
    if account is None:
        console.throttle.failed(name, now)
        return _refused(request, console, "wrong username, password or code")
    console.throttle.cleared(name)
    token = None
    if account.role in _BROKER_ROLES:
        token = console.broker.auth.local.issue(
            account.subject,
            roles=frozenset({_BROKER_ROLES[account.role]}),
            mfa="totp" if account.has_mfa else None,
            now=now,
        )
    previous = request.cookies.get(COOKIE)
    if previous:  # a sign-in over a live session replaces it, server-side too
        console.sessions.close(previous)
    session = console.sessions.open(account, token)
    if token is not None:
        console.principal(request, session)  # records the sign-in (or refuses it)
    target = next if _local(next) else HOME[account.role]
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, console, request, COOKIE, session.id, path="/")
    response.delete_cookie(_LOGIN_CSRF, path="/console/login")
    return response


@router.post("/logout")
def logout(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    console.sessions.close(session.id)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _refused(request: Request, console: ConsoleDep, message: str) -> Response:
    token = secrets.token_urlsafe(32)
    page = console.render(request, "login.html.j2", csrf=token, why="", error=message, status=401)
    _set_cookie(page, console, request, _LOGIN_CSRF, token, path="/console/login")
    return page


def _set_cookie(
    response: Response, console: ConsoleDep, request: Request, name: str, value: str, *, path: str
) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="strict",
        secure=console.cookie_secure(request),
    )


def _local(target: str) -> bool:
    """Only paths of the console itself are followed after sign-in (no open redirect)."""
    return target.startswith("/console/") and not target.startswith("//") and "\\" not in target
