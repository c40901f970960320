"""The simulator's vendor writers (vigile.simulate.vendors): each record as the vendor
documents it (expected values written by hand from Okta's LogEvent, Zendesk's Ticket Audit
and Salesforce's Event Log File references), and read back by the adapter to the native
record it stands for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigile.errors import InputError
from vigile.model.vocabulary import TicketStep
from vigile.simulate.vendors import parse_vendors
from vigile.simulate.vendors.ids import VendorIds, case_safe
from vigile.simulate.vendors.okta import okta_signin
from vigile.simulate.vendors.salesforce import SalesforceLog
from vigile.simulate.vendors.zendesk import ZendeskTickets
from vigile.sources.base import AGENT, CUSTOMER, Identities, Mapped
from vigile.sources.okta import map_log_event, parse_log_event
from vigile.sources.zendesk import map_zendesk, parse_zendesk

SIGNIN = {
    "kind": "signin", "time": "2021-05-20T08:01:40Z", "id": "e-1", "agent": "a-0017",
    "session": "s-9f3", "outcome": "success", "ip": "198.51.100.23", "country": "IE",
    "lat": 53.35, "lon": -6.26, "device": "d-77", "user_agent": "Mozilla/5.0", "mfa": "push",
}  # fmt: skip


def _ids() -> VendorIds:
    ids = VendorIds()
    ids.add_agent("a-0017", "contoso-support", "Ann Example")
    ids.add_customer("c-00412")
    ids.add_contact("k-00412-1")
    return ids


def test_a_sign_in_is_an_okta_session_start_read_back_as_the_same_sign_in() -> None:
    ids = _ids()
    event = okta_signin(SIGNIN, ids)
    # Okta's LogEvent: the fields its System Log API reference documents.
    assert event["eventType"] == "user.session.start"
    assert event["published"] == "2021-05-20T08:01:40.000Z"
    assert event["actor"]["type"] == "User"
    assert event["actor"]["alternateId"] == "a-0017@contoso-support.example"
    assert event["actor"]["id"].startswith("00u")
    assert len(event["actor"]["id"]) == 20
    assert event["outcome"] == {"result": "SUCCESS", "reason": None}
    assert event["client"]["ipAddress"] == "198.51.100.23"
    assert event["client"]["geographicalContext"]["country"] == "Ireland"  # a name, not ISO
    assert event["client"]["geographicalContext"]["geolocation"] == {"lat": 53.35, "lon": -6.26}
    assert event["authenticationContext"]["externalSessionId"] == "s-9f3"
    assert event["debugContext"]["debugData"]["deviceFingerprint"] == "d-77"
    assert "factor" not in event["debugContext"]["debugData"]  # Okta logs it in another event
    directory = Identities(ids={("okta", "a-0017@contoso-support.example"): (AGENT, "a-0017")})
    mapped = map_log_event(parse_log_event(event), directory)
    assert isinstance(mapped, Mapped)
    (signin,) = mapped.records
    assert (signin.agent, signin.ip, signin.device, signin.session) == (
        "a-0017", "198.51.100.23", "d-77", "okta:s-9f3"
    )  # fmt: skip
    assert signin.time == datetime(2021, 5, 20, 8, 1, 40, tzinfo=UTC)
    assert signin.country == "IE"  # Okta gives the country's name, read as ISO 3166


def test_a_failed_sign_in_is_a_failure_with_okta_s_reason() -> None:
    event = okta_signin({**SIGNIN, "outcome": "failure"}, _ids())
    assert event["outcome"] == {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}


def test_ticket_steps_are_zendesk_audits_read_back_as_the_same_steps() -> None:
    ids = _ids()
    tickets = ZendeskTickets(ids)
    steps = [
        {"kind": "ticket", "time": "2021-05-20T09:12:00Z", "ticket": "T-1", "event": "opened",
         "customer": "c-00412", "category": "billing"},
        {"kind": "ticket", "time": "2021-05-20T09:30:00Z", "ticket": "T-1", "event": "assigned",
         "agent": "a-0017"},
        {"kind": "ticket", "time": "2021-05-20T11:00:00Z", "ticket": "T-1", "event": "closed"},
    ]  # fmt: skip
    audits = [tickets.audit(step) for step in steps]
    opened, assigned, closed = audits
    assert opened is not None
    assert assigned is not None
    assert closed is not None
    created = {e["field_name"]: e["value"] for e in opened["events"]}
    assert {e["type"] for e in opened["events"]} == {"Create"}
    assert created["organization_id"] == str(ids.zendesk_org("c-00412"))
    assert created["status"] == "new"
    assert created["tags"] == ["billing"]  # Zendesk has no category: a tag, not read
    changes = {e["field_name"]: (e["previous_value"], e["value"]) for e in assigned["events"]}
    user = str(ids.zendesk_user("a-0017"))
    assert changes == {"assignee_id": (None, user), "status": ("new", "open")}
    assert [(e["field_name"], e["previous_value"], e["value"]) for e in closed["events"]] == [
        ("status", "open", "solved")
    ]
    assert {a["ticket_id"] for a in audits if a} == {10_000}
    directory = Identities(ids={
        ("zendesk", user): (AGENT, "a-0017"),
        ("zendesk_org", str(ids.zendesk_org("c-00412"))): (CUSTOMER, "c-00412"),
    })  # fmt: skip
    read = []
    for audit in audits:
        mapped = map_zendesk(parse_zendesk(audit), directory)
        assert isinstance(mapped, Mapped)
        read.extend(mapped.records)
    assert [(s.event, s.ticket, s.customer, s.agent) for s in read] == [  # type: ignore[attr-defined]
        (TicketStep.OPENED, "zendesk:10000", "c-00412", None),
        (TicketStep.ASSIGNED, "zendesk:10000", None, "a-0017"),
        (TicketStep.CLOSED, "zendesk:10000", None, None),
    ]


def test_a_page_reached_from_a_case_names_it_and_nothing_else_carries_a_ticket() -> None:
    ids = _ids()
    log = SalesforceLog(ids, all_signins=True, cases=True)
    log.ticket({"kind": "ticket", "time": "2021-05-20T09:12:00Z", "ticket": "T-1",
                "event": "opened", "customer": "c-00412"})  # fmt: skip
    access = {"kind": "access", "time": "2021-05-20T09:31:05Z", "id": "e-2", "agent": "a-0017",
              "session": "s-9f3", "ip": "198.51.100.23", "action": "contact.view",
              "customer": "c-00412", "object": "k-00412-1", "ticket": "T-1",
              "reason": "customer_initiated_support", "outcome": "allowed"}  # fmt: skip
    found = log.access(access)
    assert found is not None
    kind, row = found
    # Salesforce's LightningPageView Event Log File columns.
    assert kind == row["EVENT_TYPE"] == "LightningPageView"
    assert row["TIMESTAMP"] == "20210520093105.000"
    assert row["TIMESTAMP_DERIVED"] == "2021-05-20T09:31:05.000Z"
    assert row["USER_ID"] == ids.salesforce_user("a-0017")[:15]
    assert row["PAGE_ENTITY_TYPE"] == "Contact"
    assert row["PAGE_ENTITY_ID"] == ids.salesforce_contact("k-00412-1")
    assert row["PREVPAGE_ENTITY_TYPE"] == "Case"
    assert row["PREVPAGE_ENTITY_ID"] == ids.salesforce_case("T-1")
    assert row["CLIENT_IP"] == "198.51.100.23"
    # Without a Case, or for a ticket that is not one: no previous Case page.
    made_up = log.access({**access, "ticket": "T-404"})
    assert made_up is not None
    assert made_up[1]["PREVPAGE_ENTITY_TYPE"] == ""
    in_zendesk = SalesforceLog(ids, all_signins=False, cases=False).access(access)
    assert in_zendesk is not None
    assert in_zendesk[1]["PREVPAGE_ENTITY_TYPE"] == ""
    # Salesforce logs pages served, not refused.
    assert log.access({**access, "outcome": "denied", "deny_reason": "x"}) is None


def test_case_safe_ids_follow_salesforce_s_checksum() -> None:
    # The example of Salesforce's knowledge article on 15- and 18-character ids.
    assert case_safe("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_vendors_are_named_or_refused() -> None:
    assert parse_vendors("salesforce, OKTA") == ("okta", "salesforce")
    with pytest.raises(InputError, match="unknown vendor 'jira'"):
        parse_vendors("okta,jira")
    with pytest.raises(InputError, match="no vendor named"):
        parse_vendors(" , ")
