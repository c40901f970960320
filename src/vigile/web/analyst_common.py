"""What the analyst console's pages share: the role they need and the missing page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from vigile.web.core import Console, require
from vigile.web.sessions import ConsoleSession

__all__ = ["AnalystSession", "missing"]

AnalystSession = Annotated[ConsoleSession, Depends(require("analyst"))]


def missing(
    console: Console, request: Request, session: ConsoleSession, message: str
) -> HTMLResponse:
    """A 404 page (never a traceback or JSON): an alert, incident or agent not found."""
    return console.render(
        request, "analyst/missing.html.j2", session=session, message=message, status=404
    )
