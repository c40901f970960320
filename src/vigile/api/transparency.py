"""``/v1/transparency``: a customer's own accesses, with proofs. The customer is the
token's; no parameter names another, so no request can reach another's data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from vigile.api.deps import CustomerId, TransparencyDep
from vigile.api.schemas import AccessProofOut, ErrorOut, ListingOut
from vigile.transparency import entry_json, listing_csv, listing_json, listing_ocsf, parse_window

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/transparency",
    tags=["transparency"],
    responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


class ListingFormat(StrEnum):
    """What ``format`` may ask for."""

    JSON = "json"
    CSV = "csv"
    OCSF = "ocsf"


_LISTING_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON (default), CSV (`format=csv`) or OCSF API Activity events "
        "(`format=ocsf`, a JSON array).",
    }
}


@router.get("/accesses", response_model=ListingOut, responses=_LISTING_CONTENT)
def accesses(
    customer: CustomerId,
    service: TransparencyDep,
    since: Annotated[str | None, Query(description="RFC 3339, inclusive.")] = None,
    until: Annotated[str | None, Query(description="RFC 3339, inclusive.")] = None,
    format: Annotated[ListingFormat, Query()] = ListingFormat.JSON,
) -> Any:
    """Every access to the caller's data, each with its inclusion proof."""
    start, end = parse_window(since, until)
    listing = service.accesses(customer, since=start, until=end)
    if format is ListingFormat.CSV:
        return Response(
            listing_csv(listing),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="accesses-{customer}.csv"'},
        )
    if format is ListingFormat.OCSF:
        return Response(orjson.dumps(listing_ocsf(listing)), media_type="application/json")
    return listing_json(listing)


@router.get("/accesses/{event_id}/proof", responses={404: {"model": ErrorOut}})
def access_proof(customer: CustomerId, service: TransparencyDep, event_id: str) -> AccessProofOut:
    """One access to the caller's data and its inclusion proof (404 if it concerns
    someone else, exactly as if it did not exist)."""
    proven = service.access(customer, event_id)
    return AccessProofOut.model_validate(
        {"checkpoint": proven.checkpoint, "access": entry_json(proven.entry)}
    )
