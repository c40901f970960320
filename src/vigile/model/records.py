"""Frozen, keyword-only records of the support organisation and its activity.

Names follow the activity-log spec. Times are timezone-aware ``datetime`` in UTC. Fields
the spec does not list are kept in ``extra`` (forward compatibility), never dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from vigile.model.times import format_rfc3339
from vigile.model.vocabulary import Action, Reason, TicketStep

__all__ = [
    "Access",
    "Account",
    "ActivityRecord",
    "Agent",
    "AuditEvent",
    "Contact",
    "Customer",
    "Record",
    "Shift",
    "SignIn",
    "Subscription",
    "Ticket",
    "TicketEvent",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _no_extra() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True, kw_only=True, slots=True)
class Shift:
    """Working days and hours, in the agent's own timezone."""

    days: tuple[str, ...]
    start: dt.time
    end: dt.time


@dataclass(frozen=True, kw_only=True, slots=True)
class Agent:
    """A support agent: an employee or an outsourced contractor's staff member."""

    id: str
    name: str | None = None
    team: str | None = None
    employer: str | None = None
    country: str | None = None
    timezone: str | None = None
    shift: Shift | None = None
    tier: int | None = None
    time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    """A customer organisation whose data the agents handle."""

    id: str
    name: str | None = None
    tier: str | None = None
    country: str | None = None
    time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class Contact:
    """A person at a customer: billing, technical or admin contact."""

    id: str
    customer: str
    role: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class Account:
    """A sign-in account (username) of a customer on the provider's service."""

    id: str
    customer: str
    username: str
    email: str | None = None
    status: str | None = None
    time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class Subscription:
    """A service a customer pays for."""

    id: str
    customer: str
    service: str
    plan: str | None = None
    seats: int | None = None
    monthly_amount: float | None = None
    currency: str | None = None
    time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketEvent:
    """One step in a ticket's life: opened, assigned (replaces the assignee) or closed.

    The spec gives ticket records no ``id``; :attr:`id` is then derived from the ticket,
    the step, the time and the agent, so re-reading a file stores the step once.
    """

    id: str
    time: datetime
    ticket: str
    event: TicketStep
    customer: str | None = None
    agent: str | None = None
    category: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


def ticket_event_id(ticket: str, step: str, time: dt.datetime, agent: str | None) -> str:
    """The identity of a ticket step that came without an ``id``."""
    return f"{ticket}/{step}/{format_rfc3339(time)}/{agent or ''}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Ticket:
    """A ticket's state at one moment, folded from its :class:`TicketEvent` steps."""

    id: str
    customer: str
    category: str | None
    opened_at: datetime
    assignee: str | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def fold(self, step: TicketEvent) -> Ticket:
        """The ticket after ``step`` (a later ``assigned`` replaces the assignee)."""
        if step.event is TicketStep.ASSIGNED:
            return replace(self, assignee=step.agent)
        if step.event is TicketStep.CLOSED:
            return replace(self, closed_at=step.time)
        return self


@dataclass(frozen=True, kw_only=True, slots=True)
class SignIn:
    """An agent's sign-in to the support tools, opening a session."""

    id: str
    time: datetime
    agent: str
    session: str
    outcome: str
    ip: str
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    device: str | None = None
    user_agent: str | None = None
    mfa: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class Access:
    """One request of an agent for customer data, allowed or denied."""

    id: str
    time: datetime
    agent: str
    session: str
    action: Action
    outcome: str
    customer: str | None = None
    ip: str | None = None
    fields: tuple[str, ...] = ()
    masked_fields: tuple[str, ...] = ()
    object: str | None = None
    ticket: str | None = None
    reason: Reason | None = None
    query: str | None = None
    results: tuple[str, ...] = ()
    deny_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEvent:
    """Something Vigile itself did or decided, kept in the ledger beside the activity:
    a grant requested or approved, an agent suspended, an incident opened, a remediation
    applied. ``action`` is a dotted name (``grant.approved``, ``agent.suspended``);
    ``actor`` who did it (an agent, an analyst, ``vigile``); ``subject`` what it is about
    (an agent, a grant, an incident); ``customer`` the customer concerned, if any."""

    id: str
    time: datetime
    action: str
    actor: str
    subject: str | None = None
    customer: str | None = None
    details: Mapping[str, Any] = field(default_factory=_no_extra)

    @classmethod
    def new(
        cls,
        action: str,
        *,
        actor: str,
        time: datetime,
        subject: str | None = None,
        customer: str | None = None,
        details: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        id_prefix: str = "audit-",
    ) -> AuditEvent:
        """An event about to be recorded, with its own copy of ``details``.

        Its id is ``event_id`` when given (the store keeps an id once: a fixed id makes
        recording idempotent), else ``id_prefix`` and a fresh random 128-bit hex number.
        """
        return cls(
            id=event_id or f"{id_prefix}{uuid.uuid4().hex}",
            time=time,
            action=action,
            actor=actor,
            subject=subject,
            customer=customer,
            details=dict(details or {}),
        )


#: The records of the activity log (docs/spec/activity-log.md).
ActivityRecord = Agent | Customer | Contact | Account | Subscription | TicketEvent | SignIn | Access
#: Everything the store keeps: the activity log's records and Vigile's own audit events.
Record = ActivityRecord | AuditEvent
