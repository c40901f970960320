"""Operations on grants and agents, with the roles each needs: supervisors approve and
deny grants, the customer's approver does so for its own grants (lockbox), analysts
suspend and resume agents; an agent may revoke its own grant. Tickets arrive from the
ticketing system. Each operation is recorded by the domain it calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from vigile.broker.errors import Forbidden, NotFound
from vigile.broker.grants import Grant
from vigile.broker.identity import Principal
from vigile.broker.service import Broker
from vigile.model import TicketEvent

__all__ = [
    "approve_as_customer",
    "approve_grant",
    "deny_as_customer",
    "deny_grant",
    "record_tickets",
    "resume_agent",
    "revoke_grant",
    "suspend_agent",
]


def _require(principal: Principal, role: str, what: str) -> None:
    if role not in principal.roles:
        raise Forbidden(f"{what} needs the {role} role")


def approve_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """A supervisor approves a grant (not a lockbox one, never their own)."""
    _require(principal, "supervisor", "approving a grant")
    grant = broker.grants.get(grant_id)
    if grant.lockbox:
        raise Forbidden(f"grant {grant_id} is under lockbox: only the customer may approve it")
    if grant.agent == principal.agent:
        raise Forbidden("nobody approves their own grant")
    return broker.grants.approve(grant_id, approver=principal.agent, by_customer=False)


def deny_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """A supervisor denies a pending grant."""
    _require(principal, "supervisor", "denying a grant")
    return broker.grants.deny(grant_id, approver=principal.agent)


def revoke_grant(broker: Broker, principal: Principal, grant_id: str) -> Grant:
    """The grant's agent, a supervisor or an analyst revokes a grant."""
    grant = broker.grants.get(grant_id)
    if grant.agent != principal.agent and not principal.roles & {"supervisor", "analyst"}:
        raise Forbidden("revoking another agent's grant needs the supervisor or analyst role")
    return broker.grants.revoke(grant_id, actor=principal.agent)


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
    _require(principal, "analyst", "suspending an agent")
    return broker.suspend(agent, reason, actor=principal.agent)


def resume_agent(broker: Broker, principal: Principal, agent: str, reason: str) -> bool:
    """An analyst lifts a suspension."""
    _require(principal, "analyst", "resuming an agent")
    return broker.containment.resume(agent, actor=principal.agent, reason=reason)


def record_tickets(broker: Broker, steps: Sequence[TicketEvent]) -> int:
    """Ticket steps from the ticketing system, into the store and the ledger; returns
    how many were given (steps already stored are not stored twice)."""
    broker.committer.record(list(steps))
    return len(steps)
