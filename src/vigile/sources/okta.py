"""Okta's System Log (``GET /api/v1/logs``): LogEvent objects, one a line.

The typed record keeps the fields Vigile reads, spelled as Okta's LogEvent object spells
them (``eventType``, ``client.geographicalContext``...). Keys are matched exactly, or else
in lower case: SIEM exports (Panther) store Okta's keys lower-cased. ``published`` is
RFC 3339 (the API's form) or ``YYYY-MM-DD HH:MM:SS[.fraction]`` without an offset, the
form such exports write; Okta's times are UTC, so both read as UTC.

The mapping (docs/sources.md has the field-by-field table):

- ``user.session.start``, ``user.authentication.*``, ``policy.evaluate_sign_on`` become
  sign-ins, the country name Okta gives (``United States``) as its ISO 3166 alpha-2 code
  (:func:`vigile.sources.fields.country_code`; a name ISO 3166 does not list leaves the
  country empty, counted as lost); an outcome other than success/allow or failure/deny
  (``CHALLENGE``, ``SKIPPED``, ``UNKNOWN``) is skipped, counted as ``eventType:RESULT``;
- ``user.session.impersonation.*`` becomes an audit event ``okta.<eventType>``;
- every other type is skipped, counted by type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import Any

from vigile.model import AuditEvent, SignIn
from vigile.sources.base import (
    Identities,
    InvalidField,
    Lost,
    Mapped,
    MapResult,
    Skipped,
    Unmapped,
)
from vigile.sources.fields import (
    JSON,
    country_code,
    field,
    number_field,
    object_field,
    storable,
    text_field,
    vendor_time,
)

__all__ = ["OKTA", "SYSTEM", "LogEvent", "OktaSource", "map_log_event", "parse_log_event"]

#: The identity system of Okta's ids in the directory (``okta_login``).
SYSTEM = "okta"
_JSON = JSON
# Keys as the vendor spells them, or in lower case (Panther stores them so).
_get = partial(field, caseless=True)
_object = partial(object_field, caseless=True)
_text = partial(text_field, caseless=True)
_number = partial(number_field, caseless=True)
_SUCCESS = frozenset({"SUCCESS", "ALLOW"})
_FAILURE = frozenset({"FAILURE", "DENY"})
_SESSION_UNKNOWN = frozenset({"", "unknown"})


# -- the vendor's record ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class UserAgent:
    rawUserAgent: str | None = None  # noqa: N815 - Okta's spelling
    os: str | None = None
    browser: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GeographicalContext:
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postalCode: str | None = None  # noqa: N815
    lat: float | None = None  # geolocation.lat
    lon: float | None = None  # geolocation.lon


@dataclass(frozen=True, kw_only=True, slots=True)
class Client:
    ipAddress: str | None = None  # noqa: N815
    device: str | None = None  # a class of device ("Computer"), not an identifier
    zone: str | None = None
    userAgent: UserAgent | None = None  # noqa: N815
    geographicalContext: GeographicalContext | None = None  # noqa: N815


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    id: str
    type: str | None = None
    alternateId: str | None = None  # noqa: N815 - the Okta login of a User
    displayName: str | None = None  # noqa: N815


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    id: str | None = None
    type: str | None = None
    alternateId: str | None = None  # noqa: N815
    displayName: str | None = None  # noqa: N815


@dataclass(frozen=True, kw_only=True, slots=True)
class LogEvent:
    """One Okta LogEvent, as much of it as Vigile reads."""

    uuid: str
    published: datetime
    eventType: str  # noqa: N815
    actor: Actor | None = None  # read only for the types Vigile maps
    outcome_result: str | None = None  # outcome.result
    outcome_reason: str | None = None  # outcome.reason
    client: Client | None = None
    externalSessionId: str | None = None  # noqa: N815 - authenticationContext's
    credentialType: str | None = None  # noqa: N815 - authenticationContext's
    device_id: str | None = None  # device.id (Identity Engine's device object)
    factor: str | None = None  # debugContext.debugData.factor
    deviceFingerprint: str | None = None  # noqa: N815 - debugContext.debugData's
    target: tuple[Target, ...] = ()


# -- reading one JSON object -----------------------------------------------------------


def _published(obj: _JSON) -> datetime:
    text = _text(obj, "published", "published", required=True)
    assert text is not None
    return vendor_time(text, "published")


def _user_agent(client: _JSON) -> UserAgent | None:
    found = _object(client, "userAgent", "client.userAgent")
    if found is None:
        return None
    path = "client.userAgent."
    return UserAgent(
        rawUserAgent=_text(found, "rawUserAgent", path + "rawUserAgent"),
        os=_text(found, "os", path + "os"),
        browser=_text(found, "browser", path + "browser"),
    )


def _geography(client: _JSON) -> GeographicalContext | None:
    path = "client.geographicalContext"
    found = _object(client, "geographicalContext", path)
    if found is None:
        return None
    where = _object(found, "geolocation", path + ".geolocation") or {}
    return GeographicalContext(
        city=_text(found, "city", path + ".city"),
        state=_text(found, "state", path + ".state"),
        country=_text(found, "country", path + ".country"),
        postalCode=_text(found, "postalCode", path + ".postalCode"),
        lat=_number(where, "lat", path + ".geolocation.lat", 90),
        lon=_number(where, "lon", path + ".geolocation.lon", 180),
    )


def _client(obj: _JSON) -> Client | None:
    found = _object(obj, "client", "client")
    if found is None:
        return None
    return Client(
        ipAddress=_text(found, "ipAddress", "client.ipAddress"),
        device=_text(found, "device", "client.device"),
        zone=_text(found, "zone", "client.zone"),
        userAgent=_user_agent(found),
        geographicalContext=_geography(found),
    )


def _actor(obj: _JSON) -> Actor:
    found = _object(obj, "actor", "actor")
    if found is None:
        raise InvalidField("actor", "required field is missing")
    return Actor(
        id=_text(found, "id", "actor.id", required=True) or "",
        type=_text(found, "type", "actor.type"),
        alternateId=_text(found, "alternateId", "actor.alternateId"),
        displayName=_text(found, "displayName", "actor.displayName"),
    )


def _targets(obj: _JSON) -> tuple[Target, ...]:
    found = _get(obj, "target")
    if found is None:
        return ()
    if type(found) is not list:
        raise InvalidField("target", f"expected a list, got {type(found).__name__}")
    targets = []
    for n, item in enumerate(found):
        path = f"target[{n}]"
        if type(item) is not dict:
            raise InvalidField(path, f"expected an object, got {type(item).__name__}")
        targets.append(
            Target(
                id=_text(item, "id", path + ".id"),
                type=_text(item, "type", path + ".type"),
                alternateId=_text(item, "alternateId", path + ".alternateId"),
                displayName=_text(item, "displayName", path + ".displayName"),
            )
        )
    return tuple(targets)


def parse_log_event(obj: object) -> LogEvent:
    """The typed LogEvent of one JSON object; :class:`InvalidField` names what is wrong.

    Every event needs ``uuid``, ``published`` and ``eventType``; the rest is read (and
    checked) only for the types Vigile maps, so an oddity in a field Vigile never reads
    cannot refuse a file."""
    if type(obj) is not dict:
        raise InvalidField("json", f"expected a JSON object, got {type(obj).__name__}")
    if _get(obj, "eventType") is None and _get(obj, "uuid") is None:
        raise InvalidField("eventType", "not an Okta LogEvent (no eventType nor uuid)")
    uuid = _text(obj, "uuid", "uuid", required=True) or ""
    published = _published(obj)
    event_type = _text(obj, "eventType", "eventType", required=True) or ""
    if not _is_read(event_type):
        return LogEvent(uuid=uuid, published=published, eventType=event_type)
    outcome = _object(obj, "outcome", "outcome") or {}
    context = _object(obj, "authenticationContext", "authenticationContext") or {}
    debug = _object(obj, "debugContext", "debugContext") or {}
    data = _object(debug, "debugData", "debugContext.debugData") or {}
    device = _object(obj, "device", "device") or {}
    return LogEvent(  # built once: dataclasses.replace costs as much again
        uuid=uuid,
        published=published,
        eventType=event_type,
        actor=_actor(obj),
        outcome_result=_text(outcome, "result", "outcome.result"),
        outcome_reason=_text(outcome, "reason", "outcome.reason"),
        client=_client(obj),
        externalSessionId=_text(
            context, "externalSessionId", "authenticationContext.externalSessionId"
        ),
        credentialType=_text(context, "credentialType", "authenticationContext.credentialType"),
        device_id=_text(device, "id", "device.id"),
        factor=_text(data, "factor", "debugContext.debugData.factor"),
        deviceFingerprint=_text(
            data, "deviceFingerprint", "debugContext.debugData.deviceFingerprint"
        ),
        target=_targets(obj),
    )


# -- the mapping -----------------------------------------------------------------------


def _is_signin(event_type: str) -> bool:
    return event_type in ("user.session.start", "policy.evaluate_sign_on") or event_type.startswith(
        "user.authentication."
    )


def _is_read(event_type: str) -> bool:
    return _is_signin(event_type) or event_type.startswith("user.session.impersonation.")


def _mfa(event: LogEvent) -> str | None:
    """Vigile's ``mfa`` when Okta names a factor Vigile has a word for; else none (the
    raw factor stays in ``extra``): a password-only record says nothing of a later MFA."""
    factor = (event.factor or "").upper()
    if "PUSH" in factor:
        return "push"
    if "WEBAUTHN" in factor or "FIDO" in factor:
        return "webauthn"
    if "OTP" in factor or event.credentialType == "OTP":
        return "totp"
    return None


def _extra(event: LogEvent) -> Mapping[str, Any]:
    geo = event.client.geographicalContext if event.client else None
    extra = {
        "source": SYSTEM,
        "okta_event_type": event.eventType,
        "okta_actor": event.actor.alternateId if event.actor else None,
        "okta_outcome_reason": event.outcome_reason,
        "okta_country": geo.country if geo else None,
        "okta_city": geo.city if geo else None,
        "okta_factor": event.factor,
        "okta_credential_type": event.credentialType,
    }
    return MappingProxyType({k: v for k, v in extra.items() if v is not None})


def _agent(event: LogEvent, identities: Identities) -> str | Unmapped:
    login = event.actor.alternateId if event.actor else None
    if not login:
        return Unmapped(reason="actor without alternateId", example=event.uuid)
    agent = identities.agent(SYSTEM, login.lower())
    if agent is None:
        return Unmapped(reason="Okta login not in the directory", example=login)
    return agent


def _signin(event: LogEvent, agent: str) -> MapResult:
    result = (event.outcome_result or "").upper()
    client = event.client or Client()
    if not client.ipAddress:
        return Unmapped(reason="sign-in without client.ipAddress", example=event.uuid)
    geo = client.geographicalContext or GeographicalContext()
    country = country_code(geo.country) if geo.country else None
    lost = (
        [Lost(reason="Okta country name not in ISO 3166: no country", example=geo.country)]
        if geo.country and country is None
        else []
    )
    agent_ua = client.userAgent.rawUserAgent if client.userAgent else None
    session = event.externalSessionId
    signin = SignIn(
        id=f"okta:{event.uuid}",
        time=event.published,
        agent=agent,
        session=f"okta:{session if session not in _SESSION_UNKNOWN else event.uuid}",
        outcome="success" if result in _SUCCESS else "failure",
        ip=client.ipAddress,
        country=country,
        lat=geo.lat if geo.lat is not None and geo.lon is not None else None,
        lon=geo.lon if geo.lat is not None and geo.lon is not None else None,
        device=event.device_id or event.deviceFingerprint,
        user_agent=agent_ua,
        mfa=_mfa(event),
        extra=_extra(event),
    )
    return storable([signin], what="sign-in", example=event.uuid, lost=lost)


def _impersonation(event: LogEvent, agent: str) -> MapResult:
    client = event.client or Client()
    details: dict[str, Any] = {
        "source": SYSTEM,
        "okta_event_type": event.eventType,
        "outcome": event.outcome_result,
        "ip": client.ipAddress,
        "targets": [t.alternateId or t.id for t in event.target if t.alternateId or t.id],
    }
    subject = details["targets"][0] if details["targets"] else None
    audit = AuditEvent(
        id=f"okta:{event.uuid}",
        time=event.published,
        action=f"okta.{event.eventType}",
        actor=agent,
        subject=subject,
        details=MappingProxyType({k: v for k, v in details.items() if v is not None}),
    )
    return Mapped(records=(audit,))


def map_log_event(event: LogEvent, identities: Identities) -> MapResult:
    """Vigile's records for one Okta LogEvent (pure)."""
    kind = event.eventType
    if kind.startswith("user.session.impersonation."):
        agent = _agent(event, identities)
        return agent if isinstance(agent, Unmapped) else _impersonation(event, agent)
    if not _is_signin(kind):
        return Skipped(event_type=kind)
    result = (event.outcome_result or "").upper()
    if result not in _SUCCESS and result not in _FAILURE:  # whatever the directory says
        return Skipped(event_type=f"{kind}:{result or 'no outcome'}")
    agent = _agent(event, identities)
    return agent if isinstance(agent, Unmapped) else _signin(event, agent)


@dataclass(frozen=True, slots=True)
class OktaSource:
    """Okta's System Log as a :class:`vigile.sources.base.Source`."""

    name: str = "okta"

    def parse(self, obj: object) -> LogEvent:
        return parse_log_event(obj)

    def map(self, record: LogEvent, identities: Identities) -> MapResult:
        return map_log_event(record, identities)


OKTA = OktaSource()
