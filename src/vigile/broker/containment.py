"""Containment: suspend an agent (all its sessions revoked at once, every token issued
until then refused, every request denied with the reason) and resume it. Callable by
detection (it implements :class:`vigile.detect.containment.ContainmentPort`'s
``suspend``) and by an analyst. Every suspension and resume is an audit event in the
ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigile.broker.errors import Forbidden
from vigile.model import AuditEvent
from vigile.model.times import to_micros
from vigile.record import GroupCommitter
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

    def revoke(self, session: str, now: datetime) -> None:
        """Revoke one session."""
        table = t.broker_sessions
        with connect(self.store.engine) as conn:
            conn.execute(
                update(table)
                .where(table.c.session == session, table.c.revoked_us.is_(None))
                .values(revoked_us=to_micros(now))
            )
            conn.commit()

    def not_before(self, agent: str) -> int | None:
        """The instant (microseconds) before which ``agent``'s tokens are refused."""
        table = t.broker_not_before
        with connect(self.store.engine) as conn:
            found = conn.execute(
                select(table.c.since_us).where(table.c.agent == agent)
            ).scalar_one_or_none()
        return None if found is None else int(found)

    def refuse_before(self, agent: str, now: datetime) -> None:
        """Refuse from now on every token of ``agent`` issued before ``now`` (stored, so
        every broker process refuses it; the instant only moves forward)."""
        table, since = t.broker_not_before, to_micros(now)
        later = update(table).where(table.c.agent == agent, table.c.since_us < since)
        with connect(self.store.engine) as conn:
            if conn.execute(later.values(since_us=since)).rowcount:
                conn.commit()
                return
            try:
                conn.execute(insert(table).values(agent=agent, since_us=since))
                conn.commit()
            except IntegrityError:  # there already, maybe inserted a moment ago: move it on
                conn.rollback()
                conn.execute(later.values(since_us=since))
                conn.commit()

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
        # Tokens issued before the suspension stay refused once it is lifted. Counted
        # from the start of its second (``iat`` is in seconds): a token of that second
        # still signs in, and while suspended its data requests are denied and recorded.
        self.sessions.refuse_before(agent, now.replace(microsecond=0))
        revoked = self.sessions.revoke_all(agent, now)
        details = {"reason": reason, "sessions_revoked": revoked}
        # Suspended first, recorded next: if recording fails the agent stays suspended
        # (the safe side) and the caller sees the error.
        self._audit("agent.suspended", actor, agent, now, details)
        return "suspended"

    def resume(self, agent: str, *, actor: str, reason: str = "") -> bool:
        """Lift a suspension. The agent signs in again with a token issued from now on:
        sessions opened and tokens issued before (during the suspension too) stay
        refused. Returns False when the agent was not suspended; nobody resumes
        themselves (:class:`Forbidden`)."""
        if actor == agent:
            raise Forbidden("nobody lifts their own suspension")
        now = self._clock()
        if self.suspension_of(agent) is None:
            return False
        # Recorded first: a resume that cannot be recorded does not happen.
        self._audit("agent.resumed", actor, agent, now, {"reason": reason})
        self.sessions.refuse_before(agent, now)
        self.sessions.revoke_all(agent, now)
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
        event = AuditEvent.new(action, actor=actor, time=now, subject=agent, details=details)
        self._committer.record([event])
