"""``GET /health``: the process is up and its store answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text

from vigile import __version__
from vigile.api.deps import store_of
from vigile.api.schemas import ErrorOut, HealthOut
from vigile.store import Store
from vigile.store.engine import connect

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": ErrorOut}})
def health(store: Annotated[Store, Depends(store_of)]) -> HealthOut:
    """Ok when the store answers a trivial query (503 in the error shape otherwise)."""
    with connect(store.engine) as conn:
        conn.execute(text("SELECT 1"))
    return HealthOut(status="ok", version=__version__)
