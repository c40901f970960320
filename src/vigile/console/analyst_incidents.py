"""The analyst's incident pages: the list, and one incident with its timeline, blast
radius (table, charts by tier and country), notification previews, and the remediation
plan with an apply step that asks for confirmation first.

An analyst reading customer data is a person reading it: the pages that show any
(the incident's blast radius shows each customer's tier and country; the previews its
name, and in the sample messages its exposed contacts and usernames) record one access
per customer shown, justified by the incident, before the page is sent
(:meth:`~vigile.respond.Incidents.record_reads`). If recording fails, the page is the
error page and shows nothing. Ids, counts, times and field names are not customer data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from vigile.broker import Broker
from vigile.console.analyst_common import AnalystSession, missing
from vigile.console.core import Console, ConsoleDep, ConsoleRoute
from vigile.console.sessions import ConsoleSession
from vigile.policy import mask_value
from vigile.render.charts import bar_chart, largest_first
from vigile.respond import (
    BlastRadius,
    IncidentNotFound,
    Incidents,
    Notice,
    Notifications,
    Reader,
    RegulatoryClock,
    Remediation,
    Shown,
    blast_radius,
)
from vigile.store import Store

__all__ = ["MaskedNotice", "masked_notice", "previews_shown", "radius_shown", "router"]

router = APIRouter(prefix="/incidents", include_in_schema=False, route_class=ConsoleRoute)
#: The languages the page previews in full (one message each), when the incident has any.
PREVIEW_LANGUAGES = ("en", "fr")
#: The customer's data fields the previews mask wherever they appear (:func:`masked_notice`).
MASKED_IN_PREVIEWS = frozenset({"contact.email", "contact.phone", "account.email"})


@router.get("", response_class=HTMLResponse)
def incidents(request: Request, console: ConsoleDep, session: AnalystSession) -> Response:
    """Every incident, newest first."""
    found = list(reversed(Incidents(console.store).find()))
    return console.render(request, "analyst/incidents.html.j2", session=session, incidents=found)


@router.get("/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request, console: ConsoleDep, session: AnalystSession, incident_id: str
) -> Response:
    """One incident: what it is, what it reached, what to do. The notification previews
    load from their own address (rendering every customer's message takes a while)."""
    service = Incidents(console.store, clock=console.clock)
    try:
        incident = service.get(incident_id)
    except IncidentNotFound:
        return missing(console, request, session, f"no incident {incident_id}")
    radius = blast_radius(console.store, incident.scope)
    timeline = service.timeline(incident_id)
    plan = Remediation(service).plan(incident_id)
    _record_reads(request, console, session, service, incident_id, radius_shown(radius))
    return console.render(
        request,
        "analyst/incident.html.j2",
        session=session,
        incident=incident,
        clock=RegulatoryClock(
            aware=incident.aware, now=console.clock(), high_risk=incident.high_risk
        ),
        timeline=timeline,
        radius=radius,
        tier_chart=_bars(radius.summary.by_tier, "Affected customers by tier"),
        country_chart=_bars(radius.summary.by_country, "Affected customers by country"),
        plan=plan,
        applied=request.query_params.get("applied", "").isdigit(),
    )


@router.get("/{incident_id}/notifications", response_class=HTMLResponse)
def notification_previews(
    request: Request, console: ConsoleDep, session: AnalystSession, incident_id: str
) -> Response:
    """What each affected customer would be sent (contact values masked); nothing is
    written or sent. A page of its own, or the incident page's card for htmx."""
    service = Incidents(console.store, clock=console.clock)
    try:
        incident = service.get(incident_id)
    except IncidentNotFound:
        return missing(console, request, session, f"no incident {incident_id}")
    notices, unreachable = Notifications(service).render(incident_id)
    previews = [masked_notice(console.store, n) for n in notices]
    samples = _samples(previews)
    shown = previews_shown(notices, sampled={s.customer for s in samples})
    _record_reads(request, console, session, service, incident_id, shown)
    fragment = bool(request.headers.get("hx-request"))
    return console.render(
        request,
        "analyst/_notifications.html.j2" if fragment else "analyst/notifications.html.j2",
        session=session,
        incident=incident,
        previews=previews,
        samples=samples,
        unreachable=unreachable,
    )


@router.post("/{incident_id}/apply", response_class=HTMLResponse)
def apply_remediation(
    request: Request,
    console: ConsoleDep,
    session: AnalystSession,
    incident_id: str,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Without ``confirm=yes``: what would be applied, and a button to confirm. With it:
    apply every automatic action not applied yet (agents suspended through the broker)."""
    who = console.principal(request, session)
    service = Incidents(console.store)
    try:
        incident = service.get(incident_id)
    except IncidentNotFound:
        return missing(console, request, session, f"no incident {incident_id}")
    remediation = Remediation(service, suspension=_AnalystSuspension(console.broker, who.agent))
    if confirm != "yes":
        pending = [a for a in remediation.plan(incident_id) if a.automatic and not a.applied]
        return console.render(
            request, "analyst/apply.html.j2", session=session, incident=incident, pending=pending
        )
    # A closed incident, an account renamed meanwhile...: the error page of its family.
    done = remediation.apply(incident_id, who.agent)
    return RedirectResponse(
        f"/console/analyst/incidents/{incident_id}?applied={len(done)}", status_code=303
    )


def _record_reads(
    request: Request,
    console: Console,
    session: ConsoleSession,
    incidents: Incidents,
    incident_id: str,
    shown: Sequence[Shown],
) -> None:
    """Record what the page shows of customers' data as the analyst's accesses, from
    the address of this request, on the broker session of their sign-in."""
    who = console.principal(request, session)
    reader = Reader(agent=who.agent, session=who.session, ip=who.ip)
    incidents.record_reads(incident_id, reader, shown)


def radius_shown(radius: BlastRadius) -> list[Shown]:
    """What the blast radius table shows of each customer: its tier and country."""
    return [
        Shown(
            customer=c.customer,
            fields=tuple(
                name
                for name, value in (("customer.tier", c.tier), ("customer.country", c.country))
                if value
            ),
        )
        for c in radius.customers
    ]


def previews_shown(notices: Sequence[Notice], *, sampled: set[str]) -> list[Shown]:
    """What the previews show of each customer: a row has its subject (the customer's
    name) and its recipients (contact addresses, masked); a sample message shows what it
    quotes, contact values masked."""
    shown = []
    for notice in notices:
        quoted = set(notice.quoted) if notice.customer in sampled else {"customer.name"}
        shown.append(
            Shown(
                customer=notice.customer,
                fields=tuple(sorted(quoted - MASKED_IN_PREVIEWS)),
                masked_fields=tuple(sorted({"contact.email"} | quoted & MASKED_IN_PREVIEWS)),
            )
        )
    return shown


class _AnalystSuspension:
    """The broker as the remediation's suspension port, acting as the analyst (so the
    ledger names who suspended the agent)."""

    def __init__(self, broker: Broker, actor: str) -> None:
        self.broker = broker
        self.actor = actor

    def suspend(self, agent: str, reason: str) -> str:
        return self.broker.suspend(agent, reason, actor=self.actor)


def _bars(counts: Mapping[str, int], label: str) -> Markup:
    chart = bar_chart(largest_first(counts), label=label)
    return Markup(chart)  # noqa: S704 - vigile.render.charts escapes every value


@dataclass(frozen=True, kw_only=True, slots=True)
class MaskedNotice:
    """A notification as the analyst sees it before it is sent: contact values masked."""

    customer: str
    language: str
    recipients: tuple[str, ...]
    subject: str
    text: str


def masked_notice(store: Store, notice: Notice) -> MaskedNotice:
    """The notice with every contact address and phone number of its customer masked
    (the message itself, sent to the customer, keeps them: it is their own data)."""
    secrets = dict(_contact_values(store, notice.customer))
    message = notice.message
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    recipients = [r.strip() for r in str(message["To"] or "").split(",") if r.strip()]
    return MaskedNotice(
        customer=notice.customer,
        language=notice.language,
        recipients=tuple(mask_value("contact.email", r) or "" for r in recipients),
        subject=_masked(str(message["Subject"] or ""), secrets),
        text=_masked(text, secrets),
    )


def _contact_values(store: Store, customer: str) -> Iterable[tuple[str, str]]:
    # The values of the fields of MASKED_IN_PREVIEWS.
    for contact in store.contacts_of(customer):
        for name, value in (("contact.email", contact.email), ("contact.phone", contact.phone)):
            if value:
                yield value, mask_value(name, value) or ""
    for account in store.accounts_of(customer):
        if account.email:
            yield account.email, mask_value("account.email", account.email) or ""


def _masked(text: str, secrets: Mapping[str, str]) -> str:
    # Longest first: an address that contains another is masked whole.
    for clear in sorted(secrets, key=len, reverse=True):
        text = text.replace(clear, secrets[clear])
    return text


def _samples(previews: list[MaskedNotice]) -> list[MaskedNotice]:
    """The first notice in each previewed language."""
    first: dict[str, MaskedNotice] = {}
    for preview in previews:
        first.setdefault(preview.language, preview)
    return [first[lang] for lang in PREVIEW_LANGUAGES if lang in first]
