"""The customer portal: who accessed my data, when and why, each access with its proof
checked offline; and the grants on my data, to approve or deny (lockbox).

The signed-in account's subject is the customer id: no page takes a customer as a
parameter, so no request reaches another customer's accesses or grants. Accesses come
from :class:`~vigile.transparency.Transparency`, exactly as the API gives them; each
inclusion proof is checked here with the same offline verifier a customer would run
(``vigile.ledger.verify_inclusion_bundle``, the ledger's public key), not trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine, select
from starlette.datastructures import UploadFile

from vigile.broker import GrantStatus
from vigile.broker import operations as ops
from vigile.broker.grants import Grant
from vigile.console.core import ConsoleDep, ConsoleRoute, require
from vigile.console.sessions import ConsoleSession
from vigile.errors import NotFound
from vigile.ledger import LedgerError, Verifier, verify_inclusion_bundle
from vigile.model.times import EARLIEST_US, LATEST_US, from_micros
from vigile.phishing.verify import check_pasted
from vigile.render.charts import bar_chart, daily_timeline
from vigile.respond import IncidentMark, incident_marks
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.transparency import (
    AccessEntry,
    AccessNotFound,
    ProofStatus,
    Transparency,
    access_summary,
    entry_json,
)

__all__ = ["PAGE_SIZE", "ProofCheck", "check_proof", "router"]

router = APIRouter(prefix="/console/customer", include_in_schema=False, route_class=ConsoleRoute)
CustomerSession = Annotated[ConsoleSession, Depends(require("customer"))]
#: Accesses per page of the log (a page may hold a few more: ties at its oldest time).
PAGE_SIZE = 50


class ProofCheck(StrEnum):
    """What checking an access's inclusion proof against the checkpoint found."""

    VERIFIED = "verified"
    PENDING = "not yet in a checkpoint"
    FAILED = "FAILED"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Row:
    entry: AccessEntry
    check: ProofCheck
    why: str
    mark: IncidentMark | None = None


class Show(StrEnum):
    """The access log's filters."""

    ALL = "all"
    CLEAR = "clear"  # returned data in clear
    NO_TICKET = "no-ticket"  # allowed without a ticket
    DENIED = "denied"
    INCIDENT = "incident"  # part of an incident


def _shown(row: _Row, show: Show) -> bool:
    entry = row.entry
    return {
        Show.ALL: True,
        Show.CLEAR: bool(entry.fields) and entry.outcome == "allowed",
        Show.NO_TICKET: entry.outcome == "allowed" and not entry.ticket,
        Show.DENIED: entry.outcome != "allowed",
        Show.INCIDENT: row.mark is not None,
    }[show]


@router.get("", response_class=HTMLResponse)
def accesses(
    request: Request,
    console: ConsoleDep,
    session: CustomerSession,
    before: Annotated[int | None, Query(gt=EARLIEST_US, le=LATEST_US)] = None,
    show: Show = Show.ALL,
) -> Response:
    """Every access concerning the customer, newest first, a page at a time, those of an
    incident marked; the whole log summed up first. ``before`` (microseconds, exclusive)
    is a time after the earliest one: something can be older. ``show`` filters the
    page."""
    customer = session.account.subject
    since, older = _page(console.store.engine, customer, before, PAGE_SIZE)
    until = None if before is None else from_micros(before - 1)
    transparency = Transparency(console.store)
    listing = transparency.accesses(customer, since=since, until=until)
    verifier = _verifier(transparency)
    marks = incident_marks(console.store, customer)
    rows = [
        _row(entry, listing.checkpoint, verifier, marks.get(entry.event_id))
        for entry in reversed(listing.entries)
    ]
    summary = access_summary(console.store, customer)
    return console.render(
        request,
        "customer/accesses.html.j2",
        session=session,
        customer=console.store.customer(customer),
        rows=[row for row in rows if _shown(row, show)],
        show=show.value,
        filters=[(s.value, _FILTER_LABELS[s]) for s in Show],
        summary=summary,
        incidents=sorted({m.incident: m for m in marks.values()}.values(), key=_by_id),
        daily_chart=daily_timeline(summary.daily),
        agents_chart=bar_chart(list(summary.agents), label="Accesses by agent"),
        clear_chart=bar_chart(list(summary.in_clear), label="Fields seen in clear"),
        tree_size=listing.tree_size,
        checkpoint=listing.checkpoint,
        older=older,
        first_page=before is None,
        failed=sum(row.check is ProofCheck.FAILED for row in rows),
    )


@router.get("/accesses/{event_id}/proof.json")
def proof(console: ConsoleDep, session: CustomerSession, event_id: str) -> Response:
    """One access and its inclusion bundle with the checkpoint, to check offline
    (``vigile ledger check-proof``); 404 alike for unknown and others' accesses."""
    try:
        proven = Transparency(console.store).access(session.account.subject, event_id)
    except AccessNotFound:
        return JSONResponse({"error": "no such access"}, status_code=404)
    body = {"checkpoint": proven.checkpoint, "access": entry_json(proven.entry)}
    name = "".join(c for c in event_id if c.isalnum() or c in "-_.")[:64] or "access"
    return JSONResponse(
        body,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request, console: ConsoleDep, session: CustomerSession) -> Response:
    """Grants on the customer's data: pending ones to decide, then the history."""
    broker = console.broker
    broker.grants.sweep(broker.clock())
    grants = list(reversed(broker.grants.history(customer=session.account.subject)))
    return console.render(
        request,
        "customer/approvals.html.j2",
        session=session,
        pending=[g for g in grants if g.status is GrantStatus.PENDING],
        decided=[g for g in grants if g.status is not GrantStatus.PENDING][:PAGE_SIZE],
    )


@router.post("/approvals/{grant_id}/{verdict}", response_class=HTMLResponse)
def decide(
    request: Request, console: ConsoleDep, session: CustomerSession, grant_id: str, verdict: str
) -> Response:
    """The customer's approver approves or denies a grant on its own data (another
    customer's grant is not found, one already decided is a conflict: the error page)."""
    actions = {"approve": ops.approve_as_customer, "deny": ops.deny_as_customer}
    if verdict not in actions:
        missing = NotFound(f"no such decision: {verdict[:20]!r}")
        return console.error_page(request, missing, session=session)
    grant: Grant = actions[verdict](console.broker, session.account.subject, grant_id)
    return RedirectResponse(f"/console/customer/approvals?decided={grant.id}", status_code=303)


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, console: ConsoleDep, session: CustomerSession) -> Response:
    """Where a contact checks a message that claims to come from the provider."""
    return console.render(request, "customer/verify.html.j2", session=session, result=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify_pasted(
    request: Request, console: ConsoleDep, session: CustomerSession
) -> Response:
    """A code (and the address it came to), a pasted message, or an uploaded one."""
    form = await request.form()
    upload = form.get("file")
    try:
        message = await upload.read() if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()  # the upload's temporary file
    pasted = form.get("message")
    if not message and isinstance(pasted, str):
        message = pasted.encode("utf-8", "surrogateescape")
    code, address = form.get("code"), form.get("address")
    result = await run_in_threadpool(
        check_pasted,
        console.store,
        code=code if isinstance(code, str) else "",
        message=message,
        address=address.strip() or None if isinstance(address, str) else None,
    )
    return console.render(request, "customer/verify.html.j2", session=session, result=result)


# -- helpers ---------------------------------------------------------------------------


def _page(
    engine: Engine, customer: str, before: int | None, size: int
) -> tuple[datetime | None, int | None]:
    """The oldest time of the page of accesses before ``before`` (microseconds,
    exclusive), and the cursor of the next older page (``None`` when this is the last,
    or when it reaches the earliest time there is).

    Only access times are read here, from the customer's own accesses and the searches
    that listed it (the rows :meth:`Transparency.accesses` reads); the page itself then
    comes from the transparency domain, bounded by these times.
    """
    bound = before if before is not None else LATEST_US + 1
    newest: list[int] = []
    for table in (t.accesses, t.search_results):
        query = (
            select(table.c.time_us)
            .where(table.c.customer == customer, table.c.time_us < bound)
            .order_by(table.c.time_us.desc())
            .limit(size + 1)
        )
        with connect(engine) as conn:
            newest.extend(int(row.time_us) for row in conn.execute(query))
    newest.sort(reverse=True)
    if len(newest) <= size:
        return None, None
    oldest = newest[size - 1]
    return from_micros(oldest), (oldest if oldest > EARLIEST_US else None)


def _verifier(transparency: Transparency) -> Verifier | None:
    try:
        return transparency.ledger.verifier()
    except (LedgerError, OSError):
        return None


def _row(
    entry: AccessEntry, checkpoint: str, verifier: Verifier | None, mark: IncidentMark | None
) -> _Row:
    check, why = check_proof(entry, checkpoint, verifier)
    return _Row(entry=entry, check=check, why=why, mark=mark)


_FILTER_LABELS = {
    Show.ALL: "all",
    Show.CLEAR: "in clear only",
    Show.NO_TICKET: "without a ticket",
    Show.DENIED: "denied",
    Show.INCIDENT: "part of an incident",
}


def _by_id(mark: IncidentMark) -> str:
    return mark.incident


def check_proof(
    entry: AccessEntry, checkpoint: str, verifier: Verifier | None
) -> tuple[ProofCheck, str]:
    """The access's proof checked as the customer would offline: the checkpoint's
    signature, the bundle (as JSON) against it, and a disclosed leaf against the access."""
    bundle = entry.proof.bundle
    if entry.proof.status is ProofStatus.PENDING or bundle is None:
        return ProofCheck.PENDING, "recorded after the latest checkpoint: the next one proves it"
    if verifier is None:
        return ProofCheck.FAILED, "the ledger's public key could not be read"
    try:
        verify_inclusion_bundle(
            verifier=verifier, checkpoint_note=checkpoint, bundle=bundle.to_json()
        )
    except LedgerError as exc:
        return ProofCheck.FAILED, str(exc)
    if bundle.leaf is not None and not _leaf_is(bundle.leaf, entry):
        return ProofCheck.FAILED, "the ledger entry is not this access"
    return ProofCheck.VERIFIED, f"entry {bundle.leaf_index} of {bundle.tree_size}, signed"


def _leaf_is(leaf: bytes, entry: AccessEntry) -> bool:
    try:
        recorded = json.loads(leaf)
    except ValueError:
        return False
    return isinstance(recorded, dict) and recorded.get("id") == entry.event_id
