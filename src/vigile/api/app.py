"""The HTTP API: ``create_app(settings)`` builds it, ``vigile serve`` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vigile import __version__, console
from vigile.api import broker, health, ledger, phishing, respond, transparency
from vigile.api.errors import RefuseNul, RequestIdMiddleware, install_error_handlers
from vigile.api.limits import BodyLimits, body_limits
from vigile.phishing.service import GuardService
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["app_from_environment", "create_app"]

_DESCRIPTION = """\
Access transparency: a customer lists every access to its data with inclusion proofs in
Vigile's access ledger, and anyone can fetch the ledger's signed checkpoints and
consistency proofs. Every error has the body `{"error": {"code", "message", "request_id"}}`.
"""


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """The API over ``store``, or over the store the settings name (opened now, closed on
    shutdown). The store must exist: serving never creates one."""
    owned = store is None
    served = store if store is not None else Store.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # What the broker has queued is recorded before the store closes.
        app.state.broker.close()
        if owned:
            served.close()

    app = FastAPI(
        title="Vigile",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        # The HTML docs pull scripts from a CDN; the schema itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = served
    # Inside RequestIdMiddleware (its answer has the id); a refused request for customer
    # data is recorded as a denied access, as every request for data is.
    app.add_middleware(
        RefuseNul,
        on_refused=broker.refused_before_routing,
        # the activity-log decoder refuses NUL; a message may hold one, and the message
        # check reads it as any other byte
        bodies_checked_by=("/v1/integrations/", "/v1/mail/"),
    )
    # Outside everything that reads a body, inside RequestIdMiddleware (its answer has
    # the id): no body larger or slower than its route allows is read, let alone parsed.
    app.add_middleware(
        BodyLimits, limits=body_limits(settings), seconds=settings.serve_body_seconds
    )
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for router in (health.router, ledger.router, ledger.tiles, transparency.router):
        app.include_router(router)
    app.include_router(respond.router)
    app.state.guard_service = GuardService(served, settings)
    app.include_router(phishing.router)
    broker.install(app, settings, served)
    console.install(app, settings, served, app.state.broker)
    return app


def app_from_environment() -> FastAPI:
    """The API over the store ``VIGILE_*`` names: the factory each worker process of
    ``vigile serve --workers N`` calls (every request's state is in the store, so the
    workers, like several ``vigile serve`` behind a load balancer, are one broker)."""
    return create_app(Settings.from_env())
