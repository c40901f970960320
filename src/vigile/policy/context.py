"""The facts of one request, as the Cedar context the policies read.

The broker gathers them (the ticket as of now, the agent's grant, suspension, velocity);
these functions only translate, so a decision can be tested without a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigile.model import Ticket
from vigile.policy.entities import ref

__all__ = ["ApprovalFacts", "GrantFacts", "RequestFacts", "justification", "search_context"]


@dataclass(frozen=True, kw_only=True, slots=True)
class GrantFacts:
    """A grant as the policies see it (``starts`` is the approval time, if approved)."""

    id: str
    agent: str
    customer: str
    status: str
    starts: datetime | None
    expires: datetime | None
    fields: frozenset[str]
    customer_approved: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalFacts:
    """A supervising human's approval of the exact call being decided, as the policies
    see it (the broker matched it to the call before)."""

    id: str
    agent: str
    customer: str
    status: str
    expires: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestFacts:
    """Everything a decision on a customer's data depends on, besides the entities."""

    now: datetime
    customer: str
    reason: str = "none"
    clear: frozenset[str] = field(default_factory=frozenset)
    ticket: Ticket | None = None
    grant: GrantFacts | None = None
    approval: ApprovalFacts | None = None
    suspended: bool = False
    velocity_exceeded: bool = False
    mfa: bool = True


def _seconds(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def _ticket(ticket: Ticket) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": ticket.id,
        "customer": ref("Customer", ticket.customer),
        "open": ticket.is_open,
    }
    if ticket.assignee:
        state["assignee"] = ref("Agent", ticket.assignee)
    return state


def _grant(grant: GrantFacts) -> dict[str, Any]:
    return {
        "id": grant.id,
        "agent": ref("Agent", grant.agent),
        "customer": ref("Customer", grant.customer),
        "status": grant.status,
        "starts": _seconds(grant.starts),
        "expires": _seconds(grant.expires),
        "fields": sorted(grant.fields),
        "customer_approved": grant.customer_approved,
    }


def justification(facts: RequestFacts) -> dict[str, Any]:
    """The Cedar context of an action on a customer's data."""
    context: dict[str, Any] = {
        "now": _seconds(facts.now),
        "reason": facts.reason,
        "customer": ref("Customer", facts.customer),
        "clear": sorted(facts.clear),
        "suspended": facts.suspended,
        "velocity_exceeded": facts.velocity_exceeded,
        "mfa": facts.mfa,
    }
    if facts.ticket is not None:
        context["ticket"] = _ticket(facts.ticket)
    if facts.grant is not None:
        context["grant"] = _grant(facts.grant)
    if facts.approval is not None:
        approval = facts.approval
        context["approval"] = {
            "id": approval.id,
            "agent": ref("Agent", approval.agent),
            "customer": ref("Customer", approval.customer),
            "status": approval.status,
            "expires": _seconds(approval.expires),
        }
    return context


def search_context(
    *, now: datetime, query: str, suspended: bool, velocity_exceeded: bool, mfa: bool
) -> dict[str, Any]:
    """The Cedar context of a directory search."""
    return {
        "now": _seconds(now),
        "suspended": suspended,
        "velocity_exceeded": velocity_exceeded,
        "mfa": mfa,
        "query_length": len(query),
    }
