"""Containment: suspend an agent (all its sessions revoked at once, every request
denied with the reason) and resume it. Callable by detection (it implements
:class:`vigile.detect.containment.ContainmentPort`'s ``suspend``) and by an analyst.
Every suspension and resume is an audit event in the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigile.broker.recording import GroupCommitter
from vigile.model import AuditEvent
from vigile.model.times import to_micros
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["DETECTION", "Containment", "Sessions"]

#: The actor named when detection asks for a suspension.
DETECTION = "vigile.detect"


class Sessions:
    """Agents' sessions seen by the broker, and their revocation."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def state(self, session: str, agent: str) -> str:
        """``new``, ``open`` or ``revoked``. A session id already used by another agent
        counts as revoked: a session is never shared."""
        table = t.broker_sessions
        with connect(self.store.engine) as conn:
            row = conn.execute(
                select(table.c.agent, table.c.revoked_us).where(table.c.session == session)
            ).first()
        if row is None:
            return "new"
        return "revoked" if row.revoked_us is not None or row.agent != agent else "open"

    def open(self, session: str, agent: str, now: datetime) -> None:
        """Remember a new session (a concurrent first request may have done it already)."""
        table = t.broker_sessions
        with connect(self.store.engine) as conn:
            try:
                conn.execute(
                    insert(table).values(session=session, agent=agent, opened_us=to_micros(now))
                )
                conn.commit()
            except IntegrityError:
                conn.rollback()

    def revoke_all(self, agent: str, now: datetime) -> int:
        """Revoke every open session of ``agent``; returns how many."""
        table = t.broker_sessions
        with connect(self.store.engine) as conn:
            done = conn.execute(
                update(table)
                .where(table.c.agent == agent, table.c.revoked_us.is_(None))
                .values(revoked_us=to_micros(now))
            )
            conn.commit()
        return int(done.rowcount or 0)


class Containment:
    """Suspension state of agents, recorded in the ledger as it changes."""

    def __init__(
        self, store: Store, committer: GroupCommitter, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.sessions = Sessions(store)
        self._committer = committer
        self._clock = clock

    def suspension_of(self, agent: str) -> str | None:
        """Why ``agent`` is suspended, or ``None`` when it is not."""
        table = t.broker_suspensions
        with connect(self.store.engine) as conn:
            return conn.execute(
                select(table.c.reason).where(table.c.agent == agent)
            ).scalar_one_or_none()

    def suspend(self, agent: str, reason: str, *, actor: str = DETECTION) -> str:
        """Suspend ``agent`` and revoke its sessions; returns ``suspended`` (or
        ``already suspended``). Recorded as ``agent.suspended``."""
        now = self._clock()
        table = t.broker_suspensions
        with connect(self.store.engine) as conn:
            if conn.execute(select(table.c.agent).where(table.c.agent == agent)).first():
                return "already suspended"
            values = {"agent": agent, "since_us": to_micros(now), "actor": actor, "reason": reason}
            conn.execute(insert(table).values(**values))
            conn.commit()
        revoked = self.sessions.revoke_all(agent, now)
        details = {"reason": reason, "sessions_revoked": revoked}
        # Suspended first, recorded next: if recording fails the agent stays suspended
        # (the safe side) and the caller sees the error.
        self._audit("agent.suspended", actor, agent, now, details)
        return "suspended"

    def resume(self, agent: str, *, actor: str, reason: str = "") -> bool:
        """Lift a suspension (sessions stay revoked: the agent signs in again).
        Returns False when the agent was not suspended."""
        now = self._clock()
        if self.suspension_of(agent) is None:
            return False
        # Recorded first: a resume that cannot be recorded does not happen.
        self._audit("agent.resumed", actor, agent, now, {"reason": reason})
        return self._lift(agent)

    def _lift(self, agent: str) -> bool:
        table = t.broker_suspensions
        with connect(self.store.engine) as conn:
            done = conn.execute(delete(table).where(table.c.agent == agent))
            conn.commit()
        return bool(done.rowcount)

    def _audit(
        self,
        action: str,
        actor: str,
        agent: str,
        now: datetime,
        details: dict[str, object],
    ) -> None:
        event = AuditEvent(
            id=f"audit-{uuid.uuid4().hex}",
            time=now,
            action=action,
            actor=actor,
            subject=agent,
            details=details,
        )
        self._committer.record([event])
