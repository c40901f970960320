"""What the analyst console's pages share: the role they need (with a live broker
session) and the missing page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from vigile.console.core import Console, ConsoleDep, require
from vigile.console.sessions import ConsoleSession
from vigile.errors import NotFound

__all__ = ["AnalystSession", "missing"]


def _analyst(
    request: Request,
    console: ConsoleDep,
    session: Annotated[ConsoleSession, Depends(require("analyst"))],
) -> ConsoleSession:
    """An analyst's session whose broker session is still live: an analyst suspended
    (containment) or whose token expired is signed out on every page, not only on those
    that act through the broker."""
    console.principal(request, session)
    return session


AnalystSession = Annotated[ConsoleSession, Depends(_analyst)]


def missing(
    console: Console, request: Request, session: ConsoleSession, message: str
) -> HTMLResponse:
    """The not-found page (never a traceback or JSON): an alert, incident or agent."""
    return console.error_page(
        request,
        NotFound(message),
        session=session,
        back=("/console/analyst", "Back to the alerts"),
    )
