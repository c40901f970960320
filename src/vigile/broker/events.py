"""The events the broker records: what a request did, as the ledger keeps it.

Pure functions: a request's principal, its decision and what it showed in, an
``access`` event (and the audit events a decision calls for) out. Every request for
customer data leaves exactly one access, allowed or denied; an access a grant justified
leaves a ``grant.use`` access beside it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from vigile.broker.grants import Grant
from vigile.broker.identity import Principal
from vigile.model import REASONS, Access, Action, AuditEvent, Reason
from vigile.policy import Decision, fields_of_classes

__all__ = [
    "BROKER_ACTOR",
    "access_event",
    "access_id",
    "broker_audit",
    "consequences",
    "grant_use",
    "reason_code",
    "search_access",
]

#: The actor named in audit events the broker decides on its own (velocity, break-glass).
BROKER_ACTOR = "vigile.broker"


def access_id() -> str:
    """A new access event's id."""
    return f"acc-{uuid.uuid4().hex}"


def access_event(
    principal: Principal, now: datetime, decision: Decision, *, id: str | None = None, **what: Any
) -> Access:
    """An ``access`` event of ``principal`` at ``now``, with the decision's outcome (and
    the channel it came through, under ``extra.via``, when the principal names one)."""
    if principal.via:
        what["extra"] = {**what.get("extra", {}), "via": dict(principal.via)}
    return Access(
        id=id or access_id(),
        time=now,
        agent=principal.agent,
        session=principal.session,
        ip=principal.ip,
        outcome="allowed" if decision.allowed else "denied",
        deny_reason=None if decision.allowed else decision.reason,
        **what,
    )


def search_access(
    principal: Principal,
    now: datetime,
    query: str,
    results: tuple[str, ...],
    decision: Decision,
) -> Access:
    """The access of a search: the query, and the customers it listed (names shown)."""
    return access_event(
        principal,
        now,
        decision,
        action=Action.CUSTOMER_SEARCH,
        query=query,
        results=results,
        fields=("customer.name",) if results else (),
        reason=Reason.NONE,
        extra={"policies": list(decision.policies)},
    )


def grant_use(access: Access, grant: Grant) -> Access:
    """The ``grant.use`` access recorded beside an access a grant justified: the data
    stays counted once (in the access itself), the grant and the access are named."""
    return Access(
        id=access_id(),
        time=access.time,
        agent=access.agent,
        session=access.session,
        ip=access.ip,
        action=Action.GRANT_USE,
        customer=access.customer,
        ticket=access.ticket,
        reason=access.reason,
        outcome="allowed",
        extra={
            "grant": grant.id,
            "access": access.id,
            "action": access.action.value,
            "grant_fields": sorted(fields_of_classes(grant.classes)),
        },
    )


def broker_audit(
    action: str, agent: str, customer: str, now: datetime, details: dict[str, object]
) -> AuditEvent:
    """An audit event the broker decided on its own (a velocity breach, break-glass)."""
    return AuditEvent.new(
        action, actor=BROKER_ACTOR, time=now, subject=agent, customer=customer, details=details
    )


def reason_code(text: str) -> Reason | None:
    """The reason code as recorded (an unknown one is recorded as absent)."""
    return Reason(text) if text in REASONS else None


def consequences(
    *,
    agent: str,
    customer: str,
    action: Action,
    reason: str,
    clear: frozenset[str],
    decision: Decision,
    exceeded: str | None,
    per_hour: int,
    access: str,
    now: datetime,
) -> list[AuditEvent]:
    """Audit events a decision calls for: a velocity breach (detection reads it; the
    limit exceeded and its ``per_hour``), a break-glass access (always reviewed)."""
    events: list[AuditEvent] = []
    details: dict[str, object] = {"access": access, "action": action.value}
    if exceeded and not decision.allowed:
        details |= {"limit": exceeded, "per_hour": per_hour}
        events.append(broker_audit("velocity.breach", agent, customer, now, details))
    if decision.allowed and reason == Reason.BREAK_GLASS.value:
        details |= {"fields": sorted(clear), "review": "required"}
        events.append(broker_audit("break_glass.used", agent, customer, now, details))
    return events
