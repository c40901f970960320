"""The agent workspace: the ticket queue, a customer's page (masked), reveals with a
justification, grant requests, and a clear message on every denial, with the status of
its family (:data:`vigile.errors.ANSWERS`).

Customer data is only ever what the broker returned for the signed-in agent: masked
unless the broker revealed it, and recorded before the page is sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigile.broker import AccessDenied, BrokerError, GrantStatus, InvalidBrokerRequest, NotFound
from vigile.broker import operations as ops
from vigile.broker.views import REVEALABLE
from vigile.console.core import ConsoleDep, ConsoleRoute, require
from vigile.console.queries import open_tickets
from vigile.console.sessions import ConsoleSession
from vigile.errors import status_of
from vigile.model import REASONS

__all__ = ["router"]

router = APIRouter(prefix="/console/agent", include_in_schema=False, route_class=ConsoleRoute)
#: What the broker refuses a request with: shown on the page that asked.
_REFUSALS = (BrokerError, InvalidBrokerRequest)
AgentSession = Annotated[ConsoleSession, Depends(require("agent", "supervisor"))]
_LISTS = ("contacts", "accounts", "subscriptions")
#: Justifications an agent may pick, in the order the picker shows them.
_REASONS = tuple(
    r
    for r in ("customer_initiated_support", "agent_initiated_review", "break_glass")
    if r in REASONS
)


@router.get("", response_class=HTMLResponse)
def workspace(request: Request, console: ConsoleDep, session: AgentSession) -> Response:
    """The queue of open tickets assigned to the agent, and its grants."""
    who = console.principal(request, session)
    broker = console.broker
    broker.grants.sweep(broker.clock())
    grants = broker.grants.history(agent=who.agent)
    pending = broker.grants.history(status=GrantStatus.PENDING) if "supervisor" in who.roles else []
    return console.render(
        request,
        "agent/workspace.html.j2",
        session=session,
        tickets=open_tickets(console.store, who.agent, broker.clock()),
        grants=list(reversed(grants))[:20],
        pending=[g for g in pending if not g.lockbox and g.agent != who.agent],
    )


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    console: ConsoleDep,
    session: AgentSession,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Customers by name: ids and names only (the broker bounds and records it)."""
    who = console.principal(request, session)
    hits: list[dict[str, Any]] = []
    error, status = None, 200
    try:
        hits = list(console.broker.search(who, q))
    except _REFUSALS as exc:  # a query too short, a denial
        error, status = _said(exc), status_of(exc)
    return console.render(
        request,
        "agent/search.html.j2",
        session=session,
        status=status,
        query=q,
        hits=hits,
        error=error,
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    console: ConsoleDep,
    session: AgentSession,
    customer_id: str,
    ticket: Annotated[str, Query(max_length=200)] = "",
    reason: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A customer's page: first a justification, then its data, masked."""
    who = console.principal(request, session)
    broker = console.broker
    tickets = open_tickets(console.store, who.agent, broker.clock(), customer=customer_id)
    context: dict[str, Any] = {
        "customer_id": customer_id,
        "tickets": tickets,
        "reasons": _REASONS,
        "ticket": ticket,
        "reason": reason,
        "revealable": REVEALABLE,
    }
    if not reason:
        return console.render(request, "agent/justify.html.j2", session=session, **context)
    chosen = ticket or None
    try:
        context["customer"] = broker.view_customer(
            who, customer_id, ticket=chosen, reason=reason
        ).body
        for what in _LISTS:
            context[what] = broker.view_list(
                who, customer_id, what, ticket=chosen, reason=reason
            ).body
    except (AccessDenied, NotFound, InvalidBrokerRequest) as exc:
        return console.render(
            request,
            "agent/justify.html.j2",
            session=session,
            status=status_of(exc),
            denial=_said(exc),
            **context,
        )
    return console.render(request, "agent/customer.html.j2", session=session, **context)


@router.post("/customers/{customer_id}/reveal", response_class=HTMLResponse)
def reveal(
    request: Request,
    console: ConsoleDep,
    session: AgentSession,
    customer_id: str,
    object: Annotated[str, Form(max_length=200)],
    field: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=64)],
    ticket: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """One field in clear. htmx swaps the masked cell for the answer; without htmx the
    answer is a page of its own."""
    who = console.principal(request, session)
    value, denial, status = None, None, 200
    try:
        shown = console.broker.reveal(
            who, customer_id, object_id=object, field=field, ticket=ticket or None, reason=reason
        )
        value = shown.body["value"]
    except _REFUSALS as exc:
        denial, status = _said(exc), status_of(exc)
    template = (
        "agent/_revealed.html.j2"
        if request.headers.get("hx-request")
        else ("agent/revealed.html.j2")
    )
    return console.render(
        request,
        template,
        session=session,
        status=200 if request.headers.get("hx-request") else status,  # htmx swaps only 2xx
        customer_id=customer_id,
        object=object,
        field=field,
        value=value,
        denial=denial,
        ticket=ticket,
        reason=reason,
    )


@router.post("/grants", response_class=HTMLResponse)
def request_grant(
    request: Request,
    console: ConsoleDep,
    session: AgentSession,
    customer: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=64)],
    hours: Annotated[float, Form(gt=0, le=24 * 7)],
    classes: Annotated[list[str], Form()],
    ticket: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Ask for a just-in-time grant; approvers are told, the page says what happens next."""
    who = console.principal(request, session)
    try:
        grant = console.broker.request_grant(
            who,
            customer,
            classes=tuple(classes),
            duration=timedelta(hours=hours),
            reason=reason,
            ticket=ticket or None,
        )
    except _REFUSALS as exc:
        return console.render(
            request,
            "agent/grant.html.j2",
            session=session,
            status=status_of(exc),
            grant=None,
            denial=_said(exc),
            customer_id=customer,
        )
    return console.render(
        request,
        "agent/grant.html.j2",
        session=session,
        grant=grant,
        denial=None,
        customer_id=customer,
    )


@router.post("/grants/{grant_id}/{verdict}", response_class=HTMLResponse)
def decide_grant(
    request: Request, console: ConsoleDep, session: AgentSession, grant_id: str, verdict: str
) -> Response:
    """A supervisor approves or denies a pending grant; an agent revokes its own."""
    who = console.principal(request, session)
    actions = {"approve": ops.approve_grant, "deny": ops.deny_grant, "revoke": ops.revoke_grant}
    if verdict not in actions:
        return RedirectResponse("/console/agent", status_code=303)
    try:
        actions[verdict](console.broker, who, grant_id)
    except BrokerError as exc:
        return console.error_page(request, exc, session=session, message=_said(exc))
    return RedirectResponse("/console/agent", status_code=303)


def _said(exc: Exception) -> str:
    """What the page says about a refusal: the pages already say "Denied", so a policy
    denial shows its reason and deciding policies, anything else its message."""
    if isinstance(exc, AccessDenied):
        named = f" (policy {', '.join(exc.policies)})" if exc.policies else ""
        return f"{exc.reason}{named}"
    return str(exc)
