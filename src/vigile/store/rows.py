"""Model records to table rows and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from sqlalchemy import Table

from vigile.model import (
    Access,
    Account,
    Action,
    Agent,
    AuditEvent,
    Contact,
    Customer,
    Reason,
    Record,
    Shift,
    SignIn,
    Subscription,
    TicketEvent,
    TicketStep,
    ticket_event_id,
)
from vigile.model.times import format_rfc3339, from_micros, to_micros
from vigile.store import tables as t

__all__ = ["COLUMNS", "TABLE_OF", "from_row", "spec_object", "to_row", "to_values"]

Row = dict[str, Any]

TABLE_OF: Mapping[type, Table] = {
    Agent: t.agents,
    Customer: t.customers,
    Contact: t.contacts,
    Account: t.accounts,
    Subscription: t.subscriptions,
    TicketEvent: t.ticket_events,
    SignIn: t.signins,
    Access: t.accesses,
    AuditEvent: t.audit_events,
}


#: Column names of each table, in table order: the layout of :func:`to_values`.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    str(table.name): tuple(str(c.name) for c in table.columns) for table in TABLE_OF.values()
}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _extra(record: Any) -> str | None:
    return _json(dict(record.extra)) if record.extra else None


def _micros(moment: dt.datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def _shift(shift: Shift | None) -> str | None:
    if shift is None:
        return None
    days = list(shift.days)
    start, end = shift.start.strftime("%H:%M"), shift.end.strftime("%H:%M")
    return _json({"days": days, "start": start, "end": end})


def to_row(record: Record, seq: int | None = None) -> Row:
    """The row of a record; event tables also take their ``seq``."""
    row = _ROW_BUILDERS[type(record)](record)
    if seq is not None:
        row["seq"] = seq
    return row


def to_values(record: Record) -> tuple[str, tuple[Any, ...]]:
    """``(table name, row as a tuple in column order)``; an event's ``seq`` is ``None``.

    Compact and cheap to pickle: ingest builds these in worker processes.
    """
    table = str(TABLE_OF[type(record)].name)
    row = _ROW_BUILDERS[type(record)](record)
    return table, tuple([row.get(name) for name in COLUMNS[table]])


def _agent_row(a: Agent) -> Row:
    return {
        "id": a.id,
        "name": a.name,
        "team": a.team,
        "employer": a.employer,
        "country": a.country,
        "timezone": a.timezone,
        "shift": _shift(a.shift),
        "tier": a.tier,
        "time_us": _micros(a.time),
        "extra": _extra(a),
    }


def _customer_row(c: Customer) -> Row:
    return {
        "id": c.id,
        "name": c.name,
        "tier": c.tier,
        "country": c.country,
        "time_us": _micros(c.time),
        "extra": _extra(c),
    }


def _contact_row(c: Contact) -> Row:
    return {
        "id": c.id,
        "customer": c.customer,
        "role": c.role,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "time_us": _micros(c.time),
        "extra": _extra(c),
    }


def _account_row(a: Account) -> Row:
    return {
        "id": a.id,
        "customer": a.customer,
        "username": a.username,
        "email": a.email,
        "status": a.status,
        "time_us": _micros(a.time),
        "extra": _extra(a),
    }


def _subscription_row(s: Subscription) -> Row:
    return {
        "id": s.id,
        "customer": s.customer,
        "service": s.service,
        "plan": s.plan,
        "seats": s.seats,
        "monthly_amount": s.monthly_amount,
        "currency": s.currency,
        "time_us": _micros(s.time),
        "extra": _extra(s),
    }


def _ticket_row(e: TicketEvent) -> Row:
    return {
        "id": e.id,
        "time_us": to_micros(e.time),
        "ticket": e.ticket,
        "event": e.event.value,
        "customer": e.customer,
        "agent": e.agent,
        "category": e.category,
        "extra": _extra(e),
    }


def _signin_row(s: SignIn) -> Row:
    return {
        "id": s.id,
        "time_us": to_micros(s.time),
        "agent": s.agent,
        "session": s.session,
        "outcome": s.outcome,
        "ip": s.ip,
        "country": s.country,
        "lat": s.lat,
        "lon": s.lon,
        "device": s.device,
        "user_agent": s.user_agent,
        "mfa": s.mfa,
        "extra": _extra(s),
    }


def _access_row(a: Access) -> Row:
    return {
        "id": a.id,
        "time_us": to_micros(a.time),
        "agent": a.agent,
        "session": a.session,
        "ip": a.ip,
        "action": a.action.value,
        "customer": a.customer,
        "object": a.object,
        "fields": _json(a.fields),
        "masked_fields": _json(a.masked_fields),
        "ticket": a.ticket,
        "reason": None if a.reason is None else a.reason.value,
        "query": a.query,
        "results": _json(a.results) if a.results else None,
        "outcome": a.outcome,
        "deny_reason": a.deny_reason,
        "extra": _extra(a),
    }


def _audit_row(e: AuditEvent) -> Row:
    return {
        "id": e.id,
        "time_us": to_micros(e.time),
        "action": e.action,
        "actor": e.actor,
        "subject": e.subject,
        "customer": e.customer,
        "details": _json(dict(e.details)),
    }


_ROW_BUILDERS: Mapping[type, Callable[[Any], Row]] = {
    Agent: _agent_row,
    Customer: _customer_row,
    Contact: _contact_row,
    Account: _account_row,
    Subscription: _subscription_row,
    TicketEvent: _ticket_row,
    SignIn: _signin_row,
    Access: _access_row,
    AuditEvent: _audit_row,
}


# -- rows back to records ------------------------------------------------------------


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _time_of(row: Mapping[Any, Any]) -> dt.datetime | None:
    micros = row.get("time_us")
    return None if micros is None else from_micros(micros)


def _common(row: Mapping[Any, Any], skip: frozenset[str]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in skip}
    out["extra"] = _loads(row.get("extra")) or {}
    if "time_us" in row:
        out["time"] = _time_of(row)
    return out


_SKIP = frozenset({"seq", "time_us", "extra"})


R = TypeVar("R", bound=Record)


def from_row(kind: type[R], row: Mapping[Any, Any]) -> R:
    """The record of a row of ``kind``'s table."""
    values = _common(row, _SKIP)
    if kind is Agent and values.get("shift") is not None:
        raw = orjson.loads(values["shift"])
        values["shift"] = Shift(
            days=tuple(raw["days"]),
            start=dt.time.fromisoformat(raw["start"]),
            end=dt.time.fromisoformat(raw["end"]),
        )
    elif kind is TicketEvent:
        values["event"] = TicketStep(values["event"])
    elif kind is AuditEvent:
        values["details"] = _loads(values["details"]) or {}
        del values["extra"]
    elif kind is Access:
        values["action"] = Action(values["action"])
        values["reason"] = None if values["reason"] is None else Reason(values["reason"])
        for name in ("fields", "masked_fields", "results"):
            values[name] = tuple(_loads(values[name]) or ())
    return kind(**values)


# -- stored events as spec objects (the ledger's leaves) ------------------------------

_KIND_OF_TABLE: Mapping[str, str] = {
    "ticket_events": "ticket",
    "signins": "signin",
    "accesses": "access",
    "audit_events": "audit",
}
_JSON_LISTS = frozenset({"fields", "masked_fields", "results", "details"})
_ALWAYS = frozenset({"fields", "details"})  # kept even when empty
_NOT_IN_SPEC = frozenset({"seq", "time_us", "extra"})


def _plan(table: str) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...], int, int]:
    """Where each kind of column sits in a row of ``table``: done once, used per event."""
    columns = COLUMNS[table]
    plain = tuple(
        (i, n) for i, n in enumerate(columns) if n not in _NOT_IN_SPEC and n not in _JSON_LISTS
    )
    lists = tuple((i, n) for i, n in enumerate(columns) if n in _JSON_LISTS)
    extra = columns.index("extra") if "extra" in columns else -1
    return plain, lists, columns.index("time_us"), extra


_PLANS = {table: _plan(table) for table in _KIND_OF_TABLE}


def spec_object(table: str, values: tuple[Any, ...]) -> dict[str, Any]:
    """The activity-log object of a stored event, from its row in column order.

    The same object as ``encode(from_row(...))`` (a test holds them equal), built without
    the model records: the ledger computes one per event at ingest and at verification.
    """
    plain, lists, time_at, extra_at = _PLANS[table]
    out: dict[str, Any] = {"kind": _KIND_OF_TABLE[table]}
    for i, name in plain:
        if values[i] is not None:
            out[name] = values[i]
    moment = from_micros(values[time_at])
    out["time"] = format_rfc3339(moment)
    for i, name in lists:
        if values[i] is not None:
            items = orjson.loads(values[i])
            if items or name in _ALWAYS:  # the spec requires "fields", even empty
                out[name] = items
    if table == "ticket_events" and out["id"] == ticket_event_id(
        out["ticket"], out["event"], moment, out.get("agent")
    ):
        del out["id"]  # derived, as it was when read (spec: ticket steps have no id)
    if extra_at >= 0 and values[extra_at] is not None:
        out.update(orjson.loads(values[extra_at]))
    return out
