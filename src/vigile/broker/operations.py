"""Operations on grants and agents, with the roles each needs: supervisors approve and
deny grants, the customer's approver does so for its own grants (lockbox), analysts
suspend and resume agents (never their own suspension); an agent may revoke its own
grant. Tickets arrive from the ticketing system. Each operation is recorded by the
domain it calls.

A suspended agent is refused here at authentication (a failed sign-in, with the
reason), whatever its roles; approving, denying, suspending and resuming also need a
second factor, whatever ``VIGILE_BROKER_REQUIRE_MFA`` says. A suspended agent's data
requests are not refused here: the policies deny them and each is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from vigile.broker.approvals import CallApproval
from vigile.broker.errors import Forbidden, InvalidBrokerRequest, NotFound
from vigile.broker.grants import Grant, GrantStatus
from vigile.broker.identity import Principal
from vigile.broker.service import Broker
from vigile.model import TicketEvent
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.store.rows import COLUMNS, to_values

__all__ = [
    "TicketsRecorded",
    "approvals_for",
    "approve_as_customer",
    "approve_grant",
    "decide_call",
    "deny_as_customer",
    "deny_grant",
    "grant_for",
    "grants_for",
    "record_tickets",
    "resume_agent",
    "revoke_grant",
    "suspend_agent",
]


def _admit(broker: Broker, principal: Principal, what: str, *, privileged: bool) -> None:
    """Refuse a suspended agent (and, for a privileged operation, one without a second
    factor) at authentication, recorded as a failed sign-in."""
    suspended = broker.containment.suspension_of(principal.agent) is not None
    if suspended or privileged:
        broker.auth.admit_privileged(principal, what, suspended=suspended)


def _require(broker: Broker, principal: Principal, role: str, what: str) -> None:
    _admit(broker, principal, what, privileged=True)
    if role not in principal.roles:
        raise Forbidden(f"{what} needs the {role} role")


def approve_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """A supervisor approves a grant (not a lockbox one, never their own)."""
    _require(broker, principal, "supervisor", "approving a grant")
    grant = broker.grants.get(grant_id)
    # The customer's tier now, not when the grant was asked: it may have changed since.
    if grant.lockbox or broker.under_lockbox(grant.customer):
        raise Forbidden(f"grant {grant_id} is under lockbox: only the customer may approve it")
    if grant.agent == principal.agent:
        raise Forbidden("nobody approves their own grant")
    return broker.grants.approve(grant_id, approver=principal.agent, by_customer=False)


def decide_call(
    broker: Broker, principal: Principal, approval_id: str, *, approve: bool
) -> CallApproval:
    """The supervising human named by an AI agent's directory record approves (or denies)
    one exact call of that agent: the supervisor role, a second factor, and being that
    agent's supervisor (nobody else's approval counts)."""
    what = "approving an AI agent's call" if approve else "denying an AI agent's call"
    _require(broker, principal, "supervisor", what)
    return broker.approvals.decide(approval_id, approver=principal.agent, approve=approve)


def approvals_for(broker: Broker, principal: Principal) -> list[CallApproval]:
    """The calls waiting for this supervisor's decision."""
    _admit(broker, principal, "listing approvals", privileged=False)
    return broker.approvals.pending(supervisor=principal.agent)


def deny_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """A supervisor denies a pending grant."""
    _require(broker, principal, "supervisor", "denying a grant")
    return broker.grants.deny(grant_id, approver=principal.agent)


def revoke_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """The grant's agent, a supervisor or an analyst revokes a grant."""
    _admit(broker, principal, "revoking a grant", privileged=False)
    grant = broker.grants.get(grant_id)
    if grant.agent != principal.agent and not principal.roles & {"supervisor", "analyst"}:
        raise Forbidden("revoking another agent's grant needs the supervisor or analyst role")
    return broker.grants.revoke(grant_id, actor=principal.agent)


def grants_for(broker: Broker, principal: Principal, status: GrantStatus | None) -> list[Grant]:
    """Grants, oldest first: supervisors and analysts see all (approvers find the
    pending ones here), an agent its own."""
    _admit(broker, principal, "listing grants", privileged=False)
    broker.grants.sweep(broker.clock())
    mine = None if principal.roles & {"supervisor", "analyst"} else principal.agent
    return broker.grants.history(agent=mine, status=status)


def grant_for(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """A grant, to its agent, supervisors and analysts (to others, as if it did not
    exist)."""
    _admit(broker, principal, "reading a grant", privileged=False)
    grant = broker.grants.get(grant_id)
    if grant.agent != principal.agent and not principal.roles & {"supervisor", "analyst"}:
        raise NotFound(f"no grant {grant_id!r}")
    return grant


def _own(broker: Broker, customer: str, grant_id: str) -> Grant:
    grant = broker.grants.get(grant_id)
    if grant.customer != customer:  # as if it did not exist: ids of others stay unknown
        raise NotFound(f"no grant {grant_id!r}")
    return grant


def approve_as_customer(broker: Broker, customer: str, grant_id: str) -> Grant:
    """The customer's approver approves a grant on its own data (lockbox)."""
    _own(broker, customer, grant_id)
    return broker.grants.approve(grant_id, approver=f"customer:{customer}", by_customer=True)


def deny_as_customer(broker: Broker, customer: str, grant_id: str) -> Grant:
    """The customer's approver denies a grant on its own data."""
    _own(broker, customer, grant_id)
    return broker.grants.deny(grant_id, approver=f"customer:{customer}")


def suspend_agent(broker: Broker, principal: Principal, agent: str, reason: str) -> str:
    """An analyst suspends an agent: sessions revoked, requests denied, grants revoked."""
    _require(broker, principal, "analyst", "suspending an agent")
    return broker.suspend(agent, reason, actor=principal.agent)


def resume_agent(broker: Broker, principal: Principal, agent: str, reason: str) -> bool:
    """An analyst lifts a suspension (never their own)."""
    _require(broker, principal, "analyst", "resuming an agent")
    return broker.containment.resume(agent, actor=principal.agent, reason=reason)


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketsRecorded:
    """What :func:`record_tickets` did with each step, by id."""

    stored: tuple[str, ...]
    duplicates: tuple[str, ...]  # already stored (or given twice), the same: kept once


def record_tickets(broker: Broker, steps: Sequence[TicketEvent]) -> TicketsRecorded:
    """Ticket steps from the ticketing system, into the store and the ledger. A step
    whose id is already stored, or given earlier in ``steps``, is a duplicate when it is
    the same step (a resend), and refused otherwise (:class:`InvalidBrokerRequest`
    naming it, nothing stored): a step is never changed, a change is a new step with its
    own id. A step stored by a concurrent request between the check and the commit
    counts as stored here and stays stored once."""
    seen = _stored_steps(broker.store, [step.id for step in steps])
    fresh: list[TicketEvent] = []
    duplicates: list[str] = []
    for index, step in enumerate(steps):
        row = to_values(step)[1][1:]  # without seq
        known = seen.get(step.id)
        if known is None:
            seen[step.id] = row
            fresh.append(step)
        elif known == row:
            duplicates.append(step.id)
        else:
            raise InvalidBrokerRequest(
                f"record {index}: id {step.id!r} is already taken by another ticket step "
                "(a stored step never changes: send the change as a new step, with a new id)"
            )
    broker.committer.record(fresh)
    return TicketsRecorded(stored=tuple(s.id for s in fresh), duplicates=tuple(duplicates))


def _stored_steps(store: Store, ids: Sequence[str]) -> dict[str, tuple[object, ...]]:
    """The stored rows (without ``seq``) of the ticket steps with these ids."""
    table = t.ticket_events
    columns = [table.c[name] for name in COLUMNS["ticket_events"][1:]]
    unique = sorted(set(ids))
    found: dict[str, tuple[object, ...]] = {}
    with connect(store.engine) as conn:
        for start in range(0, len(unique), 500):  # within every database's bound variables
            chunk = unique[start : start + 500]
            for row in conn.execute(select(*columns).where(table.c.id.in_(chunk))):
                found[row[0]] = tuple(row)
    return found
