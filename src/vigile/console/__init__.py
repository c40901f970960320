"""The web console (``/console``): the agent workspace, the analyst console and the
customer portal, served by ``vigile serve`` beside the API. See docs/console.md."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from vigile.broker import Broker
from vigile.console import agent, analyst, auth, customer
from vigile.console.core import Console, LoginRequired, login_redirect
from vigile.console.security import SecurityHeaders
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).parent / "static"
_log = logging.getLogger("vigile.console")


def install(app: FastAPI, settings: Settings, store: Store, broker: Broker) -> None:
    """Serve the console on ``app`` (the broker must be the app's own)."""
    app.state.console = Console(store, settings, broker)
    if not (STATIC / "vendor" / "htmx.min.js").exists():
        # A source tree that was never built: every page still works as plain forms.
        _log.warning(
            "the console's htmx is missing from %s: pages work without it; reinstall "
            "(`pip install -e .` runs npm ci) to get it",
            STATIC / "vendor",
        )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=True), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    for router in (auth.router, agent.router, customer.router, analyst.router):
        app.include_router(router)


async def _login_required(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, LoginRequired) else None
    return login_redirect(request, message)
