"""OCSF 1.x events, one JSON object a line or a Parquet row (a security lake's files):
Authentication (3002) and API Activity (6003).

The mapping is the inverse of the spec's "Mapping to OCSF" (docs/spec/activity-log.md,
:mod:`vigile.activitylog.ocsf`), so ``vigile export --format ocsf`` read back with
``vigile ingest --from ocsf`` gives the same sign-ins and accesses (ids and sessions
prefixed ``ocsf:``). docs/sources.md has the field-by-field table; in short:

- Authentication, activity Logon (1), status Success (1) or Failure (2): a sign-in;
- API Activity naming a customer (a ``resources[]`` entry of ``type`` ``customer``),
  status Success or Failure: an access; ``api.operation`` is Vigile's action, or, for a
  Read of another name, the view of the object named (``customer.view`` without one);
- everything else is skipped, counted by ``class_uid`` (and activity, status or
  operation where that is what Vigile does not read).

The actor is found through the directory's ``ocsf_id`` (system ``ocsf``, lower case):
the OCSF user's ``uid``, else ``email_addr``, else ``name``; the customer through the
customers' ``ocsf_id`` (system ``ocsf_customer``, lower case). Every event needs
``class_uid``, ``metadata.uid`` (the event id is ``ocsf:<uid>``) and ``time`` (epoch
milliseconds). Parquet stores OCSF's ``unmapped`` map as a MAP column, read as a list of
``[key, value]`` pairs (as Parquet converted to JSON writes it too): both forms are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from vigile.model import Access, Action, Reason, SignIn
from vigile.sources.base import (
    CUSTOMER,
    Identities,
    InvalidField,
    MapResult,
    Skipped,
    Unmapped,
)
from vigile.sources.fields import JSON, number_field, object_field, storable, text_field

__all__ = [
    "CUSTOMER_SYSTEM",
    "OCSF",
    "SYSTEM",
    "OcsfEvent",
    "OcsfSource",
    "map_ocsf_event",
    "parse_ocsf_event",
]

#: The identity systems of OCSF's ids in the directory (column ``ocsf_id``).
SYSTEM = "ocsf"
CUSTOMER_SYSTEM = "ocsf_customer"
AUTHENTICATION, API_ACTIVITY = 3002, 6003
_LOGON, _READ = 1, 2
_SUCCESS, _FAILURE = 1, 2
_MFA = frozenset({"none", "totp", "push", "webauthn"})
_OBJECT_KINDS = ("contact", "account", "subscription")
_ACTIONS = frozenset(action.value for action in Action)
_JSON = JSON
_number = number_field


def _object(obj: _JSON, key: str, path: str) -> _JSON:
    """An object; an absent one reads as empty."""
    return object_field(obj, key, path) or {}


def _text(obj: _JSON, key: str, path: str) -> str | None:
    """A string; an empty one reads as absent."""
    return text_field(obj, key, path) or None


_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REASONS = frozenset(reason.value for reason in Reason)


# -- the vendor's record ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    uid: str | None = None
    email_addr: str | None = None
    name: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Resource:
    uid: str | None = None
    type: str | None = None
    fields: tuple[str, ...] = ()  # data.fields (Vigile's export)
    masked_fields: tuple[str, ...] = ()  # data.masked_fields


@dataclass(frozen=True, kw_only=True, slots=True)
class OcsfEvent:
    """One OCSF event, as much of it as Vigile reads."""

    class_uid: int
    uid: str  # metadata.uid
    time: datetime
    activity_id: int | None = None
    status_id: int | None = None
    status_detail: str | None = None
    version: str | None = None  # metadata.version
    product: str | None = None  # metadata.product.name
    user: User | None = None  # 3002: user, else actor.user; 6003: actor.user
    session_uid: str | None = None  # 3002: session.uid; 6003: actor.session.uid
    ip: str | None = None  # src_endpoint.ip
    device: str | None = None  # src_endpoint.uid
    country: str | None = None  # src_endpoint.location.country
    lat: float | None = None  # src_endpoint.location.lat
    lon: float | None = None  # src_endpoint.location.long
    user_agent: str | None = None  # http_request.user_agent
    is_mfa: bool | None = None  # is_mfa (1.0 and later), mfa (1.0.0-rc.2)
    operation: str | None = None  # api.operation
    resources: tuple[Resource, ...] = ()
    unmapped: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


# -- reading one JSON object -----------------------------------------------------------


def _integer(obj: _JSON, key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise InvalidField(path, f"expected an integer, got {type(value).__name__}")
    return value


def _texts(obj: _JSON, key: str, path: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is not list or any(type(item) is not str for item in value):
        raise InvalidField(path, "expected a list of strings")
    return tuple(value)


def _time(obj: _JSON) -> datetime:
    value = obj.get("time")
    if value is None:
        raise InvalidField("time", "required field is missing")
    if type(value) is not int or not 0 <= value <= _MAX_MS:
        raise InvalidField("time", f"expected epoch milliseconds, got {value!r}")
    return _EPOCH + timedelta(milliseconds=value)


def _unmapped(obj: _JSON) -> Mapping[str, Any]:
    """OCSF's ``unmapped``: an object, or ``[[key, value], ...]`` (a Parquet MAP, as JSON
    or as pyarrow's ``(key, value)`` pairs)."""
    value = obj.get("unmapped")
    if value is None:
        return MappingProxyType({})
    if type(value) is dict:
        return MappingProxyType(value)
    if type(value) is list and all(
        type(pair) in (list, tuple) and len(pair) == 2 and type(pair[0]) is str for pair in value
    ):
        return MappingProxyType(dict(value))
    raise InvalidField("unmapped", "expected an object or a list of [key, value] pairs")


def _user(found: _JSON, path: str) -> User | None:
    if not found:
        return None
    return User(
        uid=_text(found, "uid", path + ".uid"),
        email_addr=_text(found, "email_addr", path + ".email_addr"),
        name=_text(found, "name", path + ".name"),
    )


def _resources(obj: _JSON) -> tuple[Resource, ...]:
    found = obj.get("resources")
    if found is None:
        return ()
    if type(found) is not list:
        raise InvalidField("resources", f"expected a list, got {type(found).__name__}")
    resources = []
    for n, item in enumerate(found):
        path = f"resources[{n}]"
        if type(item) is not dict:
            raise InvalidField(path, f"expected an object, got {type(item).__name__}")
        data = _object(item, "data", path + ".data")
        resources.append(
            Resource(
                uid=_text(item, "uid", path + ".uid"),
                type=_text(item, "type", path + ".type"),
                fields=_texts(data, "fields", path + ".data.fields"),
                masked_fields=_texts(data, "masked_fields", path + ".data.masked_fields"),
            )
        )
    return tuple(resources)


def _is_mfa(obj: _JSON) -> bool | None:
    for key in ("is_mfa", "mfa"):
        value = obj.get(key)
        if value is not None:
            if type(value) is not bool:
                raise InvalidField(key, f"expected true or false, got {value!r}")
            return value
    return None


def parse_ocsf_event(obj: object) -> OcsfEvent:
    """The typed OCSF event of one JSON object; :class:`InvalidField` names what is wrong.

    Every event needs ``class_uid``, ``metadata.uid`` and ``time``; the rest is read (and
    checked) only for Authentication and API Activity."""
    if type(obj) is not dict:
        raise InvalidField("json", f"expected a JSON object, got {type(obj).__name__}")
    class_uid = _integer(obj, "class_uid", "class_uid")
    if class_uid is None:
        raise InvalidField("class_uid", "required field is missing")
    metadata = _object(obj, "metadata", "metadata")
    uid = _text(metadata, "uid", "metadata.uid")
    if uid is None:
        raise InvalidField("metadata.uid", "required field is missing")
    time = _time(obj)
    if class_uid not in (AUTHENTICATION, API_ACTIVITY):
        return OcsfEvent(class_uid=class_uid, uid=uid, time=time)
    actor = _object(obj, "actor", "actor")
    endpoint = _object(obj, "src_endpoint", "src_endpoint")
    location = _object(endpoint, "location", "src_endpoint.location")
    http = _object(obj, "http_request", "http_request")
    product = _object(metadata, "product", "metadata.product")
    if class_uid == AUTHENTICATION:
        user = _user(_object(obj, "user", "user"), "user") or _user(
            _object(actor, "user", "actor.user"), "actor.user"
        )
        session = _text(_object(obj, "session", "session"), "uid", "session.uid")
    else:
        user = _user(_object(actor, "user", "actor.user"), "actor.user")
        session = _text(_object(actor, "session", "actor.session"), "uid", "actor.session.uid")
    return OcsfEvent(  # built once: dataclasses.replace costs as much again
        class_uid=class_uid,
        uid=uid,
        time=time,
        activity_id=_integer(obj, "activity_id", "activity_id"),
        status_id=_integer(obj, "status_id", "status_id"),
        status_detail=_text(obj, "status_detail", "status_detail"),
        version=_text(metadata, "version", "metadata.version"),
        product=_text(product, "name", "metadata.product.name"),
        user=user,
        session_uid=session,
        ip=_text(endpoint, "ip", "src_endpoint.ip"),
        device=_text(endpoint, "uid", "src_endpoint.uid"),
        country=_text(location, "country", "src_endpoint.location.country"),
        lat=_number(location, "lat", "src_endpoint.location.lat", 90),
        lon=_number(location, "long", "src_endpoint.location.long", 180),
        user_agent=_text(http, "user_agent", "http_request.user_agent"),
        is_mfa=_is_mfa(obj) if class_uid == AUTHENTICATION else None,
        operation=_text(_object(obj, "api", "api"), "operation", "api.operation"),
        resources=_resources(obj) if class_uid == API_ACTIVITY else (),
        unmapped=_unmapped(obj),
    )


# -- the mapping -----------------------------------------------------------------------


def _agent(event: OcsfEvent, identities: Identities) -> str | Unmapped:
    user = event.user or User()
    names = [name for name in (user.uid, user.email_addr, user.name) if name]
    if not names:
        return Unmapped(reason="event without a user", example=event.uid)
    for name in names:
        agent = identities.agent(SYSTEM, name.lower())
        if agent is not None:
            return agent
    return Unmapped(reason="OCSF user not in the directory", example=names[0])


def _customer(uid: str, identities: Identities) -> str | None:
    found = identities.ids.get((CUSTOMER_SYSTEM, uid.lower()))
    return found[1] if found is not None and found[0] == CUSTOMER else None


def _session(event: OcsfEvent) -> str:
    return f"ocsf:{event.session_uid or event.uid}"


def _extra(event: OcsfEvent) -> Mapping[str, Any]:
    user = event.user or User()
    extra = {
        "source": SYSTEM,
        "ocsf_version": event.version,
        "ocsf_product": event.product,
        "ocsf_user": user.uid or user.email_addr or user.name,
    }
    return MappingProxyType({k: v for k, v in extra.items() if v is not None})


def _mfa(event: OcsfEvent) -> str | None:
    """Vigile's own word (``unmapped.mfa``, as Vigile's export writes it), else ``none``
    when OCSF says no MFA was used; ``is_mfa`` true without a word says no factor."""
    word = event.unmapped.get("mfa")
    if isinstance(word, str) and word in _MFA:
        return word
    return "none" if event.is_mfa is False else None


def _signin(event: OcsfEvent, identities: Identities) -> MapResult:
    if event.activity_id != _LOGON:
        return Skipped(event_type=f"{AUTHENTICATION}:activity {event.activity_id}")
    if event.status_id not in (_SUCCESS, _FAILURE):
        return Skipped(event_type=f"{AUTHENTICATION}:status {event.status_id}")
    agent = _agent(event, identities)
    if isinstance(agent, Unmapped):
        return agent
    if not event.ip:
        return Unmapped(reason="sign-in without src_endpoint.ip", example=event.uid)
    both = event.lat is not None and event.lon is not None
    signin = SignIn(
        id=f"ocsf:{event.uid}",
        time=event.time,
        agent=agent,
        session=_session(event),
        outcome="success" if event.status_id == _SUCCESS else "failure",
        ip=event.ip,
        country=event.country,
        lat=event.lat if both else None,
        lon=event.lon if both else None,
        device=event.device,
        user_agent=event.user_agent,
        mfa=_mfa(event),
        extra=_extra(event),
    )
    return storable([signin], what="sign-in", example=event.uid)


def _object_of(resources: tuple[Resource, ...]) -> Resource | None:
    return next((r for r in resources if (r.type or "").lower() != CUSTOMER), None)


def _action(event: OcsfEvent, obj: Resource | None) -> Action | None:
    """Vigile's action: ``api.operation`` when it is one; for a Read under another
    name, the view of the object's kind (``customer.view`` without an object)."""
    if event.operation in _ACTIONS:
        return Action(event.operation)
    if event.activity_id != _READ:
        return None
    kind = (obj.type or "").lower() if obj is not None else CUSTOMER
    if kind == CUSTOMER:
        return Action.CUSTOMER_VIEW
    return Action(f"{kind}.view") if kind in _OBJECT_KINDS else None


def _justification(event: OcsfEvent) -> tuple[str | None, str | None]:
    found = event.unmapped.get("justification")
    if not isinstance(found, Mapping):
        return None, None
    reason, ticket = found.get("reason"), found.get("ticket")
    return (
        reason if isinstance(reason, str) else None,
        ticket if isinstance(ticket, str) else None,
    )


def _who(
    event: OcsfEvent, customers: list[Resource], identities: Identities
) -> tuple[str, list[str]] | Unmapped:
    """The agent, and the customers the resources name, through the directory."""
    agent = _agent(event, identities)
    if isinstance(agent, Unmapped):
        return agent
    ids = []
    for resource in customers:
        assert resource.uid is not None
        customer = _customer(resource.uid, identities)
        if customer is None:
            return Unmapped(reason="OCSF customer not in the directory", example=resource.uid)
        ids.append(customer)
    return agent, ids


def _access(event: OcsfEvent, identities: Identities) -> MapResult:
    customers = [r for r in event.resources if (r.type or "").lower() == CUSTOMER and r.uid]
    if not customers:
        return Skipped(event_type=f"{API_ACTIVITY}:no customer resource")
    if event.status_id not in (_SUCCESS, _FAILURE):
        return Skipped(event_type=f"{API_ACTIVITY}:status {event.status_id}")
    obj = _object_of(event.resources)
    action = _action(event, obj)
    if action is None:
        return Skipped(event_type=f"{API_ACTIVITY}:{event.operation or 'no operation'}")
    who = _who(event, customers, identities)
    if isinstance(who, Unmapped):
        return who
    agent, ids = who
    search = action is Action.CUSTOMER_SEARCH
    reason, ticket = _justification(event)
    if reason is not None and reason not in _REASONS:
        return Unmapped(reason="access not storable: reason", example=event.uid)
    query = event.unmapped.get("query")
    denied = event.status_id == _FAILURE
    parts = [customers[0], *([obj] if obj is not None else [])]
    extra = dict(_extra(event))
    if event.operation is not None and event.operation != action.value:
        extra["ocsf_operation"] = event.operation
    access = Access(
        id=f"ocsf:{event.uid}",
        time=event.time,
        agent=agent,
        session=_session(event),
        action=action,
        outcome="denied" if denied else "allowed",
        customer=None if search else ids[0],
        ip=event.ip,
        fields=() if search else tuple(f for part in parts for f in part.fields),
        masked_fields=() if search else tuple(f for part in parts for f in part.masked_fields),
        object=obj.uid if obj is not None and not search else None,
        ticket=ticket,
        reason=None if reason is None else Reason(reason),
        query=query if isinstance(query, str) else None,
        results=tuple(ids) if search else (),
        deny_reason=event.status_detail if denied else None,
        extra=MappingProxyType(extra),
    )
    return storable([access], what="access", example=event.uid)


def map_ocsf_event(event: OcsfEvent, identities: Identities) -> MapResult:
    """Vigile's records for one OCSF event (pure)."""
    if event.class_uid == AUTHENTICATION:
        return _signin(event, identities)
    if event.class_uid == API_ACTIVITY:
        return _access(event, identities)
    return Skipped(event_type=str(event.class_uid))


@dataclass(frozen=True, slots=True)
class OcsfSource:
    """OCSF 1.x events as a :class:`vigile.sources.base.Source`."""

    name: str = "ocsf"
    #: What a Parquet file of OCSF events has, whatever the class and version (a security
    #: lake's tables; :mod:`vigile.sources.parquet`).
    parquet_columns: tuple[str, ...] = ("class_uid", "metadata", "time")

    def parse(self, obj: object) -> OcsfEvent:
        return parse_ocsf_event(obj)

    def map(self, record: OcsfEvent, identities: Identities) -> MapResult:
        return map_ocsf_event(record, identities)


OCSF = OcsfSource()
