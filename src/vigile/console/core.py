"""The console's plumbing: templates, sessions, sign-in, the role a page needs, CSRF, and
the error page.

Pages are rendered on the server (Jinja2, autoescaped) and enhanced with htmx: every
form also works as a plain POST. Pages that reach customer data call the broker as the
signed-in agent, so the console gets exactly what the API would, masked by default, and
every access is recorded before the page is sent. An error is answered with the status
and title its family has in the one table (:data:`vigile.errors.ANSWERS`), as the API
answers it, but as a page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from vigile import __version__
from vigile.broker import Broker, Principal, Unauthenticated
from vigile.console.accounts import ConsoleAccounts
from vigile.console.security import same_origin, token_matches
from vigile.console.sessions import ConsoleSession, SessionBook
from vigile.console.throttle import Throttle
from vigile.errors import Forbidden, InvalidParameters, VigileError, answer_for
from vigile.render.templates import template_environment
from vigile.settings import Settings
from vigile.store import Store

__all__ = [
    "COOKIE",
    "Console",
    "ConsoleRoute",
    "LoginRequired",
    "PageDenied",
    "SessionDep",
    "console_of",
    "require",
]

COOKIE = "vigile_session"
_TEMPLATES = Path(__file__).parent / "templates"
_log = logging.getLogger("vigile.console")
#: Where an error page sends the reader back to, and what the link says.
_BACK = ("/console/", "Back")
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


class PageDenied(Forbidden):
    """The signed-in role may not open this page, or a form fails its CSRF check."""


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
            store,
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

    def error_page(
        self,
        request: Request,
        error: VigileError,
        *,
        session: ConsoleSession | None = None,
        message: str | None = None,
        back: tuple[str, str] = _BACK,
    ) -> HTMLResponse:
        """The page of an error of any family: its family's status and title, and
        ``message`` (else the error's own; a server's fault shows none of its cause)."""
        answer = answer_for(error)
        return self.render(
            request,
            "error.html.j2",
            session=session,
            status=answer.status,
            title=answer.title,
            message=answer.shown or message or str(error),
            back=back,
        )

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


class ConsoleRoute(APIRoute):
    """The route of a console page: a Vigile error the page does not answer itself is
    answered with the error page of its family (HTML, never the API's JSON), and so is a
    parameter of the wrong type or range (422, the parameter named)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        page = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await page(request)
            except RequestValidationError as exc:
                return _error_answer(request, InvalidParameters(exc.errors()))
            except VigileError as exc:
                return _error_answer(request, exc)

        return answer


def _error_answer(request: Request, error: VigileError) -> Response:
    console = console_of(request)
    if answer_for(error).status >= 500:  # the page says nothing of it: the log does
        request_id = request.scope.get("state", {}).get("request_id", "?")
        _log.error("request %s failed", request_id, exc_info=error)
    session = console.sessions.get(request.cookies.get(COOKIE))
    return console.error_page(request, error, session=session)


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
