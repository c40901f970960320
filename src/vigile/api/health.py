"""``GET /health``: the process is up and its store answers; how far the ledger's
integrator is behind (``ledger.lagging`` past ``VIGILE_INTEGRATION_DELAY``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text

from vigile import __version__
from vigile.api.deps import store_of
from vigile.api.schemas import ErrorOut, HealthOut, LedgerHealthOut
from vigile.ledger.service import Ledger
from vigile.store import Store
from vigile.store.engine import connect

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": ErrorOut}})
def health(store: Annotated[Store, Depends(store_of)]) -> HealthOut:
    """Ok when the store answers a trivial query (503 in the error shape otherwise), with
    where the ledger's integration stands: a lagging integrator does not make the
    process unready (requests are still recorded), it is for monitoring to alert on."""
    with connect(store.engine) as conn:
        conn.execute(text("SELECT 1"))
    state = Ledger(store.engine, store.settings).status()
    ledger = LedgerHealthOut.model_validate(state.as_dict())
    return HealthOut(status="ok", version=__version__, ledger=ledger)
