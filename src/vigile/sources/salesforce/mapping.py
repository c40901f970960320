"""Salesforce's records mapped to Vigile's (docs/sources.md, "Salesforce"): a pure
function of the record and the directory's :class:`Identities`.

Sign-ins from ``Login``/``LoginEvent``; the impersonation of ``LoginAs`` as an audit event;
a record page of an Account, a Contact, a Case or a customer's User (their login account)
as an access to that customer, justified by the Case page it was reached from; searches as
``customer.search``; reports and API queries naming their rows' records as exports; Cases
and their history as ticket steps. What Salesforce does not say (which fields a page
showed, which records a search found) is documented as lost, never made up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from vigile.model import Access, AuditEvent, SignIn, TicketEvent
from vigile.model.vocabulary import Action, Reason, TicketStep
from vigile.sources.base import (
    ACCOUNT,
    CONTACT,
    CUSTOMER,
    Identities,
    Mapped,
    MapResult,
    Skipped,
    Unmapped,
)
from vigile.sources.fields import storable
from vigile.sources.salesforce.records import (
    ACCOUNT_PREFIX,
    ACCOUNT_SYSTEM,
    CASE_PREFIX,
    CONTACT_PREFIX,
    CONTACT_SYSTEM,
    ELF_TYPES,
    ID_PATTERN,
    QUEUE_PREFIX,
    SYSTEM,
    USER_PREFIX,
    USER_SYSTEM,
    VIEW_FIELDS,
    CaseHistoryRecord,
    CaseRecord,
    Envelope,
    Export,
    Login,
    LoginAs,
    NotRead,
    RecordView,
    SalesforceRecord,
    Search,
    salesforce_id,
)

__all__ = ["map_salesforce"]


def _extra(event: Envelope, more: Mapping[str, str]) -> Mapping[str, Any]:
    extra: dict[str, Any] = {"source": SYSTEM, "salesforce_event_type": event.type}
    if event.user_name:
        extra["salesforce_user"] = event.user_name
    extra.update(more)
    return MappingProxyType(extra)


def _agent(event: Envelope, identities: Identities) -> str | Unmapped:
    if event.user is None:
        return Unmapped(reason=f"{event.type} without a user id", example=event.id)
    agent = identities.agent(SYSTEM, event.user)
    if agent is None:
        name = f" ({event.user_name})" if event.user_name else ""
        return Unmapped(reason="Salesforce user not in the directory", example=event.user + name)
    return agent


def _session(event: Envelope) -> str:
    return f"salesforce:{event.session or event.id}"


def _map_login(login: Login, identities: Identities) -> MapResult:
    agent = _agent(login.event, identities)
    if isinstance(agent, Unmapped):
        return agent
    event = login.event
    if event.ip is None:
        return Unmapped(reason="sign-in without a source IP", example=event.id)
    signin = SignIn(
        id=f"salesforce:{event.id}",
        time=event.time,
        agent=agent,
        session=_session(event),
        outcome="success" if login.success else "failure",
        ip=event.ip,
        country=login.country,
        lat=login.lat,
        lon=login.lon,
        user_agent=login.user_agent,
        extra=_extra(event, login.extra),
    )
    return storable([signin], what="sign-in", example=event.id)


def _map_login_as(login_as: LoginAs, identities: Identities) -> MapResult:
    event = login_as.event
    if login_as.admin is None:
        return Unmapped(
            reason="LoginAsEvent names the admin by username only",
            example=login_as.admin_name or event.id,
        )
    agent = identities.agent(SYSTEM, login_as.admin)
    if agent is None:
        name = f" ({login_as.admin_name})" if login_as.admin_name else ""
        return Unmapped(
            reason="Salesforce user not in the directory", example=login_as.admin + name
        )
    details = {
        "source": SYSTEM,
        "delegated_user": login_as.admin_name,
        "user": event.user_name,
        "ip": event.ip,
        "uri": login_as.uri,
    }
    audit = AuditEvent(
        id=f"salesforce:{event.id}",
        time=event.time,
        action="salesforce.LoginAs",
        actor=agent,
        subject=f"salesforce_user:{event.user}" if event.user else None,
        details=MappingProxyType({k: v for k, v in details.items() if v is not None}),
    )
    return Mapped(records=(audit,))


@dataclass(frozen=True, kw_only=True, slots=True)
class _Seen:
    """What a record id names for Vigile."""

    action: Action
    customer: str
    object: str | None = None
    case: str | None = None


def _account(record: str, identities: Identities) -> _Seen | MapResult:
    named = identities.named(ACCOUNT_SYSTEM, record)
    if named is None or named[0] != CUSTOMER:
        return Unmapped(reason="Salesforce Account not in the directory", example=record)
    return _Seen(action=Action.CUSTOMER_VIEW, customer=named[1])


def _contact(record: str, identities: Identities) -> _Seen | MapResult:
    named = identities.named(CONTACT_SYSTEM, record)
    owner = identities.customer_of(*named) if named and named[0] == CONTACT else None
    if named is None or owner is None:
        return Unmapped(reason="Salesforce Contact not in the directory", example=record)
    return _Seen(action=Action.CONTACT_VIEW, customer=owner, object=named[1])


def _case_seen(record: str, identities: Identities) -> _Seen | MapResult:
    ticket = f"salesforce:{record}"
    customer = identities.tickets.get(ticket)
    if customer is None:
        return Unmapped(reason="Salesforce Case not ingested", example=record)
    return _Seen(action=Action.CUSTOMER_VIEW, customer=customer, object=ticket, case=ticket)


def _user(record: str, identities: Identities) -> _Seen | None:
    named = identities.named(USER_SYSTEM, record)
    owner = identities.customer_of(*named) if named and named[0] == ACCOUNT else None
    if named is None or owner is None:
        return None
    return _Seen(action=Action.ACCOUNT_VIEW, customer=owner, object=named[1])


_PLACED: Mapping[str, Callable[[str, Identities], _Seen | MapResult]] = {
    ACCOUNT_PREFIX: _account,
    CONTACT_PREFIX: _contact,
    CASE_PREFIX: _case_seen,
}


def _seen(record: str, label: str, kind: str, identities: Identities) -> _Seen | MapResult:
    """The customer data a record id stands for, or how it is counted: an Account,
    Contact or Case Vigile cannot place is kept aside; a User not a customer's account
    (an employee's page) and any other record are counted."""
    prefix = record[:3]
    placed = _PLACED.get(prefix)
    if placed is not None:
        return placed(record, identities)
    if prefix == USER_PREFIX:
        return _user(record, identities) or Skipped(event_type=f"{kind}:User")
    return Skipped(event_type=f"{kind}:{label or prefix}")


def _view_id(event: Envelope, record: str) -> str:
    """An ELF view's id names its record too: one request (``REQUEST_ID``) can log
    several views; a real-time event's ``EventIdentifier`` is unique."""
    if event.type in ELF_TYPES:
        return f"salesforce:{event.id}:{record}"
    return f"salesforce:{event.id}"


def _map_view(view: RecordView, identities: Identities) -> MapResult:
    event = view.event
    if view.skip is not None or view.record is None:
        return Skipped(event_type=view.skip or f"{event.type}:no record")
    seen = _seen(view.record, view.label, event.type, identities)
    if not isinstance(seen, _Seen):
        return seen
    agent = _agent(event, identities)
    if isinstance(agent, Unmapped):
        return agent
    ticket = seen.case or (f"salesforce:{view.previous_case}" if view.previous_case else None)
    access = Access(
        id=_view_id(event, view.record),
        time=event.time,
        agent=agent,
        session=_session(event),
        action=seen.action,
        outcome="allowed",
        customer=seen.customer,
        ip=event.ip,
        fields=VIEW_FIELDS[view.record[:3]],
        object=seen.object,
        ticket=ticket,
        reason=Reason.CUSTOMER_INITIATED_SUPPORT if ticket else None,
        extra=_extra(event, view.extra),
    )
    return storable([access], what="access", example=event.id)


def _map_search(search: Search, identities: Identities) -> MapResult:
    event = search.event
    agent = _agent(event, identities)
    if isinstance(agent, Unmapped):
        return agent
    access = Access(
        id=f"salesforce:{event.id}",
        time=event.time,
        agent=agent,
        session=_session(event),
        action=Action.CUSTOMER_SEARCH,
        outcome="allowed",
        ip=event.ip,
        query=search.query,
        extra=_extra(event, search.extra),
    )
    return storable([access], what="search", example=event.id)


def _map_export(export: Export, identities: Identities) -> MapResult:
    event = export.event
    customers: dict[str, None] = {}
    for record in export.records:
        seen = _seen(record, "", event.type, identities)
        if isinstance(seen, _Seen):
            customers[seen.customer] = None
    if not customers:
        return Unmapped(reason=f"{event.type} names no customer", example=export.object or event.id)
    agent = _agent(event, identities)
    if isinstance(agent, Unmapped):
        return agent
    accesses = [
        Access(
            id=f"salesforce:{event.id}:{customer}",
            time=event.time,
            agent=agent,
            session=_session(event),
            action=Action.EXPORT,
            outcome="allowed",
            customer=customer,
            ip=event.ip,
            object=export.object,
            extra=_extra(event, export.extra),
        )
        for customer in sorted(customers)
    ]
    return storable(accesses, what="export", example=event.id)


def _case_extra(case: CaseRecord) -> Mapping[str, Any]:
    extra = {"source": SYSTEM, "salesforce_status": case.status}
    return MappingProxyType({k: v for k, v in extra.items() if v is not None})


def _map_case(case: CaseRecord, identities: Identities) -> MapResult:
    ticket = f"salesforce:{case.id}"
    if case.account is None:
        return Unmapped(reason="Case without AccountId", example=case.id)
    named = identities.named(ACCOUNT_SYSTEM, case.account)
    if named is None or named[0] != CUSTOMER:
        return Unmapped(reason="Salesforce Account not in the directory", example=case.account)
    steps = [
        TicketEvent(
            id=f"{ticket}:opened",
            time=case.created,
            ticket=ticket,
            event=TicketStep.OPENED,
            customer=named[1],
            extra=_case_extra(case),
        )
    ]
    if case.owner is not None and case.owner.startswith(USER_PREFIX):
        agent = identities.agent(SYSTEM, case.owner)
        if agent is None:
            return Unmapped(reason="Salesforce user not in the directory", example=case.owner)
        steps.append(
            TicketEvent(
                id=f"{ticket}:assigned:{case.owner}",
                time=case.created,
                ticket=ticket,
                event=TicketStep.ASSIGNED,
                agent=agent,
                extra=_case_extra(case),
            )
        )
    if case.closed:
        steps.append(
            TicketEvent(
                id=f"{ticket}:closed",
                time=case.closed_date or case.modified or case.created,
                ticket=ticket,
                event=TicketStep.CLOSED,
                extra=_case_extra(case),
            )
        )
    return storable(steps, what="ticket step", example=case.id)


def _map_case_history(change: CaseHistoryRecord, identities: Identities) -> MapResult:
    ticket = f"salesforce:{change.case}"
    extra = MappingProxyType({"source": SYSTEM, "salesforce_case_history": change.id})
    new = change.new or ""
    if change.field == "Owner":
        if new.startswith(QUEUE_PREFIX):
            return Skipped(event_type="CaseHistory:Owner queue")
        if not (new.startswith(USER_PREFIX) and ID_PATTERN.fullmatch(new)):
            return Skipped(event_type="CaseHistory:Owner name")
        agent = identities.agent(SYSTEM, salesforce_id(new))
        if agent is None:
            return Unmapped(reason="Salesforce user not in the directory", example=new)
        step = TicketEvent(
            id=f"salesforce:{change.id}",
            time=change.created,
            ticket=ticket,
            event=TicketStep.ASSIGNED,
            agent=agent,
            extra=extra,
        )
        return storable([step], what="ticket step", example=change.id)
    if change.field == "Status" and new == "Closed" and change.old != "Closed":
        step = TicketEvent(
            id=f"salesforce:{change.id}",
            time=change.created,
            ticket=ticket,
            event=TicketStep.CLOSED,
            extra=extra,
        )
        return storable([step], what="ticket step", example=change.id)
    return Skipped(event_type=f"CaseHistory:{change.field}")


_MAPPERS: Mapping[type, Callable[[Any, Identities], MapResult]] = {
    Login: _map_login,
    LoginAs: _map_login_as,
    RecordView: _map_view,
    Search: _map_search,
    Export: _map_export,
    CaseRecord: _map_case,
    CaseHistoryRecord: _map_case_history,
}


def map_salesforce(record: SalesforceRecord, identities: Identities) -> MapResult:
    """Vigile's records for one Salesforce object (pure)."""
    if isinstance(record, NotRead):
        return Skipped(event_type=record.kind)
    return _MAPPERS[type(record)](record, identities)
