"""The console's plumbing: templates, sessions, sign-in, the role a page needs, CSRF.

Pages are rendered on the server (Jinja2, autoescaped) and enhanced with htmx: every
form also works as a plain POST. Pages that reach customer data call the broker as the
signed-in agent, so the console gets exactly what the API would, masked by default, and
every access is recorded before the page is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigile import __version__
from vigile.broker import Broker, Principal, Unauthenticated
from vigile.console.accounts import ConsoleAccounts
from vigile.console.security import same_origin, token_matches
from vigile.console.sessions import ConsoleSession, SessionBook
from vigile.console.throttle import Throttle
from vigile.render.templates import template_environment
from vigile.settings import Settings
from vigile.store import Store

__all__ = [
    "COOKIE",
    "Console",
    "LoginRequired",
    "PageDenied",
    "SessionDep",
    "console_of",
    "require",
]

COOKIE = "vigile_session"
_TEMPLATES = Path(__file__).parent / "templates"
#: Where each role lands after signing in.
HOME = {
    "agent": "/console/agent",
    "supervisor": "/console/agent",
    "analyst": "/console/analyst",
    "customer": "/console/customer",
}


class LoginRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


class PageDenied(Exception):
    """The signed-in role may not open this page (403, rendered)."""


class Console:
    """The console's shared state: accounts, sessions, templates, the broker."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        broker: Broker,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.broker = broker
        self.clock = clock or (lambda: datetime.now(UTC))
        self.accounts = ConsoleAccounts(store)
        self.sessions = SessionBook(
            idle=timedelta(minutes=settings.console_idle_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
            clock=self.clock,
        )
        #: Failed sign-ins per username: five in fifteen minutes and that name waits.
        self.throttle = Throttle(failures=5, period=timedelta(minutes=15))
        # Pages test their optional parts ({% if error %}): an undefined one is empty.
        self.templates = template_environment(_TEMPLATES, strict=False, trim_blocks=True)
        self.templates.globals["version"] = __version__

    def render(
        self,
        request: Request,
        template: str,
        *,
        session: ConsoleSession | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """A page (or, for htmx requests of a fragment template, the fragment)."""
        page = self.templates.get_template(template).render(
            request=request, session=session, path=request.url.path, **context
        )
        return HTMLResponse(page, status_code=status)

    def principal(self, request: Request, session: ConsoleSession) -> Principal:
        """The broker principal of an agent, supervisor or analyst session; a session the
        broker revoked (containment) ends here."""
        try:
            return self.broker.authenticate(
                session.token,
                ip=request.client.host if request.client else "0.0.0.0",  # noqa: S104
                user_agent=request.headers.get("user-agent"),
            )
        except Unauthenticated as exc:
            self.sessions.close(session.id)
            raise LoginRequired(str(exc)) from exc

    def cookie_secure(self, request: Request) -> bool:
        return bool(self.settings.console_secure_cookies) or request.url.scheme == "https"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(console_of)]


async def signed_in(request: Request, console: ConsoleDep) -> ConsoleSession:
    """The live session of the request; a POST must also carry its CSRF token and come
    from this origin."""
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    if console.accounts.get(session.account.username) is None:
        console.sessions.close(session.id)
        raise LoginRequired("this account was disabled")
    if request.method not in ("GET", "HEAD"):
        await check_csrf(request, session.csrf)
    return session


async def check_csrf(request: Request, expected: str) -> None:
    origin_ok = same_origin(
        request.headers.get("origin"), request.headers.get("host"), request.url.scheme
    )
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        field = form.get("csrf")
        given = field if isinstance(field, str) else None
    if not origin_ok or not token_matches(expected, given):
        raise PageDenied("this form expired or did not come from this console; reload the page")


SessionDep = Annotated[ConsoleSession, Depends(signed_in)]


def require(*roles: str) -> Callable[..., Awaitable[ConsoleSession]]:
    """A dependency: the session, if its role is one of ``roles``."""

    async def dependency(session: SessionDep) -> ConsoleSession:
        if session.account.role not in roles:
            raise PageDenied(f"this page is for the {' or '.join(roles)} role")
        return session

    return dependency


def login_redirect(request: Request, message: str | None = None) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = "/console/login?next=" + quote(target, safe="")
    if message:
        url += "&why=" + quote(message, safe="")
    if request.headers.get("hx-request"):
        # htmx follows redirects inside the swap; make it load the sign-in page instead.
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
