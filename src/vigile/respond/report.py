"""The breach record of an incident (GDPR Art. 33(5): the facts of the breach, its
effects and the remedial action taken), as JSON and as a self-contained HTML report.

The HTML embeds everything it shows: styles inline and a timeline chart of the scope's
accesses drawn here as SVG, so it opens offline and loads nothing from anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import select

from vigile.model.times import format_rfc3339
from vigile.respond.blast import access_times, blast_radius
from vigile.respond.clock import RegulatoryClock
from vigile.respond.incidents import Incidents
from vigile.respond.notices import BUILTIN_TEMPLATES
from vigile.respond.remediation import Remediation
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["BreachRecord", "breach_record", "render_html", "timeline_svg"]

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


def timeline_svg(daily: Sequence[tuple[date, int]], *, width: int = 720, height: int = 200) -> str:
    """A bar chart of accesses per day, as standalone SVG markup."""
    if not daily:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>'
    peak = max(count for _, count in daily) or 1
    left, bottom, top = 40, 30, 10
    step = (width - left) / len(daily)
    bars = []
    for index, (day, count) in enumerate(daily):
        bar = (height - bottom - top) * count / peak
        x, y = left + index * step, height - bottom - bar
        label = escape(f"{day.isoformat()}: {count} accesses")
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{bar:.1f}" '
            f'fill="#b3261e"><title>{label}</title></rect>'
        )
    axis = (
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#444"/>'
        f'<text x="{left}" y="{height - 10}" font-size="11">{daily[0][0].isoformat()}</text>'
        f'<text x="{width}" y="{height - 10}" font-size="11" text-anchor="end">'
        f"{daily[-1][0].isoformat()}</text>"
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end">{peak}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="Accesses per day">{axis}{"".join(bars)}</svg>'
    )


def render_html(record: BreachRecord) -> str:
    """The breach record as one self-contained HTML page."""
    env = Environment(
        loader=FileSystemLoader(BUILTIN_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True),
        undefined=StrictUndefined,
    )
    template = env.get_template("report/breach.html.j2")
    chart = Markup(timeline_svg(record.daily_accesses))  # noqa: S704 - built and escaped above
    return template.render(record=record.document, chart=chart)
