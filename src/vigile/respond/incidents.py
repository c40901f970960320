"""Incidents: a scope and a window, with a status, an owner, notes and a timeline.

The ``incidents`` table holds the current state (it changes); the timeline is the
incident's audit events, recorded in the store and the ledger through
:class:`~vigile.record.Recorder` before the state changes, so the ledger never misses an
action that the state shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import RowMapping, func, insert, select, update

from vigile.model import Access, AuditEvent
from vigile.model.times import format_rfc3339, from_micros, to_micros
from vigile.record import Recorder
from vigile.respond.errors import IncidentClosed, IncidentNotFound, InvalidScope
from vigile.respond.reads import Reader, Shown, incident_reads
from vigile.respond.scope import Scope
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["Clock", "Incident", "IncidentStatus", "Incidents", "TimelineEntry", "utc_now"]

#: What time it is (tests pass a fixed clock).
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC, to the microsecond the store keeps."""
    return datetime.now(UTC)


class IncidentStatus(StrEnum):
    """Where an incident stands. ``closed`` is final."""

    OPEN = "open"
    CONTAINED = "contained"
    REMEDIATED = "remediated"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Incident:
    """An incident as it stands now."""

    id: str
    title: str
    status: IncidentStatus
    owner: str | None
    alert: str | None
    scope: Scope
    opened: datetime
    aware: datetime  # GDPR Art. 33: when the controller became aware of the breach
    high_risk: bool | None  # GDPR Art. 34 assessment; None while not assessed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "owner": self.owner,
            "alert": self.alert,
            "scope": self.scope.to_json(),
            "opened": format_rfc3339(self.opened),
            "aware": format_rfc3339(self.aware),
            "high_risk": self.high_risk,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class TimelineEntry:
    """One recorded action on an incident (an audit event of the ledger)."""

    event_id: str
    time: datetime
    action: str
    actor: str
    customer: str | None
    details: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event_id,
            "time": format_rfc3339(self.time),
            "action": self.action,
            "actor": self.actor,
            "customer": self.customer,
            "details": dict(self.details),
        }


_RISK = {True: "yes", False: "no", None: None}


class Incidents:
    """Opens incidents, changes them, and records every action in the ledger."""

    def __init__(self, store: Store, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._recorder = Recorder(store)

    # -- reading ---------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        """The incident, or :class:`IncidentNotFound`."""
        with connect(self.store.engine) as conn:
            row = conn.execute(select(t.incidents).where(t.incidents.c.id == incident_id))
            found = row.mappings().first()
        if found is None:
            raise IncidentNotFound(incident_id)
        return _incident(found)

    def find(self, status: IncidentStatus | None = None) -> list[Incident]:
        """Every incident (or those with ``status``), oldest first."""
        query = select(t.incidents).order_by(t.incidents.c.opened_us, t.incidents.c.id)
        if status is not None:
            query = query.where(t.incidents.c.status == status.value)
        with connect(self.store.engine) as conn:
            return [_incident(row) for row in conn.execute(query).mappings()]

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Every action recorded on the incident, in the order of recording."""
        self.get(incident_id)
        a = t.audit_events
        query = select(a).where(a.c.subject == incident_id).order_by(a.c.seq)
        with connect(self.store.engine) as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    # -- changing --------------------------------------------------------------------

    def open(
        self,
        *,
        title: str,
        scope: Scope,
        actor: str,
        owner: str | None = None,
        alert: str | None = None,
        aware: datetime | None = None,
    ) -> Incident:
        """Open an incident; awareness defaults to now (when it was opened)."""
        if not title.strip():
            raise InvalidScope("an incident needs a title")
        now = self.clock()
        incident = Incident(
            id=self._next_id(),
            title=title.strip(),
            status=IncidentStatus.OPEN,
            owner=owner,
            alert=alert,
            scope=scope,
            opened=now,
            aware=aware or now,
            high_risk=None,
        )
        self.record(incident.id, "incident.opened", actor, incident.to_json())
        with connect(self.store.engine) as conn:
            conn.execute(insert(t.incidents).values(**_row(incident)))
            conn.commit()
        return incident

    def open_from_alert(
        self, alert_id: str, *, actor: str, title: str | None = None, owner: str | None = None
    ) -> Incident:
        """Open an incident from a detection alert: the alert's agent, from its first
        evidence until now, aware since the alert was raised."""
        a = t.detect_alerts
        key = int(alert_id) if alert_id.isdigit() else -1
        with connect(self.store.engine) as conn:
            row = conn.execute(select(a).where(a.c.id == key)).mappings().first()
        if row is None:
            raise InvalidScope(f"no alert {alert_id!r} (see `vigile detect`)")
        now = self.clock()
        scope = Scope(
            agents=(row["agent"],),
            since=from_micros(row["first_us"]),
            until=max(now, from_micros(row["last_us"])),
        )
        return self.open(
            title=title or f"Alert {alert_id}: agent {row['agent']} ({row['severity']})",
            scope=scope,
            actor=actor,
            owner=owner,
            alert=alert_id,
            aware=from_micros(row["created_us"]),
        )

    def note(self, incident_id: str, text: str, actor: str) -> TimelineEntry:
        """Add a note to the incident's timeline."""
        self._changeable(incident_id)
        return self.record(incident_id, "incident.note", actor, {"text": text})

    def set_status(self, incident_id: str, status: IncidentStatus, actor: str) -> Incident:
        """Move the incident to ``status`` (``closed`` is final)."""
        before = self._changeable(incident_id)
        details = {"from": before.status.value, "to": status.value}
        self.record(incident_id, "incident.status", actor, details)
        return self._update(incident_id, status=status.value)

    def assign(self, incident_id: str, owner: str, actor: str) -> Incident:
        """Give the incident to ``owner``."""
        self._changeable(incident_id)
        self.record(incident_id, "incident.assigned", actor, {"owner": owner})
        return self._update(incident_id, owner=owner)

    def assess(self, incident_id: str, *, high_risk: bool, reason: str, actor: str) -> Incident:
        """Record the GDPR Art. 34 assessment: is the risk to people high?"""
        self._changeable(incident_id)
        details = {"high_risk": high_risk, "reason": reason}
        self.record(incident_id, "incident.assessed", actor, details)
        return self._update(incident_id, high_risk=_RISK[high_risk])

    def record(
        self,
        incident_id: str,
        action: str,
        actor: str,
        details: Mapping[str, Any],
        *,
        customer: str | None = None,
        event_id: str | None = None,
    ) -> TimelineEntry:
        """Record an action on the incident as an audit event (store and ledger).

        A fixed ``event_id`` makes the record idempotent: the store keeps an id once.
        """
        event = AuditEvent.new(
            action,
            actor=actor,
            time=self.clock(),
            subject=incident_id,
            customer=customer,
            details=details,
            event_id=event_id,
            id_prefix=f"{incident_id}/",
        )
        self._recorder.record([event])
        return TimelineEntry(
            event_id=event.id,
            time=event.time,
            action=action,
            actor=actor,
            customer=customer,
            details=event.details,
        )

    def record_reads(
        self, incident_id: str, reader: Reader, shown: Iterable[Shown]
    ) -> list[Access]:
        """Record what a page shows ``reader`` of customers' data, justified by the
        incident: one access per customer, all in one transaction. Call it before the
        page is sent: if recording fails, this raises and the page must not be sent."""
        reads = incident_reads(incident_id, reader, shown, self.clock())
        if reads:
            self._recorder.record(reads)
        return reads

    def _changeable(self, incident_id: str) -> Incident:
        incident = self.get(incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise IncidentClosed(incident_id)
        return incident

    def _update(self, incident_id: str, **values: Any) -> Incident:
        with connect(self.store.engine) as conn:
            conn.execute(update(t.incidents).where(t.incidents.c.id == incident_id).values(values))
            conn.commit()
        return self.get(incident_id)

    def _next_id(self) -> str:
        with connect(self.store.engine) as conn:
            count = conn.execute(select(func.count()).select_from(t.incidents)).scalar_one()
        return f"INC-{count + 1:04d}"


def _row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status.value,
        "owner": incident.owner,
        "alert": incident.alert,
        "scope": orjson.dumps(incident.scope.to_json()).decode(),
        "since_us": to_micros(incident.scope.since),
        "until_us": to_micros(incident.scope.until),
        "opened_us": to_micros(incident.opened),
        "aware_us": to_micros(incident.aware),
        "high_risk": _RISK[incident.high_risk],
    }


def _incident(row: RowMapping) -> Incident:
    risk = {"yes": True, "no": False}.get(row["high_risk"] or "")
    return Incident(
        id=row["id"],
        title=row["title"],
        status=IncidentStatus(row["status"]),
        owner=row["owner"],
        alert=row["alert"],
        scope=Scope.from_json(orjson.loads(row["scope"])),
        opened=from_micros(row["opened_us"]),
        aware=from_micros(row["aware_us"]),
        high_risk=risk,
    )


def _entry(row: RowMapping) -> TimelineEntry:
    return TimelineEntry(
        event_id=row["id"],
        time=from_micros(row["time_us"]),
        action=row["action"],
        actor=row["actor"],
        customer=row["customer"],
        details=orjson.loads(row["details"]),
    )
