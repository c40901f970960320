"""Zendesk Support: ticket audits and the account audit log, one JSON object a line.

Three of Zendesk's objects are read, told apart by their keys:

- a **Ticket Audit** (``GET /api/v2/tickets/{ticket_id}/audits``, or the account-wide
  ``GET /api/v2/ticket_audits``): ``id``, ``ticket_id``, ``created_at``, ``author_id``,
  ``via`` and ``events[]``, each event a ``type`` (``Create``, ``Change``, ``Comment``,
  ``Notification``...) and, for ``Create``/``Change``, ``field_name``, ``value`` and (on a
  ``Change``) ``previous_value``;
- a **ticket event** of the incremental export (``GET /api/v2/incremental/ticket_events``,
  ``include=comment_events`` or not): the same update of a ticket as its audit, spelled
  otherwise: ``id`` (the audit's id), ``ticket_id``, ``created_at`` (or ``timestamp``,
  epoch seconds), ``updater_id`` (the audit's ``author_id``), ``via`` (a word) and
  ``child_events[]``, each the audit's event of the same ``id``, its kind in
  ``event_type`` and the field it sets as a key of its own (``"status": "open"``), with
  ``previous_value`` on a ``Change``. It is read as the audit it stands for;
- an **Audit Log** entry (``GET /api/v2/audit_logs``, Enterprise plan): ``id``,
  ``action`` (``create``, ``destroy``, ``exported``, ``login``, ``update``), ``actor_id``,
  ``actor_name``, ``source_type``, ``source_id``, ``source_label``,
  ``change_description``, ``ip_address``, ``created_at``.

The mapping (docs/sources.md has the field-by-field table):

- an audit with a ``Create`` event opens the ticket ``zendesk:<ticket_id>``; its customer
  is the ``organization_id`` the audit sets (the ticket's organisation), through the
  directory's ``zendesk_org`` ids; when it sets none, the requester's organisation: the
  customer of the contact whose Zendesk end-user id (``zendesk_user``) is the
  ``requester_id`` the audit sets; neither: the audit is kept aside, naming why;
- a ``Create``/``Change`` of ``assignee_id`` to a user assigns the ticket to the agent the
  directory's ``zendesk`` ids name;
- a ``Create``/``Change`` of ``status`` into ``solved`` or ``closed`` (from neither)
  closes it;
- each step's id is ``zendesk:<audit id>:<event id>`` (``opened``: the smallest id of the
  audit's ``Create`` events): ingesting an audit again stores nothing new, and a ticket
  event holds the same ids as its audit, so the two exports of one update can be ingested
  together and each step is stored once. One audit can hold several steps; if one of
  them cannot be placed (an organisation or an assignee not in the directory), the whole
  audit is kept aside, named, so a corrected directory and a second ingest store all of
  it;
- an audit-log entry becomes an audit event ``zendesk.<source_type>.<action>`` by the agent
  the directory names for ``actor_id``;
- Zendesk's activity stream (``verb``) is counted by name, not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from vigile.model import AuditEvent, TicketEvent
from vigile.model.vocabulary import TicketStep
from vigile.sources.base import (
    CUSTOMER,
    Identities,
    InvalidField,
    Mapped,
    MapResult,
    Skipped,
    Unmapped,
)
from vigile.sources.fields import JSON, storable, text_field, vendor_time

__all__ = [
    "ORG_SYSTEM",
    "REQUESTER_SYSTEM",
    "SYSTEM",
    "ZENDESK",
    "AuditLog",
    "NotRead",
    "TicketAudit",
    "TicketAuditEvent",
    "ZendeskSource",
    "map_zendesk",
    "parse_zendesk",
]

#: The identity systems of Zendesk's ids in the directory (``zendesk_id``): users (agents)
#: and organisations (customers).
SYSTEM = "zendesk"
ORG_SYSTEM = "zendesk_org"
#: The identity system of Zendesk end users in the directory: contacts of customers
#: (a contact's ``zendesk_id``), whose customer is a ticket's when it names no organisation.
REQUESTER_SYSTEM = "zendesk_user"
_JSON = JSON
_text = text_field
_CLOSED = frozenset({"solved", "closed"})
#: Fields of Create/Change events whose value Vigile reads (and checks).
_ID_FIELDS = frozenset({"assignee_id", "organization_id", "requester_id", "group_id"})
#: The fields Vigile reads, in the order a ticket event's child event is searched for one.
_READ_FIELDS = ("status", "assignee_id", "organization_id", "requester_id", "group_id")
#: The latest ``timestamp`` read (9999-12-31T23:59:59Z), in epoch seconds.
_MAX_SECONDS = 253_402_300_799


# -- the vendor's records --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketAuditEvent:
    """One event of a ticket audit; ``value``/``previous_value`` are kept (as text) only
    for the fields Vigile reads: ``status`` and the ids of :data:`_ID_FIELDS`."""

    type: str
    id: str | None = None
    field_name: str | None = None
    value: str | None = None
    previous_value: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketAudit:
    """One Zendesk Ticket Audit, as much of it as Vigile reads."""

    id: str
    ticket_id: str
    created_at: datetime
    author_id: str | None = None
    via_channel: str | None = None  # via.channel
    events: tuple[TicketAuditEvent, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditLog:
    """One entry of Zendesk's account audit log (``/api/v2/audit_logs``)."""

    id: str
    created_at: datetime
    action: str
    actor_id: str | None = None
    actor_name: str | None = None
    source_type: str | None = None
    source_id: str | None = None
    source_label: str | None = None
    change_description: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class NotRead:
    """A Zendesk object Vigile counts but does not read (``kind`` names it)."""

    kind: str


ZendeskRecord = TicketAudit | AuditLog | NotRead


# -- reading one JSON object -----------------------------------------------------------


def _id(
    obj: _JSON, key: str, path: str, *, required: bool = False, user: bool = False
) -> str | None:
    """A Zendesk id: an integer (the API's form) or its decimal digits in a string; a
    ``user`` may be ``-1``, Zendesk's own system."""
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidField(path, "required field is missing")
        return None
    if type(value) is int and (value >= 0 or (user and value == -1)):
        return str(value)
    if type(value) is str and value.isascii() and value.isdigit():
        return str(int(value))
    raise InvalidField(path, f"expected a Zendesk id (a whole number), got {value!r}")


def _created_at(obj: _JSON) -> datetime:
    text = _text(obj, "created_at", "created_at", required=True) or ""
    return vendor_time(text, "created_at", spaced=False)


def _value(event: _JSON, key: str, field: str, path: str) -> str | None:
    if field == "status":
        return _text(event, key, path)
    return _id(event, key, path) if field in _ID_FIELDS else None


def _event(item: object, path: str) -> TicketAuditEvent:
    if type(item) is not dict:
        raise InvalidField(path, f"expected an object, got {type(item).__name__}")
    kind = _text(item, "type", path + ".type", required=True) or ""
    if kind not in ("Create", "Change"):
        return TicketAuditEvent(type=kind)
    field = _text(item, "field_name", path + ".field_name", required=True) or ""
    read = field == "status" or field in _ID_FIELDS
    return TicketAuditEvent(  # any Create's id may name the `opened` step
        type=kind,
        id=_id(item, "id", path + ".id", required=read),
        field_name=field,
        value=_value(item, "value", field, path + ".value"),
        previous_value=_value(item, "previous_value", field, path + ".previous_value"),
    )


def _audit(obj: _JSON) -> TicketAudit:
    events = obj.get("events")
    if events is None:
        raise InvalidField("events", "required field is missing")
    if type(events) is not list:
        raise InvalidField("events", f"expected a list, got {type(events).__name__}")
    via = obj.get("via")
    channel = _text(via, "channel", "via.channel") if type(via) is dict else None
    return TicketAudit(
        id=_id(obj, "id", "id", required=True) or "",
        ticket_id=_id(obj, "ticket_id", "ticket_id", required=True) or "",
        created_at=_created_at(obj),
        author_id=_id(obj, "author_id", "author_id", user=True),
        via_channel=channel,
        events=tuple(_event(item, f"events[{n}]") for n, item in enumerate(events)),
    )


def _timestamp(obj: _JSON) -> datetime:
    """``created_at``, else ``timestamp`` (epoch seconds): ticket events carry both."""
    if obj.get("created_at") is not None or obj.get("timestamp") is None:
        return _created_at(obj)
    value = obj["timestamp"]
    if type(value) is not int or not 0 <= value <= _MAX_SECONDS:
        raise InvalidField("timestamp", f"expected epoch seconds, got {value!r}")
    return datetime.fromtimestamp(value, UTC)


def _child_event(item: object, path: str) -> TicketAuditEvent:
    """A ticket event's child event as the audit's event of the same id: its kind in
    ``event_type``, the field it sets as a key of its own."""
    if type(item) is not dict:
        raise InvalidField(path, f"expected an object, got {type(item).__name__}")
    kind = _text(item, "event_type", path + ".event_type") or _text(item, "type", path + ".type")
    if not kind:
        raise InvalidField(path + ".event_type", "required field is missing")
    if kind not in ("Create", "Change"):
        return TicketAuditEvent(type=kind)
    named = [name for name in _READ_FIELDS if name in item]
    if len(named) > 1:
        raise InvalidField(path, f"one change holds several fields: {', '.join(named)}")
    field = named[0] if named else "other"
    return TicketAuditEvent(  # any Create's id may name the `opened` step
        type=kind,
        id=_id(item, "id", path + ".id", required=bool(named)),
        field_name=field,
        value=_value(item, field, field, f"{path}.{field}"),
        previous_value=_value(item, "previous_value", field, path + ".previous_value"),
    )


def _ticket_event(obj: _JSON) -> TicketAudit:
    children = obj["child_events"]
    if type(children) is not list:
        raise InvalidField("child_events", f"expected a list, got {type(children).__name__}")
    via = obj.get("via")
    channel = (
        _text(obj, "via", "via") if type(via) is not dict else _text(via, "channel", "via.channel")
    )
    return TicketAudit(
        id=_id(obj, "id", "id", required=True) or "",
        ticket_id=_id(obj, "ticket_id", "ticket_id", required=True) or "",
        created_at=_timestamp(obj),
        author_id=_id(obj, "updater_id", "updater_id", user=True),
        via_channel=channel,
        events=tuple(_child_event(item, f"child_events[{n}]") for n, item in enumerate(children)),
    )


def _audit_log(obj: _JSON) -> AuditLog:
    return AuditLog(
        id=_id(obj, "id", "id", required=True) or "",
        created_at=_created_at(obj),
        action=_text(obj, "action", "action", required=True) or "",
        actor_id=_id(obj, "actor_id", "actor_id", user=True),
        actor_name=_text(obj, "actor_name", "actor_name"),
        source_type=_text(obj, "source_type", "source_type"),
        source_id=_id(obj, "source_id", "source_id"),
        source_label=_text(obj, "source_label", "source_label"),
        change_description=_text(obj, "change_description", "change_description"),
        ip_address=_text(obj, "ip_address", "ip_address"),
    )


def parse_zendesk(obj: object) -> ZendeskRecord:
    """The typed record of one JSON object; :class:`InvalidField` names what is wrong."""
    if type(obj) is not dict:
        raise InvalidField("json", f"expected a JSON object, got {type(obj).__name__}")
    if "child_events" in obj:
        return _ticket_event(obj)
    if "ticket_id" in obj or "events" in obj:
        return _audit(obj)
    if "action" in obj and ("actor_id" in obj or "source_type" in obj):
        return _audit_log(obj)
    if "verb" in obj and "actor" in obj:
        return NotRead(kind="activity")
    raise InvalidField(
        "events",
        "not a Zendesk ticket audit, ticket event nor audit log entry "
        "(no ticket_id, events, child_events, action)",
    )


# -- the mapping -----------------------------------------------------------------------


def _customer(identities: Identities, organization: str) -> str | None:
    found = identities.ids.get((ORG_SYSTEM, organization))
    return found[1] if found is not None and found[0] == CUSTOMER else None


def _extra(audit: TicketAudit) -> Mapping[str, Any]:
    extra = {
        "source": SYSTEM,
        "zendesk_audit": audit.id,
        "zendesk_author": audit.author_id,
        "zendesk_via": audit.via_channel,
    }
    return MappingProxyType({k: v for k, v in extra.items() if v is not None})


def _fields(audit: TicketAudit) -> list[TicketAuditEvent]:
    return [e for e in audit.events if e.type in ("Create", "Change") and e.field_name]


def _ticket_customer(
    audit: TicketAudit, creates: list[TicketAuditEvent], identities: Identities
) -> str | Unmapped:
    """The customer of a ticket opened by ``audit``: its organisation when the audit sets
    one, else the customer of its requester (a contact in the directory); kept aside
    naming why when neither resolves. An organisation the directory lacks is not replaced
    by the requester's: Zendesk users may belong to several organisations."""
    organization = next(
        (e.value for e in creates if e.field_name == "organization_id" and e.value), None
    )
    if organization is not None:
        customer = _customer(identities, organization)
        if customer is None:
            return Unmapped(
                reason="Zendesk organization not in the directory", example=organization
            )
        return customer
    requester = next((e.value for e in creates if e.field_name == "requester_id" and e.value), None)
    if requester is None:
        return Unmapped(
            reason="ticket opened without organization_id nor requester_id",
            example=f"zendesk:{audit.ticket_id} (audit {audit.id})",
        )
    named = identities.named(REQUESTER_SYSTEM, requester)
    customer = identities.customer_of(*named) if named is not None else None
    if customer is None:
        return Unmapped(
            reason="ticket opened without organization_id, its requester not a contact "
            "in the directory",
            example=requester,
        )
    return customer


def _opened(audit: TicketAudit, identities: Identities) -> TicketEvent | Unmapped | None:
    creates = [e for e in _fields(audit) if e.type == "Create"]
    if not creates:
        return None
    customer = _ticket_customer(audit, creates, identities)
    if isinstance(customer, Unmapped):
        return customer
    ids = [int(e.id) for e in creates if e.id]
    first = str(min(ids)) if ids else "create"  # the same whatever the events' order
    return TicketEvent(
        id=f"zendesk:{audit.id}:{first}",
        time=audit.created_at,
        ticket=f"zendesk:{audit.ticket_id}",
        event=TicketStep.OPENED,
        customer=customer,
        extra=_extra(audit),
    )


def _steps(audit: TicketAudit, identities: Identities) -> list[TicketEvent] | Unmapped:
    steps: list[TicketEvent] = []
    opened = _opened(audit, identities)
    if isinstance(opened, Unmapped):
        return opened
    if opened is not None:
        steps.append(opened)
    ticket = f"zendesk:{audit.ticket_id}"
    for event in _fields(audit):
        step_id = f"zendesk:{audit.id}:{event.id}"
        if event.field_name == "assignee_id" and event.value:
            agent = identities.agent(SYSTEM, event.value)
            if agent is None:
                return Unmapped(reason="Zendesk assignee not in the directory", example=event.value)
            steps.append(
                TicketEvent(
                    id=step_id,
                    time=audit.created_at,
                    ticket=ticket,
                    event=TicketStep.ASSIGNED,
                    agent=agent,
                    extra=_extra(audit),
                )
            )
        elif (
            event.field_name == "status"
            and (event.value or "").lower() in _CLOSED
            and (event.previous_value or "").lower() not in _CLOSED
        ):
            steps.append(
                TicketEvent(
                    id=step_id,
                    time=audit.created_at,
                    ticket=ticket,
                    event=TicketStep.CLOSED,
                    extra=_extra(audit),
                )
            )
    return steps


def _map_audit(audit: TicketAudit, identities: Identities) -> MapResult:
    steps = _steps(audit, identities)
    if isinstance(steps, Unmapped):
        return steps
    if not steps:
        return Skipped(event_type="ticket audit without a step")
    return storable(steps, what="ticket step", example=audit.id)


def _map_audit_log(entry: AuditLog, identities: Identities) -> MapResult:
    if entry.actor_id is None:
        return Unmapped(reason="audit log entry without actor_id", example=entry.id)
    agent = identities.agent(SYSTEM, entry.actor_id)
    if agent is None:
        name = f" ({entry.actor_name})" if entry.actor_name else ""
        return Unmapped(reason="Zendesk user not in the directory", example=entry.actor_id + name)
    source_type = entry.source_type or "account"
    details = {
        "source": SYSTEM,
        "zendesk_actor": entry.actor_id,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "source_label": entry.source_label,
        "change_description": entry.change_description,
        "ip": entry.ip_address,
    }
    subject = f"zendesk_{source_type}:{entry.source_id}" if entry.source_id else None
    audit = AuditEvent(
        id=f"zendesk:audit_log:{entry.id}",
        time=entry.created_at,
        action=f"zendesk.{source_type}.{entry.action}",
        actor=agent,
        subject=subject,
        details=MappingProxyType({k: v for k, v in details.items() if v is not None}),
    )
    return Mapped(records=(audit,))


def map_zendesk(record: ZendeskRecord, identities: Identities) -> MapResult:
    """Vigile's records for one Zendesk object (pure)."""
    if isinstance(record, TicketAudit):
        return _map_audit(record, identities)
    if isinstance(record, AuditLog):
        return _map_audit_log(record, identities)
    return Skipped(event_type=record.kind)


@dataclass(frozen=True, slots=True)
class ZendeskSource:
    """Zendesk's ticket audits and audit log as a :class:`vigile.sources.base.Source`."""

    name: str = "zendesk"

    def parse(self, obj: object) -> ZendeskRecord:
        return parse_zendesk(obj)

    def map(self, record: ZendeskRecord, identities: Identities) -> MapResult:
        return map_zendesk(record, identities)


ZENDESK = ZendeskSource()
