"""The breach record of an incident (GDPR Art. 33(5): the facts of the breach, its
effects and the remedial action taken), as JSON and as a self-contained HTML report.

The HTML embeds everything it shows: styles inline and a timeline chart of the scope's
accesses drawn as SVG (:mod:`vigile.render.charts`), so it opens offline and loads
nothing from anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import select

from vigile.model.times import format_rfc3339
from vigile.render.charts import STANDALONE_STYLE, daily_timeline
from vigile.render.templates import template_environment
from vigile.respond.blast import access_times, blast_radius
from vigile.respond.clock import RegulatoryClock
from vigile.respond.incidents import Incidents
from vigile.respond.notices import BUILTIN_TEMPLATES
from vigile.respond.remediation import Remediation
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["BreachRecord", "breach_record", "render_html"]

_HIGH_RISK_CATEGORIES = frozenset({"contacts", "accounts", "billing"})
_EFFECTS = (
    "Targeted phishing of the exposed contacts, above all billing contacts, using the "
    "customer's real services, plans and invoices to look genuine.",
    "Attempts to take over the exposed sign-in accounts (usernames and email addresses "
    "known to the attacker).",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class BreachRecord:
    """The record, as built at ``generated``; :meth:`to_json` is the exported form."""

    document: dict[str, Any]
    daily_accesses: tuple[tuple[date, int], ...]

    def to_json(self) -> dict[str, Any]:
        return self.document


def breach_record(incidents: Incidents, incident_id: str) -> BreachRecord:
    """Everything the Art. 33(5) documentation needs, from the store and the ledger."""
    incident = incidents.get(incident_id)
    store = incidents.store
    radius = blast_radius(store, incident.scope)
    now = incidents.clock()
    clock = RegulatoryClock(aware=incident.aware, now=now, high_risk=incident.high_risk)
    plan = Remediation(incidents).plan(incident_id)
    document = {
        "format": "vigile-breach-record",
        "version": 1,
        "generated": format_rfc3339(now),
        "incident": incident.to_json(),
        "clock": clock.to_json(),
        "facts": {
            "scope": incident.scope.to_json(),
            "customers_affected": radius.summary.customers,
            "accesses": radius.summary.accesses,
            "summary": radius.summary.to_json(),
        },
        "effects": {
            "likely_consequences": list(_EFFECTS),
            "high_risk": incident.high_risk,
            "suggested_high_risk": _suggested_risk(radius.summary.by_category),
        },
        "remedial_action": {
            "actions": [a.to_json() for a in plan],
            "notifications": _notifications(incidents, incident_id),
        },
        "timeline": [e.to_json() for e in incidents.timeline(incident_id)],
        "customers": [c.to_json() for c in radius.customers],
    }
    days = Counter(moment.date() for moment in access_times(store, incident.scope))
    return BreachRecord(document=document, daily_accesses=_every_day(days))


def _suggested_risk(by_category: Mapping[str, int]) -> dict[str, Any]:
    """A starting point for the Art. 34 assessment, never a substitute for it: contact
    details or sign-in usernames seen in clear make targeted phishing and account takeover
    likely, which is a high risk to the people concerned."""
    reasons = [
        f"{category} of {count} customer(s) seen in clear"
        for category, count in by_category.items()
        if category in _HIGH_RISK_CATEGORIES and count
    ]
    return {"high_risk": bool(reasons), "reasons": reasons}


def _notifications(incidents: Incidents, incident_id: str) -> dict[str, int]:
    n = t.incident_notifications
    query = select(n.c.status).where(n.c.incident == incident_id)
    with connect(incidents.store.engine) as conn:
        return dict(sorted(Counter(row[0] for row in conn.execute(query)).items()))


def _every_day(days: Counter[date]) -> tuple[tuple[date, int], ...]:
    """Each day from the first access to the last, zero where nothing happened."""
    if not days:
        return ()
    first, last = min(days), max(days)
    span = (last - first).days + 1
    return tuple((first + timedelta(d), days.get(first + timedelta(d), 0)) for d in range(span))


def render_html(record: BreachRecord) -> str:
    """The breach record as one self-contained HTML page."""
    template = template_environment(BUILTIN_TEMPLATES).get_template("report/breach.html.j2")
    chart = Markup(daily_timeline(record.daily_accesses))  # noqa: S704 - escaped where drawn
    style = Markup(STANDALONE_STYLE)  # noqa: S704 - a constant
    return template.render(record=record.document, chart=chart, chart_style=style)
