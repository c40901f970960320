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

from vigile.broker.errors import Forbidden, NotFound
from vigile.broker.grants import Grant, GrantStatus
from vigile.broker.identity import Principal
from vigile.broker.service import Broker
from vigile.model import TicketEvent

__all__ = [
    "approve_as_customer",
    "approve_grant",
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
    if grant.lockbox:
        raise Forbidden(f"grant {grant_id} is under lockbox: only the customer may approve it")
    if grant.agent == principal.agent:
        raise Forbidden("nobody approves their own grant")
    return broker.grants.approve(grant_id, approver=principal.agent, by_customer=False)


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


def record_tickets(broker: Broker, steps: Sequence[TicketEvent]) -> int:
    """Ticket steps from the ticketing system, into the store and the ledger; returns
    how many were given (steps already stored are not stored twice)."""
    broker.committer.record(list(steps))
    return len(steps)
