"""Microsoft Entra ID sign-in logs: Graph ``signIn`` objects, or the diagnostic-settings
export, one a line.

Two shapes are read, told apart by the record itself:

- a Microsoft Graph ``signIn`` (``GET /v1.0/auditLogs/signIns``, one object of ``value``
  a line): ``id``, ``createdDateTime``, ``userId``, ``status``, ``location``... at the top;
- a diagnostic-settings record (Azure Monitor: a storage account, an event hub, a SIEM):
  ``time``, ``category`` (``SignInLogs``, ``NonInteractiveUserSignInLogs``...),
  ``operationName`` ``Sign-in activity``, ``callerIpAddress``, ``correlationId``,
  ``resultType``, and the signIn's fields under ``properties``.

The typed record keeps the fields Vigile reads, spelled as Graph spells them. Top-level
keys are matched exactly or else in lower case (Panther stores the export's envelope
lower-cased). Times are RFC 3339, or ``YYYY-MM-DD HH:MM:SS[.fraction]`` without an
offset as such exports write them (Entra's times are UTC).

The mapping (docs/sources.md has the field-by-field table): a user's sign-in
(``SignInLogs``, ``NonInteractiveUserSignInLogs``, a Graph signIn) becomes a Vigile
sign-in; every other category (service principals, managed identities, audit logs) is
skipped, counted by category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import Any

from vigile.model import SignIn
from vigile.sources.base import Identities, InvalidField, Lost, MapResult, Skipped, Unmapped
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

__all__ = [
    "ENTRA",
    "GRAPH",
    "SIGNIN_CATEGORIES",
    "SYSTEM",
    "EntraSignIn",
    "EntraSource",
    "map_sign_in",
    "parse_sign_in",
]

#: The identity system of Entra's ids in the directory (``entra_id``: the object id).
SYSTEM = "entra"
#: The category given to a Graph signIn object (it has none of its own).
GRAPH = "signIn"
#: The diagnostic-settings categories of a user's sign-in.
SIGNIN_CATEGORIES = frozenset({"SignInLogs", "NonInteractiveUserSignInLogs"})
#: Vigile's ``mfa`` for an authentication method whose name holds the key (lower case).
#: Graph documents ``Password``, ``SMS``, ``Voice``, ``Authenticator App``, ``Software
#: OATH token``, ``Satisfied by token``, ``Previously satisfied``; ``Authenticator App``
#: may be a notification or a code, so it has no word here.
MFA_METHODS: tuple[tuple[str, str], ...] = (
    ("notification", "push"),
    ("fido", "webauthn"),
    ("passkey", "webauthn"),
    ("oath", "totp"),
)
_JSON = JSON
# Keys as the vendor spells them, or in lower case (Panther stores them so).
_get = partial(field, caseless=True)
_object = partial(object_field, caseless=True)
_text = partial(text_field, caseless=True)
_number = partial(number_field, caseless=True)
_ALPHA2 = re.compile(r"[A-Z]{2}")
_DIGITS = re.compile(r"-?\d+")


# -- the vendor's record ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SignInLocation:
    city: str | None = None
    state: str | None = None
    countryOrRegion: str | None = None  # noqa: N815 - Graph's spelling
    latitude: float | None = None  # geoCoordinates.latitude
    longitude: float | None = None  # geoCoordinates.longitude


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceDetail:
    deviceId: str | None = None  # noqa: N815
    displayName: str | None = None  # noqa: N815
    operatingSystem: str | None = None  # noqa: N815
    browser: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthenticationDetail:
    authenticationMethod: str | None = None  # noqa: N815
    succeeded: bool | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EntraSignIn:
    """One Entra sign-in, as much of it as Vigile reads. ``category`` is the export's
    (``SignInLogs``...) or :data:`GRAPH`; a record of another category holds only it."""

    category: str
    id: str = ""
    createdDateTime: datetime | None = None  # noqa: N815 - else the export's ``time``
    userId: str | None = None  # noqa: N815
    userPrincipalName: str | None = None  # noqa: N815
    appDisplayName: str | None = None  # noqa: N815
    ipAddress: str | None = None  # noqa: N815 - else the export's ``callerIpAddress``
    clientAppUsed: str | None = None  # noqa: N815
    correlationId: str | None = None  # noqa: N815
    sessionId: str | None = None  # noqa: N815
    userAgent: str | None = None  # noqa: N815
    errorCode: int | None = None  # noqa: N815 - status.errorCode, else ``resultType``
    failureReason: str | None = None  # noqa: N815 - status.failureReason
    location: SignInLocation | None = None
    deviceDetail: DeviceDetail | None = None  # noqa: N815
    authenticationDetails: tuple[AuthenticationDetail, ...] = ()  # noqa: N815
    mfaAuthMethod: str | None = None  # noqa: N815 - mfaDetail.authMethod
    conditionalAccessStatus: str | None = None  # noqa: N815
    riskLevelDuringSignIn: str | None = None  # noqa: N815


# -- reading one JSON object -----------------------------------------------------------


def _code(obj: _JSON, key: str, path: str, *, loose: bool = False) -> int | None:
    """An error code: an integer; ``loose`` (the export's ``resultType``), also a string
    of digits, any other string being no code (Panther's fixtures write "Success")."""
    value = _get(obj, key)
    if value is None:
        return None
    if type(value) is int:
        return value
    if loose and type(value) is str:
        return int(value) if _DIGITS.fullmatch(value) else None
    raise InvalidField(path, f"expected an integer, got {type(value).__name__}")


def _time(obj: _JSON, key: str, path: str) -> datetime | None:
    text = _text(obj, key, path)
    return None if text is None else vendor_time(text, path)


def _location(obj: _JSON, at: str) -> SignInLocation | None:
    found = _object(obj, "location", at + "location")
    if found is None:
        return None
    path = at + "location."
    where = _object(found, "geoCoordinates", path + "geoCoordinates") or {}
    return SignInLocation(
        city=_text(found, "city", path + "city"),
        state=_text(found, "state", path + "state"),
        countryOrRegion=_text(found, "countryOrRegion", path + "countryOrRegion"),
        latitude=_number(where, "latitude", path + "geoCoordinates.latitude", 90),
        longitude=_number(where, "longitude", path + "geoCoordinates.longitude", 180),
    )


def _device(obj: _JSON, at: str) -> DeviceDetail | None:
    found = _object(obj, "deviceDetail", at + "deviceDetail")
    if found is None:
        return None
    path = at + "deviceDetail."
    return DeviceDetail(
        deviceId=_text(found, "deviceId", path + "deviceId"),
        displayName=_text(found, "displayName", path + "displayName"),
        operatingSystem=_text(found, "operatingSystem", path + "operatingSystem"),
        browser=_text(found, "browser", path + "browser"),
    )


def _steps(obj: _JSON, at: str) -> tuple[AuthenticationDetail, ...]:
    found = _get(obj, "authenticationDetails")
    if found is None:
        return ()
    if type(found) is not list:
        raise InvalidField(
            at + "authenticationDetails", f"expected a list, got {type(found).__name__}"
        )
    steps = []
    for n, item in enumerate(found):
        path = f"{at}authenticationDetails[{n}]"
        if type(item) is not dict:
            raise InvalidField(path, f"expected an object, got {type(item).__name__}")
        succeeded = item.get("succeeded")
        if succeeded is not None and type(succeeded) is not bool:
            raise InvalidField(path + ".succeeded", "expected true or false")
        steps.append(
            AuthenticationDetail(
                authenticationMethod=_text(
                    item, "authenticationMethod", path + ".authenticationMethod"
                ),
                succeeded=succeeded,
            )
        )
    return tuple(steps)


def _sign_in(category: str, fields: _JSON, envelope: _JSON, at: str) -> EntraSignIn:
    """The signIn's ``fields`` (the object, or the export's ``properties``), with the
    export's ``envelope`` (empty for Graph) supplying what the signIn lacks."""
    status = _object(fields, "status", at + "status") or {}
    mfa = _object(fields, "mfaDetail", at + "mfaDetail") or {}
    when = _time(fields, "createdDateTime", at + "createdDateTime") or _time(
        envelope, "time", "time"
    )
    if when is None:
        raise InvalidField(at + "createdDateTime", "required field is missing")
    code = _code(status, "errorCode", at + "status.errorCode")
    return EntraSignIn(
        category=category,
        id=_text(fields, "id", at + "id", required=True) or "",
        createdDateTime=when,
        userId=_text(fields, "userId", at + "userId"),
        userPrincipalName=_text(fields, "userPrincipalName", at + "userPrincipalName"),
        appDisplayName=_text(fields, "appDisplayName", at + "appDisplayName"),
        ipAddress=_text(fields, "ipAddress", at + "ipAddress")
        or _text(envelope, "callerIpAddress", "callerIpAddress"),
        clientAppUsed=_text(fields, "clientAppUsed", at + "clientAppUsed"),
        correlationId=_text(fields, "correlationId", at + "correlationId")
        or _text(envelope, "correlationId", "correlationId"),
        sessionId=_text(fields, "sessionId", at + "sessionId"),
        userAgent=_text(fields, "userAgent", at + "userAgent"),
        errorCode=code
        if code is not None
        else _code(envelope, "resultType", "resultType", loose=True),
        failureReason=_text(status, "failureReason", at + "status.failureReason"),
        location=_location(fields, at),
        deviceDetail=_device(fields, at),
        authenticationDetails=_steps(fields, at),
        mfaAuthMethod=_text(mfa, "authMethod", at + "mfaDetail.authMethod"),
        conditionalAccessStatus=_text(
            fields, "conditionalAccessStatus", at + "conditionalAccessStatus"
        ),
        riskLevelDuringSignIn=_text(fields, "riskLevelDuringSignIn", at + "riskLevelDuringSignIn"),
    )


def parse_sign_in(obj: object) -> EntraSignIn:
    """The typed sign-in of one JSON object; :class:`InvalidField` names what is wrong.

    An export record needs ``category``; only a user's sign-in is read further (an
    oddity in a record Vigile skips cannot refuse a file), and it needs ``properties``
    with ``id`` and a time. A Graph signIn needs ``id`` and ``createdDateTime``."""
    if type(obj) is not dict:
        raise InvalidField("json", f"expected a JSON object, got {type(obj).__name__}")
    if _get(obj, "category") is not None or _get(obj, "properties") is not None:
        category = _text(obj, "category", "category", required=True) or ""
        if category not in SIGNIN_CATEGORIES:
            return EntraSignIn(category=category)
        fields = _object(obj, "properties", "properties")
        if fields is None:
            raise InvalidField("properties", "required field is missing")
        return _sign_in(category, fields, obj, "properties.")
    if _get(obj, "createdDateTime") is None and _get(obj, "id") is None:
        raise InvalidField("category", "not an Entra sign-in (no category nor createdDateTime)")
    return _sign_in(GRAPH, obj, {}, "")


# -- the mapping -----------------------------------------------------------------------


def _mfa_of(method: str | None) -> str | None:
    name = (method or "").lower()
    return next((mfa for key, mfa in MFA_METHODS if key in name), None)


def _mfa(sign_in: EntraSignIn) -> str | None:
    """Vigile's ``mfa``: the first succeeded authentication step (else ``mfaDetail``)
    whose method Vigile has a word for; otherwise none (a password alone says nothing
    of a second factor satisfied earlier, so it is not ``none``)."""
    for step in sign_in.authenticationDetails:
        found = _mfa_of(step.authenticationMethod) if step.succeeded is not False else None
        if found is not None:
            return found
    return _mfa_of(sign_in.mfaAuthMethod)


def _extra(sign_in: EntraSignIn) -> Mapping[str, Any]:
    where = sign_in.location or SignInLocation()
    device = sign_in.deviceDetail or DeviceDetail()
    methods = [s.authenticationMethod for s in sign_in.authenticationDetails]
    extra = {
        "source": SYSTEM,
        "entra_category": sign_in.category,
        "entra_user": sign_in.userPrincipalName,
        "entra_app": sign_in.appDisplayName,
        "entra_client_app": sign_in.clientAppUsed,
        "entra_error_code": sign_in.errorCode or None,
        "entra_failure_reason": sign_in.failureReason if sign_in.errorCode else None,
        "entra_country": where.countryOrRegion,
        "entra_state": where.state,
        "entra_city": where.city,
        "entra_device_name": device.displayName or None,
        "entra_os": device.operatingSystem,
        "entra_browser": device.browser,
        "entra_auth_methods": [m for m in methods if m] or None,
        "entra_mfa_method": sign_in.mfaAuthMethod,
        "entra_conditional_access": sign_in.conditionalAccessStatus,
        "entra_risk_level": sign_in.riskLevelDuringSignIn,
    }
    return MappingProxyType({k: v for k, v in extra.items() if v is not None})


def _agent(sign_in: EntraSignIn, identities: Identities) -> str | Unmapped:
    if not sign_in.userId:
        return Unmapped(reason="sign-in without userId", example=sign_in.id)
    agent = identities.agent(SYSTEM, sign_in.userId.lower())
    if agent is None:
        upn = f" ({sign_in.userPrincipalName})" if sign_in.userPrincipalName else ""
        return Unmapped(reason="Entra user not in the directory", example=sign_in.userId + upn)
    return agent


def map_sign_in(sign_in: EntraSignIn, identities: Identities) -> MapResult:
    """Vigile's records for one Entra sign-in (pure)."""
    if sign_in.category not in SIGNIN_CATEGORIES and sign_in.category != GRAPH:
        return Skipped(event_type=sign_in.category)
    if sign_in.errorCode is None:  # no status.errorCode nor numeric resultType
        return Skipped(event_type=f"{sign_in.category}:no status")
    agent = _agent(sign_in, identities)
    if isinstance(agent, Unmapped):
        return agent
    if not sign_in.ipAddress:
        return Unmapped(reason="sign-in without ipAddress", example=sign_in.id)
    where = sign_in.location or SignInLocation()
    placed = where.latitude is not None and where.longitude is not None
    named = where.countryOrRegion
    country = named if named and _ALPHA2.fullmatch(named) else country_code(named or "")
    lost = (
        [Lost(reason="Entra countryOrRegion not in ISO 3166: no country", example=named)]
        if named and country is None
        else []
    )
    device = sign_in.deviceDetail.deviceId if sign_in.deviceDetail else None
    session = sign_in.sessionId or sign_in.correlationId or sign_in.id
    assert sign_in.createdDateTime is not None  # parse requires it of a sign-in
    signin = SignIn(
        id=f"entra:{sign_in.id}",
        time=sign_in.createdDateTime,
        agent=agent,
        session=f"entra:{session}",
        outcome="success" if sign_in.errorCode == 0 else "failure",
        ip=sign_in.ipAddress,
        country=country,
        lat=where.latitude if placed else None,
        lon=where.longitude if placed else None,
        device=device or None,
        user_agent=sign_in.userAgent or None,
        mfa=_mfa(sign_in),
        extra=_extra(sign_in),
    )
    return storable([signin], what="sign-in", example=sign_in.id, lost=lost)


@dataclass(frozen=True, slots=True)
class EntraSource:
    """Entra ID's sign-in logs as a :class:`vigile.sources.base.Source`."""

    name: str = "entra"

    def parse(self, obj: object) -> EntraSignIn:
        return parse_sign_in(obj)

    def map(self, record: EntraSignIn, identities: Identities) -> MapResult:
        return map_sign_in(record, identities)


ENTRA = EntraSource()
