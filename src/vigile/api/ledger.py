"""Public views of the access ledger: what auditors and monitors poll. No token needed:
checkpoints and consistency proofs say nothing about any customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from vigile.api.deps import TransparencyDep, store_of
from vigile.api.schemas import ConsistencyOut, ErrorOut
from vigile.errors import NotFound
from vigile.ledger.errors import LedgerError
from vigile.ledger.service import Ledger
from vigile.model.bounds import RowNumber
from vigile.store import Store
from vigile.transparency import SizeOutOfRange

__all__ = ["router", "tiles"]

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


#: The tree as C2SP tlog-tiles (c2sp.org/tlog-tiles) under ``/ledger``: the prefix a tlog
#: client is given. The checkpoint changes; tiles and bundles never do.
tiles = APIRouter(prefix="/ledger", tags=["ledger"])
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@tiles.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "A signed note."}},
)
def tlog_checkpoint(service: TransparencyDep) -> Response:
    """The latest signed checkpoint, as c2sp.org/tlog-tiles serves it."""
    return Response(
        service.checkpoint().note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@tiles.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "A tile."},
        404: {"model": ErrorOut},
    },
)
def tlog_tile(store: Annotated[Store, Depends(store_of)], path: str) -> Response:
    """A tile (``tile/<L>/<N>[.p/<W>]``: up to 256 hashes) or an entry bundle
    (``tile/entries/<N>[.p/<W>]``) of the tree of the latest checkpoint."""
    try:
        data = Ledger(store.engine, store.settings).tile(f"tile/{path}")
    except LedgerError as exc:
        raise NotFound(str(exc)) from exc
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)
