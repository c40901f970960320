"""Just-in-time grants: requested by an agent, approved by a supervisor or by the
customer's own approver (lockbox), time-boxed from approval, revocable, expiring.

The current state of each grant is a row of ``broker_grants`` (never deleted); every
transition is an audit event in the ledger. Changes that give access are recorded
before they take effect; changes that take access away take effect first. So a failure
to record never leaves more access than the ledger shows.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from vigile.broker.errors import GrantConflict, InvalidBrokerRequest, NotFound
from vigile.model import AuditEvent, Reason
from vigile.model.times import from_micros, to_micros
from vigile.policy import FIELD_CLASSES, GrantFacts, fields_of_classes
from vigile.record import GroupCommitter
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["GRANT_REASONS", "Grant", "GrantBook", "GrantStatus", "check_request", "grant_of_row"]

#: Reason codes a grant request may give.
GRANT_REASONS = frozenset(
    {Reason.CUSTOMER_INITIATED_SUPPORT, Reason.AGENT_INITIATED_REVIEW, Reason.BREAK_GLASS}
)


def check_request(
    classes: tuple[str, ...], duration: timedelta, reason: str, *, longest: timedelta
) -> None:
    """Refuse (:class:`InvalidBrokerRequest`) a grant request naming unknown field
    classes or reason, or lasting no time or longer than ``longest``."""
    if not classes or any(name not in FIELD_CLASSES for name in classes):
        known = ", ".join(sorted(FIELD_CLASSES))
        raise InvalidBrokerRequest(f"field classes must be some of: {known}")
    if reason not in GRANT_REASONS:
        raise InvalidBrokerRequest(
            f"a grant's reason must be one of: {', '.join(sorted(GRANT_REASONS))}"
        )
    if not timedelta(0) < duration <= longest:
        raise InvalidBrokerRequest(
            f"a grant lasts more than 0 and at most {int(longest.total_seconds())} seconds"
        )


class GrantStatus(StrEnum):
    """Where a grant stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, kw_only=True, slots=True)
class Grant:
    """A grant as stored; ``starts``/``expires`` are set at approval."""

    id: str
    agent: str
    customer: str
    classes: tuple[str, ...]
    reason: str
    ticket: str | None
    duration: timedelta
    status: GrantStatus
    lockbox: bool
    customer_approved: bool
    requested: datetime
    decided: datetime | None = None
    decided_by: str | None = None
    starts: datetime | None = None
    expires: datetime | None = None
    ended: datetime | None = None
    ended_by: str | None = None

    def facts(self) -> GrantFacts:
        """The grant as the policies see it."""
        return GrantFacts(
            id=self.id,
            agent=self.agent,
            customer=self.customer,
            status=self.status.value,
            starts=self.starts,
            expires=self.expires,
            fields=fields_of_classes(self.classes),
            customer_approved=self.customer_approved,
        )

    def is_active(self, now: datetime) -> bool:
        """Approved, started and not yet expired (revoked grants are not approved)."""
        return (
            self.status is GrantStatus.APPROVED
            and self.starts is not None
            and self.expires is not None
            and self.starts <= now < self.expires
        )


def _time(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def grant_of_row(row: Mapping[Any, Any]) -> Grant:
    """The grant of a ``broker_grants`` row."""
    return Grant(
        id=row["id"],
        agent=row["agent"],
        customer=row["customer"],
        classes=tuple(json.loads(row["classes"])),
        reason=row["reason"],
        ticket=row["ticket"],
        duration=timedelta(seconds=row["duration_s"]),
        status=GrantStatus(row["status"]),
        lockbox=bool(row["lockbox"]),
        customer_approved=bool(row["customer_approved"]),
        requested=from_micros(row["requested_us"]),
        decided=_time(row["decided_us"]),
        decided_by=row["decided_by"],
        starts=_time(row["starts_us"]),
        expires=_time(row["expires_us"]),
        ended=_time(row["ended_us"]),
        ended_by=row["ended_by"],
    )


class GrantBook:
    """The grants in the store, changed only through audited transitions."""

    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        clock: Callable[[], datetime],
        *,
        pending_for: timedelta,
    ) -> None:
        self.store = store
        self._committer = committer
        self._clock = clock
        self._pending_for = pending_for
        self._lock = threading.RLock()  # sweep runs inside transitions
        self._swept: datetime | None = None

    # -- reading ---------------------------------------------------------------------

    def get(self, grant_id: str) -> Grant:
        """The grant ``grant_id`` (:class:`NotFound` otherwise)."""
        with connect(self.store.engine) as conn:
            row = conn.execute(select(t.broker_grants).where(t.broker_grants.c.id == grant_id))
            found = row.mappings().first()
        if found is None:
            raise NotFound(f"no grant {grant_id!r}")
        return grant_of_row(found)

    def history(
        self,
        *,
        agent: str | None = None,
        customer: str | None = None,
        status: GrantStatus | None = None,
    ) -> list[Grant]:
        """Every grant of an agent or a customer (in a status), oldest first (kept forever)."""
        table = t.broker_grants
        query = select(table).order_by(table.c.requested_us, table.c.id)
        if agent is not None:
            query = query.where(table.c.agent == agent)
        if customer is not None:
            query = query.where(table.c.customer == customer)
        if status is not None:
            query = query.where(table.c.status == status.value)
        with connect(self.store.engine) as conn:
            return [grant_of_row(row) for row in conn.execute(query).mappings()]

    # -- transitions -----------------------------------------------------------------

    def request(
        self,
        *,
        agent: str,
        customer: str,
        classes: tuple[str, ...],
        duration: timedelta,
        reason: str,
        ticket: str | None,
        lockbox: bool,
    ) -> Grant:
        """A new pending grant, recorded as ``grant.requested``."""
        now = self._clock()
        grant = Grant(
            id=f"grant-{uuid.uuid4().hex[:16]}",
            agent=agent,
            customer=customer,
            classes=classes,
            reason=reason,
            ticket=ticket,
            duration=duration,
            status=GrantStatus.PENDING,
            lockbox=lockbox,
            customer_approved=False,
            requested=now,
        )
        # Recorded first: a pending grant gives nothing, but it must never be unseen.
        self._audit("grant.requested", agent, grant, now)
        with connect(self.store.engine) as conn:
            conn.execute(insert(t.broker_grants).values(**_row(grant)))
            conn.commit()
        return grant

    def approve(self, grant_id: str, *, approver: str, by_customer: bool) -> Grant:
        """Approve a pending grant: its clock starts now. Recorded before it counts."""
        with self._lock:
            now = self._clock()
            grant = self._pending(grant_id, now)
            expires = now + grant.duration
            approved = _replace(
                grant,
                status=GrantStatus.APPROVED,
                decided=now,
                decided_by=approver,
                starts=now,
                expires=expires,
                customer_approved=by_customer,
            )
            self._audit("grant.approved", approver, approved, now)
            if not self._save(approved, expected=GrantStatus.PENDING, strict=False):
                # Decided elsewhere meanwhile (another broker process): the approval just
                # recorded never took effect, and the ledger must say so.
                self._audit("grant.approval_void", approver, approved, now)
                raise GrantConflict(f"grant {grant_id} changed meanwhile; try again")
        return approved

    def deny(self, grant_id: str, *, approver: str) -> Grant:
        """Deny a pending grant."""
        with self._lock:
            now = self._clock()
            grant = self._pending(grant_id, now)
            denied = _replace(grant, status=GrantStatus.DENIED, decided=now, decided_by=approver)
            self._save(denied, expected=GrantStatus.PENDING)
            self._audit("grant.denied", approver, denied, now)
        return denied

    def revoke(self, grant_id: str, *, actor: str) -> Grant:
        """Revoke a pending or approved grant: never honoured again."""
        with self._lock:
            now = self._clock()
            grant = self.get(grant_id)
            if grant.status not in (GrantStatus.PENDING, GrantStatus.APPROVED):
                raise GrantConflict(f"grant {grant_id} is {grant.status.value}: nothing to revoke")
            revoked = _replace(grant, status=GrantStatus.REVOKED, ended=now, ended_by=actor)
            self._save(revoked, expected=grant.status)
            self._audit("grant.revoked", actor, revoked, now)
        return revoked

    def sweep(self, now: datetime, *, force: bool = False) -> int:
        """Expire unattended requests and grants past their end (at most once a
        second unless forced); returns how many expired."""
        if not force and self._swept is not None and now - self._swept < timedelta(seconds=1):
            return 0
        self._swept = now
        table = t.broker_grants
        due = (table.c.status == GrantStatus.APPROVED.value) & (
            table.c.expires_us <= to_micros(now)
        ) | (table.c.status == GrantStatus.PENDING.value) & (
            table.c.requested_us <= to_micros(now - self._pending_for)
        )
        with connect(self.store.engine) as conn:
            rows = conn.execute(select(table).where(due)).mappings()
            grants = [grant_of_row(row) for row in rows]
        expired = 0
        with self._lock:
            for grant in grants:
                ended = _replace(grant, status=GrantStatus.EXPIRED, ended=now, ended_by="vigile")
                if self._save(ended, expected=grant.status, strict=False):
                    self._audit("grant.expired", "vigile", ended, now)
                    expired += 1
        return expired

    # -- helpers ---------------------------------------------------------------------

    def _pending(self, grant_id: str, now: datetime) -> Grant:
        self.sweep(now, force=True)
        grant = self.get(grant_id)
        if grant.status is not GrantStatus.PENDING:
            raise GrantConflict(f"grant {grant_id} is {grant.status.value}, not pending")
        return grant

    def _save(self, grant: Grant, *, expected: GrantStatus, strict: bool = True) -> bool:
        table = t.broker_grants
        with connect(self.store.engine) as conn:
            done = conn.execute(
                update(table)
                .where(table.c.id == grant.id, table.c.status == expected.value)
                .values(**_row(grant))
            )
            conn.commit()
        if not done.rowcount and strict:
            raise GrantConflict(f"grant {grant.id} changed meanwhile; try again")
        return bool(done.rowcount)

    def _audit(self, action: str, actor: str, grant: Grant, now: datetime) -> None:
        details: dict[str, Any] = {
            "grant": grant.id,
            "agent": grant.agent,
            "classes": list(grant.classes),
            "reason": grant.reason,
            "ticket": grant.ticket,
            "status": grant.status.value,
            "duration_s": int(grant.duration.total_seconds()),
            "lockbox": grant.lockbox,
            "customer_approved": grant.customer_approved,
        }
        if grant.expires is not None:
            details["expires_us"] = to_micros(grant.expires)
        event = AuditEvent.new(
            action,
            actor=actor,
            time=now,
            subject=grant.id,
            customer=grant.customer,
            details=details,
        )
        self._committer.record([event])


def _replace(grant: Grant, **changes: Any) -> Grant:
    return replace(grant, **changes)


def _micros(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _row(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "agent": grant.agent,
        "customer": grant.customer,
        "classes": json.dumps(list(grant.classes)),
        "reason": grant.reason,
        "ticket": grant.ticket,
        "duration_s": int(grant.duration.total_seconds()),
        "status": grant.status.value,
        "lockbox": int(grant.lockbox),
        "customer_approved": int(grant.customer_approved),
        "requested_us": to_micros(grant.requested),
        "decided_us": _micros(grant.decided),
        "decided_by": grant.decided_by,
        "starts_us": _micros(grant.starts),
        "expires_us": _micros(grant.expires),
        "ended_us": _micros(grant.ended),
        "ended_by": grant.ended_by,
    }
