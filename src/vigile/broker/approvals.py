"""Approvals of one exact call of an AI agent by its supervising human.

Some calls the policies reserve to a human's judgement (an AI agent revealing a
government or enterprise customer's contacts). Such a call, denied, leaves a pending
approval bound to **that** call: the agent, the tool, a digest of its arguments, the
customer, the policy version it was decided under. The agent's supervisor (named in the
directory) approves it, and it is honoured once, for 15 minutes: the same call, by the
same agent, under the same policies. Another call (other arguments, another tool, another
agent), a second use, or a change of the policies finds nothing to honour. Every step is
an audit event in the ledger, recorded before it counts.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from vigile.broker.errors import Forbidden, GrantConflict, NotFound
from vigile.model import AuditEvent
from vigile.model.times import from_micros, to_micros
from vigile.policy import ApprovalFacts
from vigile.record import GroupCommitter
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["ApprovalBook", "ApprovalStatus", "CallApproval", "CallAsked"]


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    USED = "used"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAsked:
    """The call an approval is bound to."""

    agent: str
    tool: str
    customer: str
    digest: str  # of the tool's arguments, as the caller computed it
    policy_version: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CallApproval:
    """An approval as stored."""

    id: str
    call: CallAsked
    supervisor: str
    status: ApprovalStatus
    requested: datetime
    decided: datetime | None = None
    decided_by: str | None = None
    expires: datetime | None = None
    used: datetime | None = None

    def facts(self) -> ApprovalFacts:
        """The approval as the policies see it."""
        return ApprovalFacts(
            id=self.id,
            agent=self.call.agent,
            customer=self.call.customer,
            status=ApprovalStatus.APPROVED.value,  # honoured: claimed for this call
            expires=self.expires or self.requested,
        )


def _time(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _of_row(row: Mapping[Any, Any]) -> CallApproval:
    return CallApproval(
        id=row["id"],
        call=CallAsked(
            agent=row["agent"],
            tool=row["tool"],
            customer=row["customer"],
            digest=row["digest"],
            policy_version=row["policy_version"],
        ),
        supervisor=row["supervisor"],
        status=ApprovalStatus(row["status"]),
        requested=from_micros(row["requested_us"]),
        decided=_time(row["decided_us"]),
        decided_by=row["decided_by"],
        expires=_time(row["expires_us"]),
        used=_time(row["used_us"]),
    )


class ApprovalBook:
    """The call approvals in the store, changed only through audited transitions."""

    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        clock: Callable[[], datetime],
        *,
        valid_for: timedelta = timedelta(minutes=15),
    ) -> None:
        self.store = store
        self._committer = committer
        self._clock = clock
        self.valid_for = valid_for
        self._lock = threading.Lock()

    def get(self, approval_id: str) -> CallApproval:
        table = t.broker_call_approvals
        with connect(self.store.engine) as conn:
            row = conn.execute(select(table).where(table.c.id == approval_id)).mappings().first()
        if row is None:
            raise NotFound(f"no approval {approval_id!r}")
        return _of_row(row)

    def pending(self, *, supervisor: str | None = None) -> list[CallApproval]:
        """Approvals waiting for a decision (a supervisor's own), oldest first."""
        table = t.broker_call_approvals
        query = select(table).where(table.c.status == ApprovalStatus.PENDING.value)
        if supervisor is not None:
            query = query.where(table.c.supervisor == supervisor)
        with connect(self.store.engine) as conn:
            rows = conn.execute(query.order_by(table.c.requested_us, table.c.id)).mappings()
            return [_of_row(row) for row in rows]

    def ask(self, call: CallAsked, *, supervisor: str) -> CallApproval:
        """The pending approval of ``call`` (a new one, or the one already waiting)."""
        with self._lock:
            for found in self._of_call(call, ApprovalStatus.PENDING):
                return found
            now = self._clock()
            approval = CallApproval(
                id=f"approval-{uuid.uuid4().hex[:16]}",
                call=call,
                supervisor=supervisor,
                status=ApprovalStatus.PENDING,
                requested=now,
            )
            self._audit("approval.requested", call.agent, approval, now)
            with connect(self.store.engine) as conn:
                conn.execute(insert(t.broker_call_approvals).values(**_row(approval)))
                conn.commit()
            return approval

    def decide(self, approval_id: str, *, approver: str, approve: bool) -> CallApproval:
        """The supervisor named in the approval approves or denies it (nobody else)."""
        with self._lock:
            approval = self.get(approval_id)
            if approval.status is not ApprovalStatus.PENDING:
                raise GrantConflict(f"approval {approval_id} is {approval.status.value}")
            if approver != approval.supervisor:
                raise Forbidden(f"only {approval.supervisor}, the agent's supervisor, decides it")
            now = self._clock()
            decided = replace(
                approval,
                status=ApprovalStatus.APPROVED if approve else ApprovalStatus.DENIED,
                decided=now,
                decided_by=approver,
                expires=now + self.valid_for if approve else None,
            )
            action = "approval.approved" if approve else "approval.denied"
            self._audit(action, approver, decided, now)
            self._save(decided, expected=ApprovalStatus.PENDING)
            return decided

    def claim(self, call: CallAsked) -> CallApproval | None:
        """The approval of exactly ``call``, approved and unexpired, taken for this one
        use (recorded as ``approval.used``); ``None`` when there is none."""
        now = self._clock()
        with self._lock:
            for found in self._of_call(call, ApprovalStatus.APPROVED):
                if found.expires is None or found.expires <= now:
                    continue
                used = replace(found, status=ApprovalStatus.USED, used=now)
                self._audit("approval.used", call.agent, used, now)
                if self._save(used, expected=ApprovalStatus.APPROVED):
                    return found
        return None

    # -- helpers ---------------------------------------------------------------------

    def _of_call(self, call: CallAsked, status: ApprovalStatus) -> list[CallApproval]:
        table = t.broker_call_approvals
        query = select(table).where(
            table.c.agent == call.agent,
            table.c.tool == call.tool,
            table.c.digest == call.digest,
            table.c.customer == call.customer,
            table.c.policy_version == call.policy_version,
            table.c.status == status.value,
        )
        with connect(self.store.engine) as conn:
            rows = conn.execute(query.order_by(table.c.requested_us)).mappings()
            return [_of_row(row) for row in rows]

    def _save(self, approval: CallApproval, *, expected: ApprovalStatus) -> bool:
        table = t.broker_call_approvals
        values = _row(approval)
        del values["id"]
        with connect(self.store.engine) as conn:
            done = conn.execute(
                update(table)
                .where(table.c.id == approval.id, table.c.status == expected.value)
                .values(**values)
            )
            conn.commit()
        return done.rowcount == 1

    def _audit(self, action: str, actor: str, approval: CallApproval, now: datetime) -> None:
        call = approval.call
        details: dict[str, Any] = {
            "approval": approval.id,
            "agent": call.agent,
            "tool": call.tool,
            "digest": call.digest,
            "policy_version": call.policy_version,
            "supervisor": approval.supervisor,
            "status": approval.status.value,
        }
        if approval.expires is not None:
            details["expires_us"] = to_micros(approval.expires)
        event = AuditEvent.new(
            action,
            actor=actor,
            time=now,
            subject=approval.id,
            customer=call.customer,
            details=details,
        )
        self._committer.record([event])


def _row(approval: CallApproval) -> dict[str, Any]:
    call = approval.call
    return {
        "id": approval.id,
        "agent": call.agent,
        "tool": call.tool,
        "customer": call.customer,
        "digest": call.digest,
        "policy_version": call.policy_version,
        "supervisor": approval.supervisor,
        "status": approval.status.value,
        "requested_us": to_micros(approval.requested),
        "decided_us": to_micros(approval.decided) if approval.decided else None,
        "decided_by": approval.decided_by,
        "expires_us": to_micros(approval.expires) if approval.expires else None,
        "used_us": to_micros(approval.used) if approval.used else None,
    }
