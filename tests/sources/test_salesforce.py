"""Salesforce's adapter: golden records from Salesforce's documentation, the real samples,
random objects, bad input.

The golden records are written by hand from Salesforce's references, not from the
adapter: the EventLogFile event types (``Login``: ``LOGIN_STATUS`` ``LOGIN_NO_ERROR`` or an
error code, ``SOURCE_IP``, ``BROWSER_TYPE``, ``LOGIN_KEY``; ``LoginAs``:
``DELEGATED_USER_ID`` is the user doing the impersonation; ``LightningPageView``:
``PAGE_ENTITY_ID``/``TYPE``, ``PREVPAGE_ENTITY_ID``/``TYPE``; ``URI``: ``URI_ID_DERIVED``,
``REFERRER_URI``; ``Search``: ``SEARCH_QUERY``, ``NUM_RESULTS``, ``PREFIXES_SEARCHED``,
``QUERY_ID``; every type: ``REQUEST_ID``, ``TIMESTAMP`` ``20130715233322.670`` and
``TIMESTAMP_DERIVED`` ``2015-07-27T11:32:59.555Z``, ``USER_ID``, ``CLIENT_IP``), the
real-time events (``EventIdentifier``, ``EventDate``, ``UserId``, ``SourceIp``,
``LoginKey``; ``LoginEvent``: ``Status``, ``CountryIso``, ``LoginLatitude``,
``LoginLongitude``; ``LightningUriEvent``: ``Operation``, ``RecordId``,
``QueriedEntities``; ``ApiEvent``: ``Records``, ``QueriedEntities``, ``Query``), the
Case and CaseHistory objects, and their documented example values (``3nWgxWbDKWWDIk0FKfF5DV``,
``GeJCsym5eyvtEK2I``, ``96.43.144.26``, ``00590000000I1SNIA0``,
``0a4779b0-0da1-4619-a373-0a36991dff90``); and docs/sources.md's mapping tables.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigile.model import Access, AuditEvent, SignIn, TicketEvent
from vigile.model.vocabulary import Action, Reason, TicketStep
from vigile.sources import Identities, Mapped, Skipped, Unmapped, source_named
from vigile.sources.base import ACCOUNT, AGENT, CONTACT, CUSTOMER, InvalidField
from vigile.sources.salesforce import SALESFORCE

SAMPLES = Path(__file__).parent / "salesforce"
USER = "00590000000I1SNIA0"  # Salesforce's documented USER_ID example (18 characters)
CASE = "500D000000CaseA"
CONTACT_ID = "003D000000QYVZ5"
ACCOUNT_ID = "001D000000AbCdE"
PORTAL_USER = "005D000000PortL"
DIRECTORY = Identities(
    ids={
        ("salesforce", "00590000000I1SN"): (AGENT, "a-1"),
        ("salesforce", "0054x000001L78a"): (AGENT, "a-2"),
        ("salesforce_account", ACCOUNT_ID): (CUSTOMER, "c-1"),
        ("salesforce_contact", CONTACT_ID): (CONTACT, "k-1"),
        ("salesforce_user", PORTAL_USER): (ACCOUNT, "u-1"),
        ("salesforce_account", "001D000000Other"): (CUSTOMER, "c-2"),
    },
    owners={(CONTACT, "k-1"): "c-1", (ACCOUNT, "u-1"): "c-1"},
    tickets={f"salesforce:{CASE}": "c-2"},
)
T0 = datetime(2015, 7, 27, 11, 32, 59, 555000, tzinfo=UTC)
T_EVENT = datetime(2020, 1, 20, 19, 12, 26, 965000, tzinfo=UTC)
REQUEST = "3nWgxWbDKWWDIk0FKfF5DV"
LOGIN_KEY = "GeJCsym5eyvtEK2I"
EVENT_ID = "0a4779b0-0da1-4619-a373-0a36991dff90"
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36"

ELF: dict[str, Any] = {
    "REQUEST_ID": REQUEST,
    "TIMESTAMP": "20130715233322.670",
    "TIMESTAMP_DERIVED": "2015-07-27T11:32:59.555Z",
    "USER_ID": USER[:15],
    "USER_ID_DERIVED": USER,
    "ORGANIZATION_ID": "00D000000000123",
    "LOGIN_KEY": LOGIN_KEY,
    "SESSION_KEY": "",
    "CLIENT_IP": "96.43.144.26",
}
DOCS_LOGIN = {
    **ELF,
    "EVENT_TYPE": "Login",
    "LOGIN_STATUS": "LOGIN_NO_ERROR",
    "SOURCE_IP": "96.43.144.27",
    "BROWSER_TYPE": UA,
    "USER_NAME": "ann@example.com",
    "TLS_PROTOCOL": "TLSv1.2",
}
DOCS_PAGE_FROM_CASE = {
    **ELF,
    "EVENT_TYPE": "LightningPageView",
    "PAGE_ENTITY_TYPE": "Contact",
    "PAGE_ENTITY_ID": CONTACT_ID + "IAP",  # the 18-character form
    "PREVPAGE_ENTITY_TYPE": "Case",
    "PREVPAGE_ENTITY_ID": CASE,
    "PAGE_URL": f"/lightning/r/Contact/{CONTACT_ID}IAP/view",
    "APP_NAME": "one:one",
}
DOCS_URI_EVENT = {
    "attributes": {"type": "LightningUriEvent", "url": "/services/data/v60.0/sobjects/x"},
    "EventIdentifier": EVENT_ID,
    "EventDate": "2020-01-20T19:12:26.965+0000",  # as SOQL writes it
    "UserId": USER,
    "Username": "ann@example.com",
    "SourceIp": "96.43.144.26",
    "LoginKey": LOGIN_KEY,
    "SessionKey": "vMASKIU6AxEr+Op5",
    "Operation": "Read",
    "QueriedEntities": "Case",
    "RecordId": CASE + "AAA",
}
DOCS_LOGIN_EVENT = {
    "attributes": {"type": "LoginEvent"},
    "EventIdentifier": EVENT_ID,
    "EventDate": "2020-01-20T19:12:26.965Z",
    "UserId": USER,
    "SourceIp": "96.43.144.26",
    "LoginKey": LOGIN_KEY,
    "Status": "Invalid Password",
    "CountryIso": "US",
    "Country": "United States",
    "City": "San Francisco",
    "LoginLatitude": 37.7749,
    "LoginLongitude": -122.4194,
    "Browser": "Chrome 77",
    "LoginType": "Application",
}
DOCS_SEARCH = {
    "EVENT_TYPE": "Search",
    "REQUEST_ID": REQUEST,
    "TIMESTAMP": "20130715233322.670",
    "USER_ID": USER,
    "SEARCH_QUERY": "Salesforce",
    "NUM_RESULTS": 25,
    "PREFIXES_SEARCHED": "001 006 ka0",
    "QUERY_ID": "-2vx8relit08r",
}
DOCS_API_EVENT = {
    "attributes": {"type": "ApiEvent"},
    "EventIdentifier": EVENT_ID,
    "EventDate": "2020-01-20T19:12:26.965Z",
    "UserId": USER,
    "SourceIp": "96.43.144.26",
    "SessionKey": "vMASKIU6AxEr+Op5",
    "Operation": "Query",
    "QueriedEntities": "Contact",
    "Query": "SELECT Id, Name, Email FROM Contact",
    "RowsProcessed": 3,
    "Records": json.dumps(
        {
            "totalSize": 3,
            "done": True,
            "records": [
                {"attributes": {"type": "Contact"}, "Id": CONTACT_ID + "IAP"},
                {"attributes": {"type": "Account"}, "Id": "001D000000Other"},
                {"attributes": {"type": "Contact"}, "Id": "003D000000Nobod"},
            ],
        }
    ),
}
DOCS_CASE = {
    "attributes": {"type": "Case", "url": f"/services/data/v60.0/sobjects/Case/{CASE}AAA"},
    "Id": CASE + "AAA",
    "AccountId": ACCOUNT_ID + "QAE",
    "OwnerId": USER,
    "Status": "Closed",
    "IsClosed": True,
    "CreatedDate": "2024-05-01T09:00:00.000+0000",
    "ClosedDate": "2024-05-02T17:30:00.000+0000",
    "LastModifiedDate": "2024-05-02T17:30:00.000+0000",
}


def _map(obj: dict[str, Any], identities: Identities = DIRECTORY) -> Any:
    return SALESFORCE.map(SALESFORCE.parse(obj), identities)


def _one(obj: dict[str, Any]) -> Any:
    result = _map(obj)
    assert isinstance(result, Mapped), result
    (record,) = result.records
    return record


def test_an_elf_login_is_a_sign_in_from_the_source_ip_in_its_login_session() -> None:
    assert _one(DOCS_LOGIN) == SignIn(
        id=f"salesforce:Login:{REQUEST}",
        time=T0,
        agent="a-1",
        session=f"salesforce:{LOGIN_KEY}",
        outcome="success",
        ip="96.43.144.27",
        user_agent=UA,
        extra={
            "source": "salesforce",
            "salesforce_event_type": "Login",
            "salesforce_user": "ann@example.com",
            "salesforce_login_status": "LOGIN_NO_ERROR",
            "salesforce_tls": "TLSv1.2",
        },
    )


def test_an_elf_login_error_is_a_failed_sign_in_and_timestamp_alone_is_read() -> None:
    row = {k: v for k, v in DOCS_LOGIN.items() if k != "TIMESTAMP_DERIVED"}
    signin = _one({**row, "LOGIN_STATUS": "LOGIN_ERROR_INVALID_PASSWORD"})
    assert (signin.outcome, signin.time) == (
        "failure",
        datetime(2013, 7, 15, 23, 33, 22, 670000, tzinfo=UTC),
    )


def test_a_login_event_has_country_and_coordinates() -> None:
    assert _one(DOCS_LOGIN_EVENT) == SignIn(
        id=f"salesforce:{EVENT_ID}",
        time=T_EVENT,
        agent="a-1",
        session=f"salesforce:{LOGIN_KEY}",
        outcome="failure",
        ip="96.43.144.26",
        country="US",
        lat=37.7749,
        lon=-122.4194,
        extra={
            "source": "salesforce",
            "salesforce_event_type": "LoginEvent",
            "salesforce_status": "Invalid Password",
            "salesforce_login_type": "Application",
            "salesforce_browser": "Chrome 77",
            "salesforce_country": "United States",
            "salesforce_city": "San Francisco",
        },
    )


def test_login_as_is_an_audit_event_by_the_admin_on_the_user() -> None:
    row = {
        **ELF,
        "EVENT_TYPE": "LoginAs",
        "DELEGATED_USER_ID": "0054x000001L78a",
        "DELEGATED_USER_NAME": "admin@example.com",
        "URI": "/secur/frontdoor.jsp",
    }
    assert _one(row) == AuditEvent(
        id=f"salesforce:LoginAs:{REQUEST}",
        time=T0,
        action="salesforce.LoginAs",
        actor="a-2",
        subject=f"salesforce_user:{USER[:15]}",
        details={
            "source": "salesforce",
            "delegated_user": "admin@example.com",
            "ip": "96.43.144.26",
            "uri": "/secur/frontdoor.jsp",
        },
    )


def test_a_contact_page_reached_from_a_case_is_a_contact_view_justified_by_the_case() -> None:
    assert _one(DOCS_PAGE_FROM_CASE) == Access(
        id=f"salesforce:LightningPageView:{REQUEST}:{CONTACT_ID}",
        time=T0,
        agent="a-1",
        session=f"salesforce:{LOGIN_KEY}",
        action=Action.CONTACT_VIEW,
        outcome="allowed",
        customer="c-1",
        ip="96.43.144.26",
        fields=("contact.name", "contact.email", "contact.phone", "contact.role"),
        object="k-1",
        ticket=f"salesforce:{CASE}",
        reason=Reason.CUSTOMER_INITIATED_SUPPORT,
        extra={
            "source": "salesforce",
            "salesforce_event_type": "LightningPageView",
            "salesforce_page_url": f"/lightning/r/Contact/{CONTACT_ID}IAP/view",
            "salesforce_app": "one:one",
            "salesforce_prev_entity": "Case",
        },
    )


def test_an_account_page_from_nowhere_is_a_customer_view_without_justification() -> None:
    row = {**ELF, "EVENT_TYPE": "LightningPageView", "PAGE_ENTITY_TYPE": "Account"}
    access = _one({**row, "PAGE_ENTITY_ID": ACCOUNT_ID})
    assert (access.action, access.customer, access.object, access.ticket, access.reason) == (
        Action.CUSTOMER_VIEW,
        "c-1",
        None,
        None,
        None,
    )
    assert access.fields == ("customer.name", "customer.country")


def test_a_case_read_in_lightning_is_a_view_of_the_case_s_customer_justified_by_it() -> None:
    assert _one(DOCS_URI_EVENT) == Access(
        id=f"salesforce:{EVENT_ID}",
        time=T_EVENT,
        agent="a-1",
        session=f"salesforce:{LOGIN_KEY}",
        action=Action.CUSTOMER_VIEW,
        outcome="allowed",
        customer="c-2",
        ip="96.43.144.26",
        fields=("customer.name", "contact.name", "contact.email", "contact.phone"),
        object=f"salesforce:{CASE}",
        ticket=f"salesforce:{CASE}",
        reason=Reason.CUSTOMER_INITIATED_SUPPORT,
        extra={
            "source": "salesforce",
            "salesforce_event_type": "LightningUriEvent",
            "salesforce_user": "ann@example.com",
        },
    )


def test_a_portal_user_s_page_is_an_account_view_and_a_referrer_case_justifies_it() -> None:
    row = {**ELF, "EVENT_TYPE": "URI", "URI": f"/{PORTAL_USER}", "URI_ID_DERIVED": PORTAL_USER}
    access = _one({**row, "REFERRER_URI": f"https://x.my.salesforce.com/{CASE}?srPos=0"})
    assert (access.action, access.customer, access.object, access.ticket) == (
        Action.ACCOUNT_VIEW,
        "c-1",
        "u-1",
        f"salesforce:{CASE}",
    )


def test_console_and_rest_reads_of_a_record_are_views() -> None:
    console = _one({**ELF, "EVENT_TYPE": "Console", "RECORD_ID": ACCOUNT_ID})
    rest = _one(
        {
            **ELF,
            "EVENT_TYPE": "RestApi",
            "METHOD": "GET",
            "STATUS_CODE": "200",
            "URI": f"/services/data/v60.0/sobjects/Contact/{CONTACT_ID}",
        }
    )
    assert (console.action, console.customer) == (Action.CUSTOMER_VIEW, "c-1")
    assert (rest.action, rest.customer, rest.object) == (Action.CONTACT_VIEW, "c-1", "k-1")


def test_a_search_is_a_customer_search_whose_results_salesforce_does_not_name() -> None:
    assert _one(DOCS_SEARCH) == Access(
        id=f"salesforce:Search:{REQUEST}",
        time=datetime(2013, 7, 15, 23, 33, 22, 670000, tzinfo=UTC),
        agent="a-1",
        session=f"salesforce:Search:{REQUEST}",  # Search rows have no login key
        action=Action.CUSTOMER_SEARCH,
        outcome="allowed",
        query="Salesforce",
        extra={
            "source": "salesforce",
            "salesforce_event_type": "Search",
            "salesforce_results": "25",
            "salesforce_prefixes": "001 006 ka0",
            "salesforce_query_id": "-2vx8relit08r",
        },
    )


def test_an_api_query_naming_records_is_one_export_per_customer_found() -> None:
    result = _map(DOCS_API_EVENT)
    assert isinstance(result, Mapped)
    assert [(r.id, r.action, r.customer, r.object) for r in result.records] == [  # type: ignore[union-attr]
        (f"salesforce:{EVENT_ID}:c-1", Action.EXPORT, "c-1", "Contact"),
        (f"salesforce:{EVENT_ID}:c-2", Action.EXPORT, "c-2", "Contact"),
    ]


def test_exports_that_name_no_customer_are_kept_aside_with_what_they_were() -> None:
    report = {**ELF, "EVENT_TYPE": "ReportExport", "REPORT_ID": "00OD0000001leVC"}
    assert _map(report) == Unmapped(
        reason="ReportExport names no customer", example="00OD0000001leVC"
    )
    bulk = {**ELF, "EVENT_TYPE": "BulkApi", "ENTITY_TYPE": "Contact"}
    assert _map(bulk) == Unmapped(reason="BulkApi names no customer", example="Contact")
    event = {**DOCS_API_EVENT, "attributes": {"type": "ReportEvent"}, "ReportId": "00O1"}
    event["Records"] = json.dumps({"totalSize": 1, "rows": [{"datacells": ["Acme"]}]})
    assert _map(event) == Unmapped(reason="ReportEvent names no customer", example="00O1")


def test_a_case_opens_is_assigned_and_closes_its_ticket() -> None:
    result = _map(DOCS_CASE)
    assert isinstance(result, Mapped)
    extra = {"source": "salesforce", "salesforce_status": "Closed"}
    assert result.records == (
        TicketEvent(
            id=f"salesforce:{CASE}:opened",
            time=datetime(2024, 5, 1, 9, tzinfo=UTC),
            ticket=f"salesforce:{CASE}",
            event=TicketStep.OPENED,
            customer="c-1",
            extra=extra,
        ),
        TicketEvent(
            id=f"salesforce:{CASE}:assigned:{USER[:15]}",
            time=datetime(2024, 5, 1, 9, tzinfo=UTC),
            ticket=f"salesforce:{CASE}",
            event=TicketStep.ASSIGNED,
            agent="a-1",
            extra=extra,
        ),
        TicketEvent(
            id=f"salesforce:{CASE}:closed",
            time=datetime(2024, 5, 2, 17, 30, tzinfo=UTC),
            ticket=f"salesforce:{CASE}",
            event=TicketStep.CLOSED,
            extra=extra,
        ),
    )


def test_an_open_case_owned_by_a_queue_is_only_opened() -> None:
    case = {**DOCS_CASE, "OwnerId": "00GD0000000QueU", "IsClosed": False, "Status": "New"}
    result = _map(case)
    assert isinstance(result, Mapped)
    assert [r.event for r in result.records] == [TicketStep.OPENED]  # type: ignore[union-attr]


def test_case_history_owner_and_status_changes_are_steps() -> None:
    history = {
        "attributes": {"type": "CaseHistory"},
        "Id": "017D000000HistA",
        "CaseId": CASE,
        "CreatedDate": "2024-05-01T10:00:00.000+0000",
        "Field": "Owner",
        "OldValue": "00GD0000000QueU",
        "NewValue": USER,
    }
    assigned = _one(history)
    assert (assigned.id, assigned.ticket, assigned.event, assigned.agent, assigned.time) == (
        "salesforce:017D000000HistA",
        f"salesforce:{CASE}",
        TicketStep.ASSIGNED,
        "a-1",
        datetime(2024, 5, 1, 10, tzinfo=UTC),
    )
    named = {**history, "OldValue": "Support Queue", "NewValue": "Ann Example"}
    assert _map(named) == Skipped(event_type="CaseHistory:Owner name")
    closed = _one({**history, "Field": "Status", "OldValue": "Working", "NewValue": "Closed"})
    assert closed.event == TicketStep.CLOSED
    assert _map({**history, "Field": "Priority"}) == Skipped(event_type="CaseHistory:Priority")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            {**DOCS_PAGE_FROM_CASE, "PAGE_ENTITY_ID": "003D000000Nobod"},
            Unmapped(reason="Salesforce Contact not in the directory", example="003D000000Nobod"),
        ),
        (
            {**DOCS_PAGE_FROM_CASE, "PAGE_ENTITY_ID": "001D000000Nobod"},
            Unmapped(reason="Salesforce Account not in the directory", example="001D000000Nobod"),
        ),
        (
            {**DOCS_URI_EVENT, "RecordId": "500D000000Nobod"},
            Unmapped(reason="Salesforce Case not ingested", example="500D000000Nobod"),
        ),
        (
            {**DOCS_PAGE_FROM_CASE, "PAGE_ENTITY_TYPE": "User", "PAGE_ENTITY_ID": USER},
            Skipped(event_type="LightningPageView:User"),
        ),
        (
            {
                **DOCS_PAGE_FROM_CASE,
                "PAGE_ENTITY_TYPE": "Opportunity",
                "PAGE_ENTITY_ID": "006D000000Oppor",
            },
            Skipped(event_type="LightningPageView:Opportunity"),
        ),
        (
            {**DOCS_URI_EVENT, "Operation": "Update"},
            Skipped(event_type="LightningUriEvent:Update"),
        ),
        (
            {**DOCS_LOGIN, "USER_ID": "005D000000Nobod", "USER_NAME": "x@y"},
            Unmapped(
                reason="Salesforce user not in the directory", example="005D000000Nobod (x@y)"
            ),
        ),
        (
            {**DOCS_LOGIN, "SOURCE_IP": "", "CLIENT_IP": "Salesforce.com IP"},
            Unmapped(reason="sign-in without a source IP", example=f"Login:{REQUEST}"),
        ),
        (
            {
                **DOCS_LOGIN_EVENT,
                "attributes": {"type": "LoginAsEvent"},
                "DelegatedUsername": "admin@x",
            },
            Unmapped(reason="LoginAsEvent names the admin by username only", example="admin@x"),
        ),
        (
            {**DOCS_CASE, "AccountId": None},
            Unmapped(reason="Case without AccountId", example=CASE),
        ),
        ({**ELF, "EVENT_TYPE": "Logout"}, Skipped(event_type="Logout")),
        ({**ELF, "EVENT_TYPE": "LightningInteraction"}, Skipped(event_type="LightningInteraction")),
        ({**ELF, "EVENT_TYPE": "ApexExecution"}, Skipped(event_type="ApexExecution")),
        ({"attributes": {"type": "Opportunity"}, "Id": "x"}, Skipped(event_type="Opportunity")),
    ],
    ids=[
        "unknown-contact",
        "unknown-account",
        "case-not-ingested",
        "employee-user-page",
        "other-object",
        "uri-update",
        "unknown-user",
        "no-ip",
        "login-as-event",
        "case-without-account",
        "logout",
        "interaction",
        "unknown-elf-type",
        "unknown-sobject",
    ],
)
def test_what_cannot_be_placed_is_kept_aside_or_counted_never_guessed(
    obj: dict[str, Any], expected: Any
) -> None:
    assert _map(obj) == expected


def test_the_registry_names_salesforce() -> None:
    assert source_named("salesforce") is SALESFORCE


# -- the real samples -------------------------------------------------------------------

EXPECTED_SAMPLES = Counter(
    {
        "signin": 5,  # the 5 ELF Login rows
        "audit": 1,  # the ELF LoginAs row
        "skipped: ApiAnomalyEventStore": 3,
        "skipped: ApiConnectedApp": 2,
        "skipped: ApiTotalUsage": 1,
        "skipped: BulkApiResultEventStore": 4,
        "skipped: ConnectedAppUsageEventStore": 3,
        "skipped: OAuthTokenRefreshFailed": 1,
        "skipped: OAuthTokenRevoked": 1,
    }
)


def _every_user() -> Identities:
    ids: dict[tuple[str, str], tuple[str, str]] = {}
    for line in (SAMPLES / "events.jsonl").read_text().splitlines():
        obj = json.loads(line)
        for key in ("USER_ID", "DELEGATED_USER_ID"):
            if obj.get(key):
                ids[("salesforce", obj[key][:15])] = (AGENT, f"a-{obj[key]}")
    return Identities(ids=ids)


def test_every_real_sample_of_a_supported_type_maps_and_the_rest_are_counted() -> None:
    identities = _every_user()
    outcomes: Counter[str] = Counter()
    lines = (SAMPLES / "events.jsonl").read_text().splitlines()
    assert len(lines) == 21
    for line in lines:
        result = SALESFORCE.map(SALESFORCE.parse(json.loads(line)), identities)
        if isinstance(result, Mapped):
            outcomes.update("signin" if isinstance(r, SignIn) else "audit" for r in result.records)
        elif isinstance(result, Skipped):
            outcomes[f"skipped: {result.event_type}"] += 1
        else:
            outcomes[f"unmapped: {result.reason}"] += 1
    assert outcomes == EXPECTED_SAMPLES


def test_a_real_login_row_maps_field_by_field() -> None:
    line = (SAMPLES / "events.jsonl").read_text().splitlines()[13]  # Panther's Login fixture
    signin = SALESFORCE.map(SALESFORCE.parse(json.loads(line)), _every_user())
    assert isinstance(signin, Mapped)
    (record,) = signin.records
    assert isinstance(record, SignIn)
    assert (record.id, record.time, record.session, record.ip, record.outcome) == (
        "salesforce:Login:4pkDPOtDbNNyUOG-mNMVJ-",
        datetime(2023, 5, 4, 21, 36, 47, 569000, tzinfo=UTC),
        "salesforce:HMvXV5bu8xcZOqQl",
        "12.12.12.12",
        "success",
    )


# -- random objects: mapped, counted or refused, never a crash -------------------------

_TEXT = st.text(max_size=8)
_IDS = st.sampled_from([USER, CASE, CONTACT_ID, ACCOUNT_ID, PORTAL_USER, "006D000000Oppor", "x y"])
_VALUE = st.one_of(st.none(), _TEXT, _IDS, st.integers(), st.floats(), st.booleans())
_TIME = st.one_of(
    _TEXT,
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["20130715233322.670", "20131315233322.670", "2024-01-15 14:23:45.123"]),
)
_ELF_KEYS = [
    "USER_ID", "LOGIN_KEY", "SESSION_KEY", "CLIENT_IP", "SOURCE_IP", "LOGIN_STATUS",
    "PAGE_ENTITY_ID", "PAGE_ENTITY_TYPE", "PREVPAGE_ENTITY_ID", "PREVPAGE_ENTITY_TYPE",
    "URI_ID_DERIVED", "REFERRER_URI", "RECORD_ID", "METHOD", "URI", "SEARCH_QUERY",
    "DELEGATED_USER_ID", "REPORT_ID",
]  # fmt: skip
_EVENT_KEYS = [
    "UserId", "SourceIp", "LoginKey", "Status", "CountryIso", "LoginLatitude",
    "LoginLongitude", "Operation", "RecordId", "QueriedEntities", "Records", "Id", "AccountId",
    "OwnerId", "IsClosed", "ClosedDate", "CaseId", "Field", "NewValue", "OldValue",
]  # fmt: skip


def _objects() -> st.SearchStrategy[Any]:
    elf = st.fixed_dictionaries(
        {
            "EVENT_TYPE": st.sampled_from(
                [
                    "Login",
                    "LoginAs",
                    "LightningPageView",
                    "URI",
                    "Console",
                    "RestApi",
                    "Search",
                    "Report",
                    "BulkApi",
                    "Logout",
                    "Other",
                ]
            ),
        },
        optional={"REQUEST_ID": _TEXT, "TIMESTAMP_DERIVED": _TIME, "TIMESTAMP": _TIME}
        | dict.fromkeys(_ELF_KEYS, st.one_of(_VALUE, st.just("Case"))),
    )
    sobject = st.fixed_dictionaries(
        {
            "attributes": st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        [
                            "LoginEvent",
                            "LoginAsEvent",
                            "LightningUriEvent",
                            "ReportEvent",
                            "ApiEvent",
                            "Case",
                            "CaseHistory",
                            "Other",
                        ]
                    )
                }
            )
        },
        optional={"EventIdentifier": _TEXT, "EventDate": _TIME, "CreatedDate": _TIME}
        | dict.fromkeys(_EVENT_KEYS, st.one_of(_VALUE, st.just("Read"), st.just("Owner"))),
    )
    return st.one_of(elf, sobject, st.dictionaries(_TEXT, _VALUE, max_size=3), _VALUE)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_objects())
def test_random_objects_map_are_counted_or_are_refused_never_crash(obj: Any) -> None:
    try:
        parsed = SALESFORCE.parse(obj)
    except InvalidField as exc:
        refused_by_name = bool(exc.field)
        assert refused_by_name
        return
    result = SALESFORCE.map(parsed, DIRECTORY)
    assert isinstance(result, Mapped | Skipped | Unmapped)
    if isinstance(result, Mapped):
        assert all(r.id.startswith("salesforce:") for r in result.records)
        assert len({r.id for r in result.records}) == len(result.records)


# -- bad input: refused with the field ------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({**DOCS_LOGIN, "REQUEST_ID": ""}, "REQUEST_ID"),
        ({**DOCS_LOGIN, "TIMESTAMP_DERIVED": "", "TIMESTAMP": ""}, "TIMESTAMP_DERIVED"),
        ({**DOCS_LOGIN, "TIMESTAMP_DERIVED": "yesterday"}, "TIMESTAMP_DERIVED"),
        ({**DOCS_LOGIN, "TIMESTAMP_DERIVED": "", "TIMESTAMP": "20131315233322.670"}, "TIMESTAMP"),
        ({**DOCS_LOGIN, "LOGIN_STATUS": None}, "LOGIN_STATUS"),
        ({**DOCS_LOGIN, "USER_ID": "005 x"}, "USER_ID"),
        ({**DOCS_LOGIN, "BROWSER_TYPE": ["x"]}, "BROWSER_TYPE"),
        ({**ELF, "EVENT_TYPE": "LoginAs"}, "DELEGATED_USER_ID"),
        ({**DOCS_LOGIN_EVENT, "EventIdentifier": None}, "EventIdentifier"),
        ({**DOCS_LOGIN_EVENT, "EventDate": "2020-01-20"}, "EventDate"),
        ({**DOCS_LOGIN_EVENT, "LoginLatitude": 200}, "LoginLatitude"),
        ({**DOCS_API_EVENT, "Records": "{not json"}, "Records"),
        ({**DOCS_CASE, "IsClosed": "perhaps"}, "IsClosed"),
        ({**DOCS_CASE, "CreatedDate": None}, "CreatedDate"),
        ({"attributes": {"type": "CaseHistory"}, "Id": "017D000000HistA"}, "CaseId"),
        (
            {"actor": {"alternateId": "okta-user@x"}, "eventType": "user.session.start"},
            "EVENT_TYPE",
        ),
        ({"attributes": "LoginEvent"}, "EVENT_TYPE"),
    ],
)
def test_bad_objects_are_refused_naming_the_field(obj: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as raised:
        SALESFORCE.parse(obj)
    assert raised.value.field == field


def test_a_json_array_is_not_an_object() -> None:
    with pytest.raises(InvalidField) as raised:
        SALESFORCE.parse([DOCS_LOGIN])
    assert raised.value.field == "json"
