"""Public views of the access ledger: what auditors and monitors poll. No token needed:
checkpoints and consistency proofs say nothing about any customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from vigile.api.deps import TransparencyDep
from vigile.api.schemas import ConsistencyOut, ErrorOut
from vigile.model.bounds import RowNumber
from vigile.transparency import SizeOutOfRange

__all__ = ["router"]

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "A signed note."}},
)
def checkpoint(service: TransparencyDep) -> PlainTextResponse:
    """The latest signed checkpoint (c2sp.org/tlog-checkpoint), covering every entry."""
    return PlainTextResponse(service.checkpoint().note)


@router.get("/consistency", responses={422: {"model": ErrorOut}})
def consistency(
    service: TransparencyDep,
    size1: Annotated[RowNumber, Query(alias="from", description="An older tree size.")],
) -> ConsistencyOut:
    """Proof that the latest checkpoint's tree extends the tree of size ``from``."""
    try:
        note, bundle = service.consistency(size1)
    except SizeOutOfRange as exc:  # the parameter named, as for any other out of range
        raise SizeOutOfRange(f"from: {exc}") from exc
    return ConsistencyOut.model_validate({"checkpoint": note, "bundle": bundle.to_json()})
