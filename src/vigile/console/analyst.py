"""The analyst console: alerts with their reasons and the analyst's verdicts, an agent's
page (activity timeline, sign-ins, suspension), incidents (:mod:`analyst_incidents`) and
the ledger's status (:mod:`analyst_ledger`).

A thin adapter: alerts are the detection's :class:`~vigile.detect.AlertBook`, incidents
the response's :class:`~vigile.respond.Incidents`, containment the broker's. The pages
here show no customer data (alerts and the agent page: counts, ids, the agent's own
sign-ins); those that do, an incident's, record each customer shown as an access
(:mod:`analyst_incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from annotated_types import Interval
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from vigile.broker import operations as ops
from vigile.console import analyst_incidents, analyst_ledger
from vigile.console.analyst_activity import (
    activity_span,
    day_floor,
    evidence_hours,
    hourly_accesses,
    signins,
)
from vigile.console.analyst_common import AnalystSession, missing
from vigile.console.core import Console, ConsoleDep, ConsoleRoute
from vigile.detect import Alert, AlertBook, AlertStatus
from vigile.model.bounds import RowNumber
from vigile.model.times import EARLIEST, LATEST
from vigile.render.charts import activity_timeline
from vigile.respond import Incident, Incidents, InvalidScope

__all__ = ["router"]

router = APIRouter(prefix="/console/analyst", include_in_schema=False, route_class=ConsoleRoute)
router.include_router(analyst_incidents.router)
router.include_router(analyst_ledger.router)

#: The verdicts an analyst may record, as the buttons name them.
VERDICTS = {
    "acknowledged": AlertStatus.ACKNOWLEDGED,
    "closed_benign": AlertStatus.BENIGN,
    "closed_malicious": AlertStatus.MALICIOUS,
}
_MAX_DAYS = 31
_FIRST_END = EARLIEST.date() + timedelta(days=_MAX_DAYS)
_LAST_END = LATEST.date() - timedelta(days=_MAX_DAYS)
#: The day the agent page's window ends (exclusive): its days, and the window after it,
#: stay within the calendar.
WindowEnd = Annotated[date, Interval(ge=_FIRST_END, le=_LAST_END)]
#: What the agent page says after a suspend or resume (only these: no text from the URL).
_OUTCOMES = {
    "suspended": "Suspended: its sessions are revoked and its requests denied.",
    "already-suspended": "Already suspended.",
    "resumed": "Resumed: the agent may sign in again.",
    "was-not-suspended": "The agent was not suspended.",
}


@router.get("", response_class=HTMLResponse)
def alerts(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    closed: Annotated[bool, Query()] = False,
) -> Response:
    """Alerts, most severe first (closed ones on request), each with its incident if one
    was opened from it."""
    found = AlertBook(console.store.engine).alerts(include_closed=closed)
    return console.render(
        request,
        "analyst/alerts.html.j2",
        session=session,
        alerts=found,
        incidents=_incidents_by_alert(console),
        closed=closed,
        verdicts=VERDICTS,
    )


@router.post("/alerts/{alert_id}/status", response_class=HTMLResponse)
def set_alert_status(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    alert_id: Annotated[RowNumber, Path()],
    status: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Record the analyst's acknowledgement or verdict (kept in the alert's history); an
    unknown alert is the not-found page (:class:`~vigile.detect.AlertNotFound`)."""
    who = console.principal(request, session)
    if status not in VERDICTS:
        return missing(console, request, session, f"no such alert status: {status}")
    book = AlertBook(console.store.engine)
    changed = book.set_status(alert_id, VERDICTS[status], actor=who.agent, note=note or None)
    if request.headers.get("hx-request"):  # htmx swaps the alert's card in place
        return console.render(
            request,
            "analyst/_alert.html.j2",
            session=session,
            alert=changed,
            incidents=_incidents_by_alert(console),
            verdicts=VERDICTS,
        )
    return RedirectResponse("/console/analyst", status_code=303)


@router.post("/alerts/{alert_id}/incident", response_class=HTMLResponse)
def open_incident(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    alert_id: Annotated[RowNumber, Path()],
) -> Response:
    """Open an incident from the alert (or go to the one already opened from it)."""
    who = console.principal(request, session)
    existing = _incidents_by_alert(console).get(str(alert_id))
    if existing is not None:
        return RedirectResponse(f"/console/analyst/incidents/{existing.id}", status_code=303)
    try:
        incident = Incidents(console.store).open_from_alert(
            str(alert_id), actor=who.agent, owner=who.agent
        )
    except InvalidScope:
        return missing(console, request, session, f"no alert {alert_id}")
    return RedirectResponse(f"/console/analyst/incidents/{incident.id}", status_code=303)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Window:
    """The period the agent page charts: ``days`` days ending at ``end`` (exclusive)."""

    end: datetime
    days: int

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def moved(self, days: int) -> str | None:
        """The query string of the same-sized window shifted by ``days`` (at most a
        window's length); ``None`` past the calendar's edge."""
        end = (self.end + timedelta(days=days)).date()
        if not _FIRST_END <= end <= _LAST_END:
            return None
        return f"?end={end.isoformat()}&days={self.days}"


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
def agent_page(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    agent_id: str,
    end: Annotated[WindowEnd | None, Query()] = None,
    days: Annotated[int | None, Query(ge=1, le=_MAX_DAYS)] = None,
) -> Response:
    """An agent: its alerts, its activity timeline, its sign-ins, suspend or resume."""
    store = console.store
    span = activity_span(store, agent_id)
    if store.agent(agent_id) is None and span is None:
        return missing(console, request, session, f"no agent {agent_id}")
    mine = [a for a in AlertBook(store.engine).alerts(include_closed=True) if a.agent == agent_id]
    window = _window(console, mine, span, end, days)
    anomalous = set().union(*(evidence_hours(store, a.evidence) for a in mine)) if mine else set()
    in_window = signins(store, agent_id, since=window.start, until=window.end)
    chart = activity_timeline(
        start=window.start,
        hours=window.days * 24,
        counts=hourly_accesses(store, agent_id, window.start, window.end),
        anomalous=anomalous,
        signins=[s.mark() for s in reversed(in_window)],
    )
    return console.render(
        request,
        "analyst/agent.html.j2",
        session=session,
        agent_id=agent_id,
        agent=store.agent(agent_id),
        alerts=mine,
        window=window,
        chart=Markup(chart),  # noqa: S704 - vigile.render.charts escapes every value
        recent=signins(store, agent_id, limit=20),
        suspension=console.broker.containment.suspension_of(agent_id),
        done=_OUTCOMES.get(request.query_params.get("done", "")),
    )


def _window(
    console: Console,
    alerts: list[Alert],
    span: tuple[datetime, datetime] | None,
    end: date | None,
    days: int | None,
) -> _Window:
    """The window asked for; by default the latest alert's evidence and a day either side,
    else the last 14 days with activity."""
    if alerts:
        latest = max(alerts, key=lambda a: a.last_us)
        default_end = day_floor(latest.last_seen) + timedelta(days=2)
        default_days = (default_end - day_floor(latest.first_seen)).days + 1
    else:
        last = span[1] if span else console.clock()
        default_end, default_days = day_floor(last) + timedelta(days=1), 14
    chosen_end = (
        default_end
        if end is None
        else datetime.combine(end, datetime.min.time(), tzinfo=default_end.tzinfo)
    )
    return _Window(end=chosen_end, days=min(days or default_days, _MAX_DAYS))


@router.post("/agents/{agent_id}/{action}", response_class=HTMLResponse)
def contain(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    agent_id: str,
    action: str,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Suspend the agent (sessions revoked, requests denied, grants revoked) or resume it;
    the broker records either in the ledger."""
    who = console.principal(request, session)
    store = console.store
    if action not in ("suspend", "resume"):
        return missing(console, request, session, f"no such action: {action}")
    if store.agent(agent_id) is None and activity_span(store, agent_id) is None:
        return missing(console, request, session, f"no agent {agent_id}")
    why = reason.strip() or f"{action} from the analyst console by {who.agent}"
    # A broker refusal (nobody lifts their own suspension) is the error page of its family.
    if action == "suspend":
        outcome = ops.suspend_agent(console.broker, who, agent_id, why)
    else:
        outcome = (
            "resumed"
            if ops.resume_agent(console.broker, who, agent_id, why)
            else ("was not suspended")
        )
    key = outcome.replace(" ", "-")
    target = f"/console/analyst/agents/{quote(agent_id, safe='')}?done={key}"
    return RedirectResponse(target, status_code=303)


def _incidents_by_alert(console: Console) -> dict[str, Incident]:
    return {i.alert: i for i in Incidents(console.store).find() if i.alert is not None}
