"""Decode spec records (JSON objects) into model records, and encode them back.

Decoding validates each field against the activity-log spec, version 1. A problem raises
:class:`InvalidField` naming the field; the reader adds the file and line.

A record that decodes is one the store can write, whoever parsed the JSON (orjson for
files; the standard library, which lets lone surrogates, ``NaN`` and integers of any size
through, for the HTTP API): text is valid Unicode without NUL, numbers are finite and fit
their columns, times stay within the calendar once in UTC, and extra fields are plain JSON
of bounded depth. A value that failed only at write time would fail a whole group commit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from vigile.model import (
    ACTIONS,
    DATA_FIELDS,
    MFA_METHODS,
    REASONS,
    WEEKDAYS,
    Access,
    Account,
    Action,
    ActivityRecord,
    Agent,
    Contact,
    Customer,
    Reason,
    Shift,
    SignIn,
    Subscription,
    TicketEvent,
    TicketStep,
    ticket_event_id,
)
from vigile.model.times import format_rfc3339, parse_rfc3339

__all__ = ["DECODERS", "InvalidField", "decode", "encode", "plainly_valid", "ticket_event_id"]

JSON = dict[str, Any]
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
_ACTION_OF: Mapping[str, Action] = {a.value: a for a in Action}
_REASON_OF: Mapping[str | None, Reason | None] = {r.value: r for r in Reason} | {None: None}


class InvalidField(ValueError):
    """A field of one record is missing or wrong; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


# -- field readers -------------------------------------------------------------------


# Each reader takes the common case first and works out the precise error only on failure:
# ingest decodes millions of lines.


def _str(obj: JSON, key: str) -> str:
    value = obj.get(key)
    if type(value) is str and value and value.isascii() and "\x00" not in value:
        return value
    if value is None:
        raise InvalidField(key, "required field is missing")
    if type(value) is not str:
        raise InvalidField(key, f"expected a string, got {_kind(value)}")
    if not value:
        raise InvalidField(key, "must not be empty")
    return _text(key, value)


def _opt_str(obj: JSON, key: str) -> str | None:
    value = obj.get(key)
    if value is None or (type(value) is str and value.isascii() and "\x00" not in value):
        return value
    if type(value) is str:
        return _text(key, value)
    raise InvalidField(key, f"expected a string, got {_kind(value)}")


# NUL: PostgreSQL text cannot hold it. Lone surrogates: not Unicode scalar values, no UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _text(key: str, value: str) -> str:
    """``value`` when the store can hold it (the readers' fast paths take plain ASCII)."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return value
    if found.group() == "\x00":
        raise InvalidField(key, "must not contain a NUL character")
    raise InvalidField(key, "contains a lone surrogate, which is not valid Unicode")


def _one_of(obj: JSON, key: str, allowed: frozenset[str], *, required: bool) -> str | None:
    value = obj.get(key)
    if type(value) is str and value in allowed:
        return value
    value = _str(obj, key) if required else _opt_str(obj, key)
    if value is not None and value not in allowed:
        raise InvalidField(key, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _time(obj: JSON, key: str, *, required: bool = True) -> dt.datetime | None:
    value = _str(obj, key) if required else _opt_str(obj, key)
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:  # out of range once in UTC, too
        raise InvalidField(key, str(exc)) from None


def _number(obj: JSON, key: str, low: float = -math.inf, high: float = math.inf) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise InvalidField(key, f"expected a number, got {_kind(value)}")
    number = _finite(key, value)
    if not low <= number <= high:
        raise InvalidField(key, f"must be between {low:g} and {high:g}, got {number:g}")
    return number


def _finite(key: str, value: float) -> float:
    try:
        number = float(value)
    except OverflowError:  # an integer past 1.8e308
        number = math.inf
    if math.isfinite(number):
        return number
    raise InvalidField(key, "must be a finite number")


_INT32 = 2**31 - 1  # PostgreSQL's integer, the narrowest integer column


def _int(obj: JSON, key: str, low: int = -_INT32 - 1, high: int = _INT32) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise InvalidField(key, f"expected an integer, got {_kind(value)}")
    if not low <= value <= high:
        raise InvalidField(key, f"must be between {low} and {high}")
    return int(value)


def _str_list(
    obj: JSON, key: str, vocabulary: frozenset[str] | None = None, noun: str = "data field"
) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is list:
        try:
            if vocabulary is not None and vocabulary.issuperset(value):
                return tuple(value)
        except TypeError:  # an unhashable item: reported below
            pass
    else:
        raise InvalidField(key, f"expected a list, got {_kind(value)}")
    for index, item in enumerate(value):
        if type(item) is not str:
            raise InvalidField(f"{key}[{index}]", f"expected a string, got {_kind(item)}")
        if vocabulary is not None and item not in vocabulary:
            raise InvalidField(f"{key}[{index}]", f"unknown {noun} {item!r}")
        if not item.isascii() or "\x00" in item:
            _text(f"{key}[{index}]", item)
    return tuple(value)


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _extra(obj: JSON, known: frozenset[str]) -> Mapping[str, Any]:
    if obj.keys() <= known:
        return _NO_EXTRA
    extra = {k: v for k, v in obj.items() if k not in known}
    for key, value in extra.items():
        if (  # the common case first: plain ASCII text under a plain ASCII name
            type(key) is str
            and type(value) is str
            and key.isascii()
            and value.isascii()
            and "\x00" not in key
            and "\x00" not in value
        ):
            continue
        if not isinstance(key, str):
            raise InvalidField("kind", f"field names must be strings, got {_kind(key)}")
        name = _printable(key)
        _text(name, key)
        _check_json(name, value, name)
    return extra


# Extra fields are kept as JSON text; orjson writes 64-bit integers and 255 levels at most.
_INT64 = (-(2**63), 2**64 - 1)
_MAX_DEPTH = 64


def _printable(key: str) -> str:
    """A field name safe to put in an error message (lone surrogates escaped)."""
    return key.encode("utf-8", "backslashreplace").decode()


def _check_json(path: str, value: object, field: str, depth: int = 0) -> None:
    """Refuse what the store could not write back as JSON: ``path`` names the place,
    ``field`` the extra field it is in, ``depth`` how deeply nested it is."""
    if isinstance(value, str):
        _text(path, value)
    elif isinstance(value, float):
        _finite(path, value)
    elif value is None or isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise InvalidField(path, "an integer must fit in 64 bits")
    elif isinstance(value, list | dict):
        if depth >= _MAX_DEPTH:
            raise InvalidField(field, f"nested more than {_MAX_DEPTH} levels deep")
        _check_items(path, value, field, depth + 1)
    else:
        raise InvalidField(path, f"expected a JSON value, got {_kind(value)}")


def _check_items(path: str, value: list[Any] | dict[Any, Any], field: str, depth: int) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(f"{path}[{index}]", item, field, depth)
        return
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidField(path, f"field names must be strings, got {_kind(key)}")
        inner = f"{path}.{_printable(key)}"
        _text(inner, key)
        _check_json(inner, item, field, depth)


# -- directory records ---------------------------------------------------------------

_AGENT_KEYS = frozenset(
    {"kind", "id", "name", "team", "employer", "country", "timezone", "shift", "tier", "time"}
)


_WEEKDAYS = frozenset(WEEKDAYS)


def _shift(obj: JSON) -> Shift | None:
    value = obj.get("shift")
    if value is None:
        return None
    if type(value) is not dict:
        raise InvalidField("shift", f"expected an object, got {_kind(value)}")
    try:
        days = _str_list(value, "days", _WEEKDAYS, "weekday")
        start, end = _str(value, "start"), _str(value, "end")
    except InvalidField as exc:
        raise InvalidField(f"shift.{exc.field}", exc.message) from None
    try:
        if _HH_MM.fullmatch(start) is None or _HH_MM.fullmatch(end) is None:
            raise ValueError
        return Shift(days=days, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end))
    except ValueError:
        raise InvalidField("shift", "start and end must be HH:MM") from None


# Wall-clock time in the agent's timezone: an offset or seconds would not survive the store.
_HH_MM = re.compile(r"[0-9]{2}:[0-9]{2}")


def _agent(obj: JSON) -> Agent:
    tier = _int(obj, "tier", 1, 3)
    return Agent(
        id=_str(obj, "id"),
        name=_opt_str(obj, "name"),
        team=_opt_str(obj, "team"),
        employer=_opt_str(obj, "employer"),
        country=_opt_str(obj, "country"),
        timezone=_opt_str(obj, "timezone"),
        shift=_shift(obj),
        tier=tier,
        time=_time(obj, "time", required=False),
        extra=_extra(obj, _AGENT_KEYS),
    )


_CUSTOMER_KEYS = frozenset({"kind", "id", "name", "tier", "country", "time"})


def _customer(obj: JSON) -> Customer:
    return Customer(
        id=_str(obj, "id"),
        name=_opt_str(obj, "name"),
        tier=_opt_str(obj, "tier"),
        country=_opt_str(obj, "country"),
        time=_time(obj, "time", required=False),
        extra=_extra(obj, _CUSTOMER_KEYS),
    )


_CONTACT_KEYS = frozenset({"kind", "id", "customer", "role", "name", "email", "phone", "time"})


def _contact(obj: JSON) -> Contact:
    return Contact(
        id=_str(obj, "id"),
        customer=_str(obj, "customer"),
        role=_opt_str(obj, "role"),
        name=_opt_str(obj, "name"),
        email=_opt_str(obj, "email"),
        phone=_opt_str(obj, "phone"),
        time=_time(obj, "time", required=False),
        extra=_extra(obj, _CONTACT_KEYS),
    )


_ACCOUNT_KEYS = frozenset({"kind", "id", "customer", "username", "email", "status", "time"})


def _account(obj: JSON) -> Account:
    return Account(
        id=_str(obj, "id"),
        customer=_str(obj, "customer"),
        username=_str(obj, "username"),
        email=_opt_str(obj, "email"),
        status=_opt_str(obj, "status"),
        time=_time(obj, "time", required=False),
        extra=_extra(obj, _ACCOUNT_KEYS),
    )


_SUBSCRIPTION_KEYS = frozenset(
    {"kind", "id", "customer", "service", "plan", "seats", "monthly_amount", "currency", "time"}
)


def _subscription(obj: JSON) -> Subscription:
    return Subscription(
        id=_str(obj, "id"),
        customer=_str(obj, "customer"),
        service=_str(obj, "service"),
        plan=_opt_str(obj, "plan"),
        seats=_int(obj, "seats", low=0),
        monthly_amount=_number(obj, "monthly_amount"),
        currency=_opt_str(obj, "currency"),
        time=_time(obj, "time", required=False),
        extra=_extra(obj, _SUBSCRIPTION_KEYS),
    )


# -- event records -------------------------------------------------------------------

_TICKET_KEYS = frozenset({"kind", "id", "time", "ticket", "customer", "event", "agent", "category"})
_TICKET_STEPS = frozenset(s.value for s in TicketStep)
_STEP_OF: Mapping[str, TicketStep] = {s.value: s for s in TicketStep}


def _ticket(obj: JSON) -> TicketEvent:
    time = _time(obj, "time")
    assert time is not None  # required above
    ticket = _str(obj, "ticket")
    step = _STEP_OF[_one_of(obj, "event", _TICKET_STEPS, required=True) or ""]
    customer = _str(obj, "customer") if step is TicketStep.OPENED else _opt_str(obj, "customer")
    agent = _str(obj, "agent") if step is TicketStep.ASSIGNED else _opt_str(obj, "agent")
    given = _opt_str(obj, "id")
    return TicketEvent(
        id=given or ticket_event_id(ticket, step.value, time, agent),
        time=time,
        ticket=ticket,
        event=step,
        customer=customer,
        agent=agent,
        category=_opt_str(obj, "category"),
        extra=_extra(obj, _TICKET_KEYS),
    )


_SIGNIN_KEYS = frozenset(
    {"kind", "id", "time", "agent", "session", "outcome", "ip", "country", "lat", "lon"}
    | {"device", "user_agent", "mfa"}
)
_SIGNIN_OUTCOMES = frozenset({"success", "failure"})


def _signin(obj: JSON) -> SignIn:
    time = _time(obj, "time")
    assert time is not None
    return SignIn(
        id=_str(obj, "id"),
        time=time,
        agent=_str(obj, "agent"),
        session=_str(obj, "session"),
        outcome=_one_of(obj, "outcome", _SIGNIN_OUTCOMES, required=True) or "",
        ip=_str(obj, "ip"),
        country=_opt_str(obj, "country"),
        lat=_number(obj, "lat", -90, 90),
        lon=_number(obj, "lon", -180, 180),
        device=_opt_str(obj, "device"),
        user_agent=_opt_str(obj, "user_agent"),
        mfa=_one_of(obj, "mfa", MFA_METHODS, required=False),
        extra=_extra(obj, _SIGNIN_KEYS),
    )


_ACCESS_KEYS = frozenset(
    {"kind", "id", "time", "agent", "session", "ip", "action", "customer", "fields"}
    | {"masked_fields", "object", "ticket", "reason", "query", "results", "outcome"}
    | {"deny_reason"}
)
_ACCESS_OUTCOMES = frozenset({"allowed", "denied"})


def _access(obj: JSON) -> Access:
    time = _time(obj, "time")
    assert time is not None
    action = _ACTION_OF[_one_of(obj, "action", ACTIONS, required=True) or ""]
    if action is Action.CUSTOMER_SEARCH:
        customer = _opt_str(obj, "customer")
    else:
        customer = _str(obj, "customer")
    reason = _one_of(obj, "reason", REASONS, required=False)
    return Access(
        id=_str(obj, "id"),
        time=time,
        agent=_str(obj, "agent"),
        session=_str(obj, "session"),
        action=action,
        outcome=_one_of(obj, "outcome", _ACCESS_OUTCOMES, required=True) or "",
        customer=customer,
        ip=_opt_str(obj, "ip"),
        fields=_str_list(obj, "fields", DATA_FIELDS),
        masked_fields=_str_list(obj, "masked_fields", DATA_FIELDS),
        object=_opt_str(obj, "object"),
        ticket=_opt_str(obj, "ticket"),
        reason=_REASON_OF[reason],
        query=_opt_str(obj, "query"),
        results=_str_list(obj, "results"),
        deny_reason=_opt_str(obj, "deny_reason"),
        extra=_extra(obj, _ACCESS_KEYS),
    )


DECODERS: Mapping[str, Callable[[JSON], ActivityRecord]] = {
    "agent": _agent,
    "customer": _customer,
    "contact": _contact,
    "account": _account,
    "subscription": _subscription,
    "ticket": _ticket,
    "signin": _signin,
    "access": _access,
}


def decode(obj: object) -> ActivityRecord:
    """The model record of one spec object; :class:`InvalidField` when it is not valid."""
    if type(obj) is not dict:
        raise InvalidField("kind", f"expected a JSON object, got {_kind(obj)}")
    kind = obj.get("kind")
    decoder = DECODERS.get(kind) if type(kind) is str else None
    if decoder is None:
        if kind is None:
            raise InvalidField("kind", "required field is missing")
        raise InvalidField("kind", f"unknown record kind {kind!r}")
    return decoder(obj)


# -- encoding ------------------------------------------------------------------------

_KINDS: Mapping[type, str] = {
    Agent: "agent",
    Customer: "customer",
    Contact: "contact",
    Account: "account",
    Subscription: "subscription",
    TicketEvent: "ticket",
    SignIn: "signin",
    Access: "access",
}


def encode(record: ActivityRecord) -> JSON:
    """The spec object of a model record; ``None`` and empty optional fields are left out."""
    out: JSON = {"kind": _KINDS[type(record)]}
    step = record if isinstance(record, TicketEvent) else None
    for name in record.__slots__:
        if name == "extra":
            continue
        value = getattr(record, name)
        if value is None:
            continue
        if step is not None and name == "id" and value == _derived_id(step):
            continue
        if type(value) is str:  # most fields: as they are
            out[name] = value
            continue
        encoded = _encode_value(value)
        if encoded is not None and encoded != ():
            out[name] = encoded
    if isinstance(record, Access) and "fields" not in out:
        out["fields"] = []
    out.update(record.extra)
    return out


def _derived_id(step: TicketEvent) -> str:
    return ticket_event_id(step.ticket, step.event, step.time, step.agent)


def _encode_value(value: object) -> Any:
    if isinstance(value, dt.datetime):
        return format_rfc3339(value)
    if isinstance(value, Shift):
        return {
            "days": list(value.days),
            "start": value.start.strftime("%H:%M"),
            "end": value.end.strftime("%H:%M"),
        }
    if isinstance(value, tuple):
        return list(value) if value else ()
    return value


# -- the round trip's verdict, read off the fields -----------------------------------


def plainly_valid(record: ActivityRecord) -> bool:
    """Whether ``decode(encode(record))``, through JSON, certainly accepts ``record``,
    read directly off its fields: ``True`` only when every field is of the plain kind the
    round trip lets through (text the store holds, a time in UTC, a word of the spec's
    vocabulary, a number in range, an extra field of a name the spec does not use and a
    scalar value). ``False`` means *not sure*, never *refused*: the caller then runs the
    round trip itself for the exact field it refuses. Adapters check every record they
    map; this makes the common case cost a few comparisons instead of an encode, a JSON
    dump and load, and a decode (``tests/activitylog/test_codec.py`` holds the two equal).
    """
    kind = type(record)
    if kind is SignIn:
        return _plain_signin(record)  # type: ignore[arg-type]
    if kind is Access:
        return _plain_access(record)  # type: ignore[arg-type]
    if kind is TicketEvent:
        return _plain_ticket(record)  # type: ignore[arg-type]
    return False


def _plain_joined(text: str) -> bool:
    if text.isascii():
        return "\x00" not in text
    return _UNSTORABLE.search(text) is None


def _plain_texts(required: tuple[object, ...], optional: tuple[object, ...]) -> bool:
    """Every ``required`` value text, not empty, every ``optional`` one text or ``None``,
    all of it text the store holds: joined first, so that it is one scan of them all."""
    if not all(required):
        return False
    present = [value for value in optional if value is not None]
    if not {*map(type, required), *map(type, present)} <= _STR:
        return False
    return _plain_joined("".join(required) + "".join(present))  # type: ignore[arg-type]


_STR = frozenset({str})


def _plain_time(value: object) -> bool:
    # Any datetime in UTC formats to RFC 3339 and parses back; other offsets could leave
    # the calendar once converted, which the round trip reports.
    return type(value) is dt.datetime and value.tzinfo is dt.UTC


def _plain_number(value: object, bound: float) -> bool:
    return value is None or (type(value) in (int, float) and -bound <= value <= bound)  # type: ignore[operator]


def _plain_words(value: object, vocabulary: frozenset[str] | None) -> bool:
    if type(value) is not tuple:
        return False
    if vocabulary is not None:  # the spec's words are plain text
        return {*map(type, value)} <= _STR and vocabulary.issuperset(value)
    return {*map(type, value)} <= _STR and _plain_joined("".join(value))


def _plain_extra(extra: Mapping[str, Any], known: frozenset[str]) -> bool:
    """Extra fields under names the spec does not use, of scalar values JSON carries
    unchanged (nested values are checked by the round trip)."""
    if not extra:
        return True
    if not known.isdisjoint(extra) or {*map(type, extra)} != _STR:
        return False
    texts = [value for value in extra.values() if type(value) is str]
    if len(texts) < len(extra) and not all(map(_plain_scalar, extra.values())):
        return False
    return _plain_joined("".join(extra) + "".join(texts))


def _plain_scalar(value: object) -> bool:
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True  # text is checked with the names
    if kind is int:
        return _INT64[0] <= value <= _INT64[1]  # type: ignore[operator]
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    return False


def _plain_signin(record: SignIn) -> bool:
    return (
        _plain_time(record.time)
        and _plain_texts(
            (record.id, record.agent, record.session, record.ip),
            (record.country, record.device, record.user_agent),
        )
        and type(record.outcome) is str
        and record.outcome in _SIGNIN_OUTCOMES
        and _plain_number(record.lat, 90)
        and _plain_number(record.lon, 180)
        and (record.mfa is None or (type(record.mfa) is str and record.mfa in MFA_METHODS))
        and _plain_extra(record.extra, _SIGNIN_KEYS)
    )


def _plain_access(record: Access) -> bool:
    action = record.action
    if type(action) is not Action:
        return False
    required: tuple[object, ...] = (record.id, record.agent, record.session)
    optional: tuple[object, ...] = (record.ip, record.object, record.ticket, record.query)
    optional += (record.deny_reason,)
    if action is Action.CUSTOMER_SEARCH:
        optional += (record.customer,)
    else:
        required += (record.customer,)
    return (
        _plain_time(record.time)
        and _plain_texts(required, optional)
        and type(record.outcome) is str
        and record.outcome in _ACCESS_OUTCOMES
        and _plain_words(record.fields, DATA_FIELDS)
        and _plain_words(record.masked_fields, DATA_FIELDS)
        and (record.reason is None or type(record.reason) is Reason)
        and _plain_words(record.results, None)
        and _plain_extra(record.extra, _ACCESS_KEYS)
    )


def _plain_ticket(record: TicketEvent) -> bool:
    step = record.event
    if type(step) is not TicketStep:
        return False
    required: tuple[object, ...] = (record.ticket,)
    optional: tuple[object, ...] = (record.id, record.category)
    if step is TicketStep.OPENED:
        required, optional = (*required, record.customer), (*optional, record.agent)
    elif step is TicketStep.ASSIGNED:
        required, optional = (*required, record.agent), (*optional, record.customer)
    else:
        optional = (*optional, record.customer, record.agent)
    return (
        _plain_time(record.time)
        and _plain_texts(required, optional)
        and _plain_extra(record.extra, _TICKET_KEYS)
    )
