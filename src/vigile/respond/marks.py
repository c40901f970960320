"""Which of a customer's accesses belong to an incident, for the customer portal.

The attacker's search that listed a customer sits among ordinary rows of its access log;
marked, it links to the incident, to the notification the customer received, and to what
to do. An access belongs to an incident when it is in the incident's scope (window and
every dimension), allowed or denied: denied attempts are part of what happened. A search
belongs for every customer it listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from vigile.model.times import from_micros
from vigile.respond.blast import scope_conditions
from vigile.respond.incidents import Incidents
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["IncidentMark", "incident_marks"]


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentMark:
    """The incident an access belongs to, and the customer's notification of it."""

    incident: str
    title: str
    notified: datetime | None  # when the customer's notification was sent (None: not yet)


def incident_marks(store: Store, customer: str) -> dict[str, IncidentMark]:
    """Event id -> the incident it belongs to, for every access concerning ``customer``
    that is in an incident's scope (the first incident, when several)."""
    a, r, e = t.accesses, t.search_results, t.audit_events
    marks: dict[str, IncidentMark] = {}
    with connect(store.engine) as conn:
        sent = select(e.c.subject, e.c.time_us).where(
            e.c.action == "notification.sent", e.c.customer == customer
        )
        notified = {row[0]: from_micros(row[1]) for row in conn.execute(sent)}
        for incident in Incidents(store).find():
            mark = IncidentMark(
                incident=incident.id, title=incident.title, notified=notified.get(incident.id)
            )
            scope = and_(*scope_conditions(conn, incident.scope))
            direct = select(a.c.id).where(a.c.customer == customer, scope)
            listed = (
                select(a.c.id)
                .join(r, r.c.access_seq == a.c.seq)
                .where(r.c.customer == customer, scope)
            )
            for query in (direct, listed):
                for (event_id,) in conn.execute(query):
                    marks.setdefault(event_id, mark)
    return marks
