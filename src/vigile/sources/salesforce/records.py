"""Salesforce's objects as Vigile reads them: the typed records and their parsing.

An object is an Event Log File row (``EVENT_TYPE``), a Real-Time Event Monitoring storage
object or a Case/CaseHistory record (``attributes.type``); :func:`parse_salesforce` turns
one into the typed record of what Vigile reads, spelled as Salesforce spells it, raising
:class:`InvalidField` naming the column or field. Values are text as in the CSV (numbers
as JSON copies write them are read as their text); an empty cell is an absent value; ids
are kept as their first 15 characters (:func:`salesforce_id`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from vigile.sources.base import (
    InvalidField,
)
from vigile.sources.fields import JSON, vendor_time

__all__ = [
    "ACCOUNT_PREFIX",
    "ACCOUNT_SYSTEM",
    "CASE_PREFIX",
    "CONTACT_PREFIX",
    "CONTACT_SYSTEM",
    "CSV_COLUMNS",
    "ELF_TYPES",
    "ID_PATTERN",
    "QUEUE_PREFIX",
    "SYSTEM",
    "TIMES",
    "USER_PREFIX",
    "USER_SYSTEM",
    "VIEW_FIELDS",
    "CaseHistoryRecord",
    "CaseRecord",
    "Envelope",
    "Export",
    "Login",
    "LoginAs",
    "NotRead",
    "RecordView",
    "SalesforceRecord",
    "Search",
    "parse_salesforce",
    "salesforce_id",
]

#: Identity systems of Salesforce ids in the directory (``salesforce_id``): agents' User
#: ids, customers' Account ids, contacts' Contact ids, accounts' (customers' logins) User ids.
SYSTEM = "salesforce"
ACCOUNT_SYSTEM = "salesforce_account"
CONTACT_SYSTEM = "salesforce_contact"
USER_SYSTEM = "salesforce_user"
#: The columns every Event Log File's header must have (one of the two times, too).
CSV_COLUMNS = ("EVENT_TYPE", "REQUEST_ID")
TIMES = ("TIMESTAMP_DERIVED", "TIMESTAMP")

#: Event Log File types read; real-time storage objects read; records read.
_ELF_VIEWS = frozenset({"LightningPageView", "URI", "Console", "RestApi"})
_ELF_EXPORTS = frozenset({"Report", "ReportExport", "BulkApi"})
_COUNTED = frozenset({"Logout", "LightningInteraction"})
ELF_TYPES = frozenset({"Login", "LoginAs", "Search", *_ELF_VIEWS, *_ELF_EXPORTS, *_COUNTED})
_EVENT_TYPES = frozenset(
    {"LoginEvent", "LoginAsEvent", "LightningUriEvent", "ReportEvent", "ApiEvent"}
)
#: Key prefixes of the records Vigile places (the first three characters of an id).
ACCOUNT_PREFIX, CONTACT_PREFIX, CASE_PREFIX, USER_PREFIX = "001", "003", "500", "005"
QUEUE_PREFIX = "00G"
_OUTSIDE = "Salesforce.com IP"  # ELF's word for a request from Salesforce's own servers
_SOQL_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_ELF_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?")
_REST_RECORD = re.compile(r"/services/data/v[\d.]+/sobjects/(\w+)/([A-Za-z0-9]{15,18})/?$")
ID_PATTERN = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_CASE_PAGE = re.compile(r"^(?:https?://[^/]+)?/(500[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)(?:[/?#]|$)")

VIEW_FIELDS: Mapping[str, tuple[str, ...]] = {
    ACCOUNT_PREFIX: ("customer.name", "customer.country"),
    CONTACT_PREFIX: ("contact.name", "contact.email", "contact.phone", "contact.role"),
    CASE_PREFIX: ("customer.name", "contact.name", "contact.email", "contact.phone"),
    USER_PREFIX: ("account.username", "account.email"),
}


def salesforce_id(text: str) -> str:
    """An id as Vigile compares it: the first 15 characters of an 18-character id."""
    return text[:15] if len(text) == 18 and text.isalnum() else text


# -- the vendor's records --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Envelope:
    """What every event says: its type, id, time, user, session and address."""

    type: str  # EVENT_TYPE or attributes.type
    id: str  # ``<EVENT_TYPE>:<REQUEST_ID>`` (ELF) or ``EventIdentifier``
    time: datetime
    user: str | None = None  # USER_ID / UserId, 15 characters
    user_name: str | None = None
    session: str | None = None  # LOGIN_KEY, else SESSION_KEY (and camel-cased)
    ip: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Login:
    """``Login`` (ELF) or ``LoginEvent``."""

    event: Envelope
    success: bool
    status: str
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    user_agent: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginAs:
    """``LoginAs`` (ELF: ``DELEGATED_USER_ID`` impersonates ``USER_ID``) or
    ``LoginAsEvent`` (the admin only as ``DelegatedUsername``)."""

    event: Envelope
    admin: str | None
    admin_name: str | None = None
    uri: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordView:
    """A page or API read of one record; ``record`` is ``None`` when the row names none
    (``skip`` then says how it is counted)."""

    event: Envelope
    record: str | None
    label: str  # how a record Vigile does not place is counted (the entity's name)
    previous_case: str | None = None
    skip: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Search:
    """``Search`` (ELF)."""

    event: Envelope
    query: str | None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Export:
    """A report run or export, a Bulk API job or an API query; ``records``: the record
    ids its ``Records`` names (real-time events only)."""

    event: Envelope
    records: tuple[str, ...] = ()
    object: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseRecord:
    """A Case sObject."""

    id: str
    created: datetime
    account: str | None = None
    owner: str | None = None
    status: str | None = None
    closed: bool = False
    closed_date: datetime | None = None
    modified: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseHistoryRecord:
    """A CaseHistory sObject: one change of one field of a Case."""

    id: str
    case: str
    created: datetime
    field: str
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class NotRead:
    """A type Vigile counts but does not read."""

    kind: str


SalesforceRecord = (
    Login | LoginAs | RecordView | Search | Export | CaseRecord | CaseHistoryRecord | NotRead
)


# -- reading one object ----------------------------------------------------------------


def _text(obj: JSON, key: str, *, required: bool = False) -> str | None:
    """A value as text; an empty one (a CSV's empty cell) is absent. Numbers are read as
    their text (ELF's JSON copies write some columns as numbers)."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise InvalidField(key, "required field is missing")
        return None
    if type(value) in (int, float) and type(value) is not bool:
        return str(value)
    if type(value) is not str:
        raise InvalidField(key, f"expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidField(key, "a string must not hold NUL")
    return value


def _id(obj: JSON, key: str, *, required: bool = False) -> str | None:
    value = _text(obj, key, required=required)
    if value is None:
        return None
    if not value.isalnum() or not value.isascii():
        raise InvalidField(key, f"not a Salesforce id: {value!r}")
    return salesforce_id(value)


def _time(text: str, key: str) -> datetime:
    """``TIMESTAMP`` (``20130715233322.670``, GMT), RFC 3339 (``+0000`` as SOQL writes
    it too), or ``YYYY-MM-DD HH:MM:SS.fff`` (UTC, as SIEM copies write it)."""
    stamp = _ELF_STAMP.fullmatch(text)
    if stamp is not None:
        *parts, fraction = stamp.groups()
        try:
            year, month, day, hour, minute, second = (int(p) for p in parts)
            micros = int((fraction or "").ljust(6, "0"))
            return datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
        except ValueError as exc:
            raise InvalidField(key, f"not a time: {text!r} ({exc})") from None
    return vendor_time(_SOQL_OFFSET.sub(r"\1:\2", text), key)


def _required_time(obj: JSON, keys: Sequence[str]) -> datetime:
    for key in keys:
        text = _text(obj, key)
        if text is not None:
            return _time(text, key)
    raise InvalidField(keys[0], "required field is missing")


def _ip(value: str | None) -> str | None:
    return None if value is None or value == _OUTSIDE else value


def _number(obj: JSON, key: str, bound: float) -> float | None:
    text = _text(obj, key)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidField(key, f"expected a number, got {text!r}") from None
    if not abs(number) <= bound:
        raise InvalidField(key, f"must be within [-{bound:g}, {bound:g}], got {text!r}")
    return number


def _kept(obj: JSON, keys: Mapping[str, str]) -> dict[str, str]:
    """The vendor's values Vigile keeps in ``extra``: ``{vendor key: extra key}``."""
    found = {name: _text(obj, key) for key, name in keys.items()}
    return {k: v for k, v in found.items() if v is not None}


def _elf_envelope(obj: JSON, kind: str) -> Envelope:
    request = _text(obj, "REQUEST_ID", required=True) or ""
    ip = _text(obj, "SOURCE_IP") if kind == "Login" else None
    return Envelope(
        type=kind,
        id=f"{kind}:{request}",
        time=_required_time(obj, TIMES),
        user=_id(obj, "USER_ID"),
        user_name=_text(obj, "USER_NAME"),
        session=_text(obj, "LOGIN_KEY") or _text(obj, "SESSION_KEY"),
        ip=_ip(ip or _text(obj, "CLIENT_IP")),
    )


def _event_envelope(obj: JSON, kind: str) -> Envelope:
    return Envelope(
        type=kind,
        id=_text(obj, "EventIdentifier", required=True) or "",
        time=_required_time(obj, ("EventDate",)),
        user=_id(obj, "UserId"),
        user_name=_text(obj, "Username"),
        session=_text(obj, "LoginKey") or _text(obj, "SessionKey"),
        ip=_ip(_text(obj, "SourceIp")),
    )


def _elf_login(obj: JSON, event: Envelope) -> Login:
    status = _text(obj, "LOGIN_STATUS", required=True) or ""
    extra = _kept(
        obj,
        {
            "LOGIN_STATUS": "salesforce_login_status",
            "LOGIN_TYPE": "salesforce_login_type",
            "API_TYPE": "salesforce_api_type",
            "TLS_PROTOCOL": "salesforce_tls",
            "AUTHENTICATION_METHOD_REFERENCE": "salesforce_amr",
        },
    )
    return Login(
        event=event,
        success=status == "LOGIN_NO_ERROR",
        status=status,
        user_agent=_text(obj, "BROWSER_TYPE"),
        extra=extra,
    )


def _login_event(obj: JSON, event: Envelope) -> Login:
    status = _text(obj, "Status", required=True) or ""
    country = _text(obj, "CountryIso")
    lat = _number(obj, "LoginLatitude", 90)
    lon = _number(obj, "LoginLongitude", 180)
    extra = _kept(
        obj,
        {
            "Status": "salesforce_status",
            "LoginType": "salesforce_login_type",
            "Application": "salesforce_application",
            "Browser": "salesforce_browser",
            "Country": "salesforce_country",
            "City": "salesforce_city",
            "AuthMethodReference": "salesforce_amr",
        },
    )
    return Login(
        event=event,
        success=status == "Success",
        status=status,
        country=country if country and len(country) == 2 and country.isupper() else None,
        lat=lat if lat is not None and lon is not None else None,
        lon=lon if lat is not None and lon is not None else None,
        extra=extra,
    )


def _page_view(obj: JSON, event: Envelope) -> RecordView:
    record = _id(obj, "PAGE_ENTITY_ID")
    previous = _id(obj, "PREVPAGE_ENTITY_ID")
    previous_type = _text(obj, "PREVPAGE_ENTITY_TYPE")
    extra = _kept(
        obj,
        {
            "PAGE_URL": "salesforce_page_url",
            "APP_NAME": "salesforce_app",
            "PREVPAGE_ENTITY_TYPE": "salesforce_prev_entity",
        },
    )
    return RecordView(
        event=event,
        record=record,
        label=_text(obj, "PAGE_ENTITY_TYPE") or "",
        previous_case=previous if previous_type == "Case" else None,
        skip=None if record else "LightningPageView:no record",
        extra=extra,
    )


def _uri_event(obj: JSON, event: Envelope) -> RecordView:
    operation = _text(obj, "Operation") or "no operation"
    record = _id(obj, "RecordId")
    skip = None
    if operation != "Read":
        skip = f"LightningUriEvent:{operation}"
    elif record is None:
        skip = "LightningUriEvent:no record"
    return RecordView(
        event=event,
        record=record,
        label=_text(obj, "QueriedEntities") or "",
        skip=skip,
        extra=_kept(obj, {"PageUrl": "salesforce_page_url", "AppName": "salesforce_app"}),
    )


def _uri(obj: JSON, event: Envelope) -> RecordView:
    record = _id(obj, "URI_ID_DERIVED")
    referrer = _text(obj, "REFERRER_URI")
    case = _CASE_PAGE.match(referrer) if referrer else None
    return RecordView(
        event=event,
        record=record,
        label="",
        previous_case=salesforce_id(case.group(1)) if case else None,
        skip=None if record else "URI:no record",
        extra=_kept(obj, {"URI": "salesforce_uri", "REFERRER_URI": "salesforce_referrer"}),
    )


def _console(obj: JSON, event: Envelope) -> RecordView:
    record = _id(obj, "RECORD_ID")
    return RecordView(
        event=event,
        record=record,
        label="",
        skip=None if record else "Console:no record",
        extra=_kept(obj, {"COMPONENT_NAME": "salesforce_component"}),
    )


def _rest(obj: JSON, event: Envelope) -> RecordView:
    method = (_text(obj, "METHOD") or "").upper()
    status = _text(obj, "STATUS_CODE")
    uri = _text(obj, "URI") or ""
    match = _REST_RECORD.search(uri.split("?", 1)[0])
    skip = None
    if method != "GET":
        skip = f"RestApi:{method or 'no method'}"
    elif status is not None and not status.startswith("2"):
        skip = f"RestApi:status {status}"
    elif match is None:
        skip = "RestApi:no record"
    return RecordView(
        event=event,
        record=salesforce_id(match.group(2)) if match else None,
        label=match.group(1) if match else "",
        skip=skip,
        extra=_kept(obj, {"URI": "salesforce_uri", "ENTITY_NAME": "salesforce_entity"}),
    )


def _ids_in(value: object) -> Iterator[str]:
    """Every Salesforce id of a record Vigile places, anywhere in a ``Records`` value."""
    if isinstance(value, str):
        if ID_PATTERN.fullmatch(value) and value[:3] in VIEW_FIELDS:
            yield salesforce_id(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item)


def _records(obj: JSON) -> tuple[str, ...]:
    value = obj.get("Records")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidField("Records", "not JSON") from None
    return tuple(dict.fromkeys(_ids_in(value)))


def _export_event(obj: JSON, event: Envelope) -> Export:
    report = _text(obj, "ReportId")
    extra = _kept(
        obj,
        {
            "Operation": "salesforce_operation",
            "RowsProcessed": "salesforce_rows",
            "QueriedEntities": "salesforce_entities",
            "Query": "salesforce_query",
        },
    )
    return Export(
        event=event,
        records=_records(obj),
        object=report or _text(obj, "QueriedEntities"),
        extra=extra,
    )


def _elf_export(obj: JSON, event: Envelope) -> Export:
    what = _text(obj, "REPORT_ID") or _text(obj, "ENTITY_TYPE") or _text(obj, "JOB_ID")
    return Export(event=event, object=what)


def _login_as(obj: JSON, event: Envelope) -> LoginAs:
    return LoginAs(
        event=event,
        admin=_id(obj, "DELEGATED_USER_ID", required=True),
        admin_name=_text(obj, "DELEGATED_USER_NAME"),
        uri=_text(obj, "URI"),
    )


def _search(obj: JSON, event: Envelope) -> Search:
    extra = _kept(
        obj,
        {
            "NUM_RESULTS": "salesforce_results",
            "PREFIXES_SEARCHED": "salesforce_prefixes",
            "QUERY_ID": "salesforce_query_id",
        },
    )
    return Search(event=event, query=_text(obj, "SEARCH_QUERY"), extra=extra)


_ELF_PARSERS: Mapping[str, Callable[[JSON, Envelope], SalesforceRecord]] = {
    "Login": _elf_login,
    "LoginAs": _login_as,
    "LightningPageView": _page_view,
    "URI": _uri,
    "Console": _console,
    "RestApi": _rest,
    "Search": _search,
    **dict.fromkeys(_ELF_EXPORTS, _elf_export),
}


def _elf(obj: JSON, kind: str) -> SalesforceRecord:
    parser = _ELF_PARSERS.get(kind)
    if parser is None:
        return NotRead(kind=kind)
    return parser(obj, _elf_envelope(obj, kind))


def _real_time(obj: JSON, kind: str) -> SalesforceRecord:
    event = _event_envelope(obj, kind)
    if kind == "LoginEvent":
        return _login_event(obj, event)
    if kind == "LoginAsEvent":
        return LoginAs(event=event, admin=None, admin_name=_text(obj, "DelegatedUsername"))
    if kind == "LightningUriEvent":
        return _uri_event(obj, event)
    return _export_event(obj, event)


def _bool(obj: JSON, key: str) -> bool:
    value = obj.get(key)
    if value is None or value == "":
        return False
    if type(value) is bool:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidField(key, f"expected true or false, got {value!r}")


def _optional_time(obj: JSON, key: str) -> datetime | None:
    text = _text(obj, key)
    return _time(text, key) if text is not None else None


def _case(obj: JSON) -> CaseRecord:
    return CaseRecord(
        id=_id(obj, "Id", required=True) or "",
        created=_required_time(obj, ("CreatedDate",)),
        account=_id(obj, "AccountId"),
        owner=_id(obj, "OwnerId"),
        status=_text(obj, "Status"),
        closed=_bool(obj, "IsClosed"),
        closed_date=_optional_time(obj, "ClosedDate"),
        modified=_optional_time(obj, "LastModifiedDate"),
    )


def _case_history(obj: JSON) -> CaseHistoryRecord:
    return CaseHistoryRecord(
        id=_id(obj, "Id", required=True) or "",
        case=_id(obj, "CaseId", required=True) or "",
        created=_required_time(obj, ("CreatedDate",)),
        field=_text(obj, "Field", required=True) or "",
        old=_text(obj, "OldValue"),
        new=_text(obj, "NewValue"),
    )


def parse_salesforce(obj: object) -> SalesforceRecord:
    """The typed record of one ELF row or sObject; :class:`InvalidField` names what is
    wrong."""
    if type(obj) is not dict:
        raise InvalidField("json", f"expected a JSON object, got {type(obj).__name__}")
    kind = _text(obj, "EVENT_TYPE")
    if kind is not None:
        return _elf(obj, kind)
    attributes = obj.get("attributes")
    sobject = attributes.get("type") if type(attributes) is dict else None
    if type(sobject) is not str or not sobject:
        raise InvalidField(
            "EVENT_TYPE",
            "not a Salesforce Event Log File row nor sObject (no EVENT_TYPE, no attributes.type)",
        )
    if sobject == "Case":
        return _case(obj)
    if sobject == "CaseHistory":
        return _case_history(obj)
    if sobject in _EVENT_TYPES:
        return _real_time(obj, sobject)
    return NotRead(kind=sobject)
