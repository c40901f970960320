"""Zendesk's adapter: golden records from Zendesk's documentation, the real samples,
random objects, bad input.

The golden records are written by hand from Zendesk's API reference, not from the
adapter: the Ticket Audits page (an audit is ``id``, ``ticket_id``, ``created_at``,
``author_id``, ``via``, ``events[]``), the Ticket Audit events reference (a ``Create``
event sets a property of a new ticket, one event per property, with ``field_name`` and
``value``; a ``Change`` event also has ``previous_value``), the ticket's ``status`` values
(``new``, ``open``, ``pending``, ``hold``, ``solved``, ``closed``) and the Audit Logs page
(``action``, ``actor_id``, ``actor_name``, ``source_type``, ``source_id``,
``source_label``, ``change_description``, ``ip_address``, ``created_at``); the
Incremental Exports page (a ticket event of ``/api/v2/incremental/ticket_events`` is
``id``, ``ticket_id``, ``timestamp``, ``created_at``, ``updater_id``, ``via``,
``event_type`` ``Audit`` and ``child_events[]``, each with its ``id``, ``via``,
``via_reference_id``, ``event_type`` and, for a change, the field it sets as a key of its
own with ``previous_value``; a comment sideloaded with ``include=comment_events`` is a
child event of ``event_type`` ``Comment`` whose ``audit_id`` is the ticket event's ``id``:
the ticket event is the audit, its child events the audit's events); and docs/sources.md's
mapping table.
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

from vigile.model import AuditEvent, TicketEvent
from vigile.model.vocabulary import TicketStep
from vigile.sources import Identities, Mapped, Skipped, Unmapped, source_named
from vigile.sources.base import AGENT, CONTACT, CUSTOMER, InvalidField
from vigile.sources.zendesk import ZENDESK

SAMPLES = Path(__file__).parent / "zendesk"
DIRECTORY = Identities(
    ids={
        ("zendesk", "35436"): (AGENT, "a-1"),
        ("zendesk", "361"): (AGENT, "a-2"),
        ("zendesk_org", "9001"): (CUSTOMER, "c-1"),
        ("zendesk", "9001"): (AGENT, "a-9"),  # a user id equal to an org id: another system
    }
)

# A ticket created through the web form, requester in organisation 9001, assigned at once.
DOCS_CREATE: dict[str, Any] = {
    "id": 1001,
    "ticket_id": 47,
    "created_at": "2009-07-20T22:55:29Z",
    "author_id": 35436,
    "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
    "metadata": {"system": {"ip_address": "192.0.2.1"}, "custom": {}},
    "events": [
        {"id": 2001, "type": "Comment", "body": "My printer is on fire", "public": True},
        {"id": 2002, "type": "Create", "field_name": "subject", "value": "Printer"},
        {"id": 2003, "type": "Create", "field_name": "status", "value": "new"},
        {"id": 2004, "type": "Create", "field_name": "requester_id", "value": "5"},
        {"id": 2005, "type": "Create", "field_name": "organization_id", "value": "9001"},
        {"id": 2006, "type": "Create", "field_name": "assignee_id", "value": "35436"},
        {"id": 2007, "type": "Notification", "subject": "x", "recipients": [5]},
    ],
}
# A later update: reassigned to user 361 (an integer, as some audits write ids).
DOCS_REASSIGN: dict[str, Any] = {
    "id": 1002,
    "ticket_id": 47,
    "created_at": "2009-07-21T08:00:00Z",
    "author_id": 35436,
    "events": [
        {
            "id": 2010,
            "type": "Change",
            "field_name": "assignee_id",
            "value": 361,
            "previous_value": 35436,
        },
        {"id": 2011, "type": "Change", "field_name": "status", "value": "open"},
    ],
}
# Solved, then closed by the system four days later: one `closed` step, not two.
DOCS_SOLVED: dict[str, Any] = {
    "id": 1003,
    "ticket_id": 47,
    "created_at": "2009-07-22T10:00:00+02:00",
    "author_id": 361,
    "events": [
        {
            "id": 2020,
            "type": "Change",
            "field_name": "status",
            "value": "solved",
            "previous_value": "open",
        }
    ],
}
DOCS_CLOSED: dict[str, Any] = {
    "id": 1004,
    "ticket_id": 47,
    "created_at": "2009-07-26T10:00:00Z",
    "author_id": -1,
    "events": [
        {
            "id": 2030,
            "type": "Change",
            "field_name": "status",
            "value": "closed",
            "previous_value": "solved",
        }
    ],
}
# An account audit-log entry (Audit Logs reference): a role changed by user 361.
DOCS_AUDIT_LOG: dict[str, Any] = {
    "id": 498483,
    "action": "update",
    "action_label": "Updated",
    "actor_id": 361,
    "actor_name": "Ann Example",
    "change_description": "Role changed from Agent to Administrator",
    "created_at": "2012-03-05T11:32:44Z",
    "ip_address": "209.119.38.228",
    "source_id": 3,
    "source_label": "Bob Example",
    "source_type": "user",
    "url": "https://company.zendesk.com/api/v2/audit_logs/498483.json",
}

# DOCS_CREATE as the incremental ticket-event export writes the same update: the audit's
# id, its events as child events of the same ids, each field as a key of its own; the
# comment sideloaded (include=comment_events) names the audit by `audit_id`.
DOCS_TICKET_EVENT: dict[str, Any] = {
    "id": 1001,
    "ticket_id": 47,
    "timestamp": 1248130529,
    "created_at": "2009-07-20T22:55:29Z",
    "updater_id": 35436,
    "via": "Web form",
    "system": {"client": "Mozilla/5.0", "ip_address": "192.0.2.1"},
    "metadata": {},
    "event_type": "Audit",
    "merged_ticket_ids": [],
    "child_events": [
        {
            "id": 2001,
            "via": "Web form",
            "via_reference_id": None,
            "type": "Comment",
            "author_id": 35436,
            "body": "My printer is on fire",
            "public": True,
            "attachments": [],
            "audit_id": 1001,
            "created_at": "2009-07-20T22:55:29Z",
            "event_type": "Comment",
        },
        {"id": 2002, "via": "Web form", "via_reference_id": None, "subject": "Printer",
         "event_type": "Create"},
        {"id": 2003, "via": "Web form", "via_reference_id": None, "status": "new",
         "event_type": "Create"},
        {"id": 2004, "via": "Web form", "via_reference_id": None, "requester_id": 5,
         "event_type": "Create"},
        {"id": 2005, "via": "Web form", "via_reference_id": None, "organization_id": 9001,
         "event_type": "Create"},
        {"id": 2006, "via": "Web form", "via_reference_id": None, "assignee_id": 35436,
         "event_type": "Create"},
        {"id": 2007, "via": "Web form", "via_reference_id": None, "event_type": "Notification",
         "subject": "x", "recipients": [5]},
    ],
}  # fmt: skip
# DOCS_SOLVED as a ticket event, with the time as `timestamp` only.
DOCS_SOLVED_EVENT: dict[str, Any] = {
    "id": 1003,
    "ticket_id": 47,
    "timestamp": 1248249600,  # 2009-07-22T08:00:00Z
    "updater_id": 361,
    "via": "Web form",
    "event_type": "Audit",
    "child_events": [
        {
            "id": 2020,
            "via": "Web form",
            "via_reference_id": None,
            "status": "solved",
            "previous_value": "open",
            "event_type": "Change",
        },
        {"id": 2021, "comment_present": False, "comment_public": False, "event_type": "Comment"},
    ],
}

EXTRA = {"source": "zendesk", "zendesk_author": "35436"}
GOLDEN: list[tuple[str, dict[str, Any], tuple[TicketEvent, ...]]] = [
    (
        "created-with-organisation-and-assignee",
        DOCS_CREATE,
        (
            TicketEvent(
                id="zendesk:1001:2002",
                time=datetime(2009, 7, 20, 22, 55, 29, tzinfo=UTC),
                ticket="zendesk:47",
                event=TicketStep.OPENED,
                customer="c-1",
                extra={**EXTRA, "zendesk_audit": "1001", "zendesk_via": "web"},
            ),
            TicketEvent(
                id="zendesk:1001:2006",
                time=datetime(2009, 7, 20, 22, 55, 29, tzinfo=UTC),
                ticket="zendesk:47",
                event=TicketStep.ASSIGNED,
                agent="a-1",
                extra={**EXTRA, "zendesk_audit": "1001", "zendesk_via": "web"},
            ),
        ),
    ),
    (
        "reassigned",
        DOCS_REASSIGN,
        (
            TicketEvent(
                id="zendesk:1002:2010",
                time=datetime(2009, 7, 21, 8, tzinfo=UTC),
                ticket="zendesk:47",
                event=TicketStep.ASSIGNED,
                agent="a-2",
                extra={**EXTRA, "zendesk_audit": "1002"},
            ),
        ),
    ),
    (
        "solved",
        DOCS_SOLVED,
        (
            TicketEvent(
                id="zendesk:1003:2020",
                time=datetime(2009, 7, 22, 8, tzinfo=UTC),
                ticket="zendesk:47",
                event=TicketStep.CLOSED,
                extra={"source": "zendesk", "zendesk_author": "361", "zendesk_audit": "1003"},
            ),
        ),
    ),
]


def _plain(record: Any) -> Any:
    return (record.id, record.time, record.ticket, record.event, record.customer, record.agent)


@pytest.mark.parametrize(("name", "audit", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_documented_audits_map_to_the_expected_ticket_steps(
    name: str, audit: dict[str, Any], expected: tuple[TicketEvent, ...]
) -> None:
    result = ZENDESK.map(ZENDESK.parse(audit), DIRECTORY)
    assert isinstance(result, Mapped), result
    assert [_plain(r) for r in result.records] == [_plain(e) for e in expected]
    assert [dict(r.extra) for r in result.records] == [dict(e.extra) for e in expected]


def test_solved_then_closed_is_one_closed_step() -> None:
    assert ZENDESK.map(ZENDESK.parse(DOCS_CLOSED), DIRECTORY) == Skipped(
        event_type="ticket audit without a step"
    )


def test_an_unassignment_is_no_step() -> None:
    audit = {**DOCS_REASSIGN, "events": [{**DOCS_REASSIGN["events"][0], "value": None}]}
    assert isinstance(ZENDESK.map(ZENDESK.parse(audit), DIRECTORY), Skipped)


def test_an_unknown_assignee_keeps_the_whole_audit_aside_with_its_id() -> None:
    events = [*DOCS_CREATE["events"][:5], {**DOCS_CREATE["events"][5], "value": "777"}]
    result = ZENDESK.map(ZENDESK.parse({**DOCS_CREATE, "events": events}), DIRECTORY)
    assert result == Unmapped(reason="Zendesk assignee not in the directory", example="777")


def test_an_organisation_not_in_the_directory_is_unmapped_with_its_id() -> None:
    events = [{**e, "value": "8"} if e.get("field_name") == "organization_id" else e for e in
              DOCS_CREATE["events"]]  # fmt: skip
    result = ZENDESK.map(ZENDESK.parse({**DOCS_CREATE, "events": events}), DIRECTORY)
    assert result == Unmapped(reason="Zendesk organization not in the directory", example="8")


def _without(*fields: str) -> dict[str, Any]:
    """DOCS_CREATE without the Create events of ``fields``."""
    events = [e for e in DOCS_CREATE["events"] if e.get("field_name") not in fields]
    return {**DOCS_CREATE, "events": events}


# Requester 5 is a contact of customer c-7 (Zendesk end-user id 5, `zendesk_user`).
WITH_CONTACT = Identities(
    ids={**DIRECTORY.ids, ("zendesk_user", "5"): (CONTACT, "k-7-1")},
    owners={(CONTACT, "k-7-1"): "c-7"},
)


def test_without_organisation_the_requester_s_customer_is_the_ticket_s() -> None:
    result = ZENDESK.map(ZENDESK.parse(_without("organization_id")), WITH_CONTACT)
    assert isinstance(result, Mapped)
    opened = result.records[0]
    assert (opened.id, opened.event, opened.customer) == (  # type: ignore[union-attr]
        "zendesk:1001:2002",
        TicketStep.OPENED,
        "c-7",
    )


def test_the_organisation_set_wins_over_the_requester_s() -> None:
    result = ZENDESK.map(ZENDESK.parse(DOCS_CREATE), WITH_CONTACT)
    assert isinstance(result, Mapped)
    assert result.records[0].customer == "c-1"  # type: ignore[union-attr]


def test_an_organisation_the_directory_lacks_is_not_replaced_by_the_requester_s() -> None:
    events = [{**e, "value": "8"} if e.get("field_name") == "organization_id" else e for e in
              DOCS_CREATE["events"]]  # fmt: skip
    result = ZENDESK.map(ZENDESK.parse({**DOCS_CREATE, "events": events}), WITH_CONTACT)
    assert result == Unmapped(reason="Zendesk organization not in the directory", example="8")


@pytest.mark.parametrize(
    ("audit", "identities", "reason", "example"),
    [
        (
            _without("organization_id"),
            DIRECTORY,  # requester 5 is nobody in the directory
            "ticket opened without organization_id, its requester not a contact in the directory",
            "5",
        ),
        (
            _without("organization_id"),
            Identities(ids={**DIRECTORY.ids, ("zendesk", "5"): (AGENT, "a-5")}),  # an agent
            "ticket opened without organization_id, its requester not a contact in the directory",
            "5",
        ),
        (
            _without("organization_id", "requester_id"),
            WITH_CONTACT,
            "ticket opened without organization_id nor requester_id",
            "zendesk:47 (audit 1001)",
        ),
    ],
    ids=["requester-unknown", "requester-an-agent", "no-requester"],
)
def test_an_opened_ticket_whose_customer_nothing_names_is_unmapped_never_guessed(
    audit: dict[str, Any], identities: Identities, reason: str, example: str
) -> None:
    result = ZENDESK.map(ZENDESK.parse(audit), identities)
    assert result == Unmapped(reason=reason, example=example)


# -- the incremental ticket-event export ------------------------------------------------


def test_a_ticket_event_maps_to_the_same_steps_as_its_audit() -> None:
    """Same ids, times, tickets, customers and agents: the audit and its ticket event are
    one update, stored once whichever export (or both) is ingested."""
    from_event = ZENDESK.map(ZENDESK.parse(DOCS_TICKET_EVENT), DIRECTORY)
    from_audit = ZENDESK.map(ZENDESK.parse(DOCS_CREATE), DIRECTORY)
    assert isinstance(from_event, Mapped)
    assert isinstance(from_audit, Mapped)
    assert [_plain(r) for r in from_event.records] == [_plain(r) for r in GOLDEN[0][2]]
    assert [_plain(r) for r in from_event.records] == [_plain(r) for r in from_audit.records]
    assert from_event.records[0].extra["zendesk_via"] == "Web form"  # type: ignore[union-attr]


def test_a_ticket_event_with_only_a_timestamp_closes_the_ticket() -> None:
    result = ZENDESK.map(ZENDESK.parse(DOCS_SOLVED_EVENT), DIRECTORY)
    assert isinstance(result, Mapped)
    assert [_plain(r) for r in result.records] == [_plain(r) for r in GOLDEN[2][2]]


def test_the_opened_step_s_id_does_not_depend_on_the_order_of_the_events() -> None:
    """The smallest Create id names `opened`: an export listing the events in another
    order still gives the audit's id."""
    shuffled = {**DOCS_TICKET_EVENT, "child_events": DOCS_TICKET_EVENT["child_events"][::-1]}
    result = ZENDESK.map(ZENDESK.parse(shuffled), DIRECTORY)
    assert isinstance(result, Mapped)
    assert {r.id for r in result.records} == {"zendesk:1001:2002", "zendesk:1001:2006"}


def test_a_ticket_event_without_organisation_takes_the_requester_s_customer() -> None:
    children = [c for c in DOCS_TICKET_EVENT["child_events"] if "organization_id" not in c]
    event = {**DOCS_TICKET_EVENT, "child_events": children}
    result = ZENDESK.map(ZENDESK.parse(event), WITH_CONTACT)
    assert isinstance(result, Mapped)
    assert result.records[0].customer == "c-7"  # type: ignore[union-attr]


def test_a_ticket_event_of_comments_only_is_counted() -> None:
    event = {**DOCS_SOLVED_EVENT, "child_events": DOCS_SOLVED_EVENT["child_events"][1:]}
    assert ZENDESK.map(ZENDESK.parse(event), DIRECTORY) == Skipped(
        event_type="ticket audit without a step"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"child_events": {"event_type": "Create"}}, "child_events"),
        ({"child_events": [3]}, "child_events[0]"),
        ({"child_events": [{"id": 1, "status": "open"}]}, "child_events[0].event_type"),
        (
            {"child_events": [{"id": 1, "event_type": "Change", "status": 3}]},
            "child_events[0].status",
        ),
        (
            {"child_events": [{"event_type": "Change", "status": "solved"}]},
            "child_events[0].id",
        ),
        (
            {"child_events": [{"id": 1, "event_type": "Create", "assignee_id": "me"}]},
            "child_events[0].assignee_id",
        ),
        (
            {"child_events": [{"id": 1, "event_type": "Create", "status": "new", "group_id": 2}]},
            "child_events[0]",
        ),
        ({"id": "x"}, "id"),
        ({"updater_id": "someone"}, "updater_id"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": -1}, "timestamp"),
        ({"via": 5}, "via"),
    ],
)
def test_bad_ticket_event_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        ZENDESK.parse({**DOCS_SOLVED_EVENT, **change})
    assert caught.value.field == field


def test_the_audit_log_becomes_an_audit_event_by_the_directory_s_agent() -> None:
    result = ZENDESK.map(ZENDESK.parse(DOCS_AUDIT_LOG), DIRECTORY)
    assert isinstance(result, Mapped)
    (audit,) = result.records
    assert isinstance(audit, AuditEvent)
    assert (audit.id, audit.time, audit.action, audit.actor, audit.subject) == (
        "zendesk:audit_log:498483",
        datetime(2012, 3, 5, 11, 32, 44, tzinfo=UTC),
        "zendesk.user.update",
        "a-2",
        "zendesk_user:3",
    )
    assert dict(audit.details) == {
        "source": "zendesk",
        "zendesk_actor": "361",
        "source_type": "user",
        "source_id": "3",
        "source_label": "Bob Example",
        "change_description": "Role changed from Agent to Administrator",
        "ip": "209.119.38.228",
    }


def test_an_audit_log_actor_not_in_the_directory_is_unmapped_with_id_and_name() -> None:
    result = ZENDESK.map(ZENDESK.parse({**DOCS_AUDIT_LOG, "actor_id": 5}), DIRECTORY)
    assert result == Unmapped(reason="Zendesk user not in the directory", example="5 (Ann Example)")


def test_the_registry_names_zendesk() -> None:
    assert source_named("zendesk") is ZENDESK


# -- the real samples -------------------------------------------------------------------

# Every real sample's outcome with a directory naming every user and organisation id it
# holds (so nothing is unmapped for want of a directory row): a new refusal or a new
# reason fails here.
EXPECTED_SAMPLES = Counter(
    {
        "audit event": 21,  # the 21 audit-log entries
        "skipped: ticket audit without a step": 101,  # comments, tags, priority...
        "skipped: activity": 2,
        # No audit sets organization_id; each sets its requester, a contact's customer.
        "ticket steps": 11,
    }
)


def _every_id() -> Identities:
    ids: dict[tuple[str, str], tuple[str, str]] = {}
    owners: dict[tuple[str, str], str] = {}
    for line in (SAMPLES / "events.jsonl").read_text().splitlines():
        obj = json.loads(line)
        for key in ("author_id", "actor_id"):
            if isinstance(obj.get(key), int):
                ids[("zendesk", str(obj[key]))] = (AGENT, f"a-{obj[key]}")
        for event in obj.get("events", []):
            if event.get("field_name") == "assignee_id" and event.get("value"):
                ids[("zendesk", str(event["value"]))] = (AGENT, f"a-{event['value']}")
            if event.get("field_name") == "requester_id" and event.get("value"):
                contact = f"k-{event['value']}"
                ids[("zendesk_user", str(event["value"]))] = (CONTACT, contact)
                owners[(CONTACT, contact)] = "c-1"
    return Identities(ids=ids, owners=owners)


def test_every_real_sample_maps_is_counted_or_is_refused_for_a_named_reason() -> None:
    identities = _every_id()
    outcomes: Counter[str] = Counter()
    lines = (SAMPLES / "events.jsonl").read_text().splitlines()
    assert len(lines) == 135
    for line in lines:
        try:
            result = ZENDESK.map(ZENDESK.parse(json.loads(line)), identities)
        except InvalidField as exc:
            outcomes[f"refused: {exc.field}"] += 1
            continue
        if isinstance(result, Mapped):
            kinds = {type(r).__name__ for r in result.records}
            outcomes["audit event" if kinds == {"AuditEvent"} else "ticket steps"] += 1
        elif isinstance(result, Skipped):
            outcomes[f"skipped: {result.event_type}"] += 1
        else:
            outcomes[f"unmapped: {result.reason}"] += 1
    assert outcomes == EXPECTED_SAMPLES


def test_a_real_audit_with_an_organisation_set_maps_to_opened_and_assigned() -> None:
    # The first audit of the sample ticket (events.jsonl line 23), with the organisation a
    # ticket of a requester in one would carry added: the rest is Zendesk's own.
    line = (SAMPLES / "events.jsonl").read_text().splitlines()[22]
    audit = json.loads(line)
    audit["events"].append(
        {"id": 21078967, "type": "Create", "field_name": "organization_id", "value": 9001}
    )
    identities = Identities(
        ids={("zendesk", "20014182"): (AGENT, "a-1"), ("zendesk_org", "9001"): (CUSTOMER, "c-1")}
    )
    result = ZENDESK.map(ZENDESK.parse(audit), identities)
    assert isinstance(result, Mapped)
    assert [(r.id, r.event, r.customer, r.agent) for r in result.records] == [  # type: ignore[union-attr]
        ("zendesk:21078917:21078927", TicketStep.OPENED, "c-1", None),
        ("zendesk:21078917:21078937", TicketStep.ASSIGNED, None, "a-1"),
    ]


def test_a_real_audit_without_organisation_takes_its_requester_s_customer() -> None:
    """The same audit unchanged: its requester (user 20014182, who also assigned it to
    themselves, Zendesk's sample ticket) is a contact of c-4 in this directory."""
    audit = json.loads((SAMPLES / "events.jsonl").read_text().splitlines()[22])
    identities = Identities(
        ids={
            ("zendesk", "20014182"): (AGENT, "a-1"),
            ("zendesk_user", "20014182"): (CONTACT, "k-4-1"),
        },
        owners={(CONTACT, "k-4-1"): "c-4"},
    )
    result = ZENDESK.map(ZENDESK.parse(audit), identities)
    assert isinstance(result, Mapped)
    opened = result.records[0]
    assert (opened.id, opened.event, opened.customer) == (  # type: ignore[union-attr]
        "zendesk:21078917:21078927",
        TicketStep.OPENED,
        "c-4",
    )


# -- random objects: mapped, counted or refused, never a crash -------------------------

_TEXT = st.text(max_size=6)
_ID = st.one_of(st.integers(min_value=-2, max_value=10**12), st.sampled_from(["361", "9001", "x"]))
_VALUE = st.one_of(st.none(), _ID, _TEXT, st.sampled_from(["solved", "closed", "open"]))


def _objects() -> st.SearchStrategy[Any]:
    event = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["Create", "Change", "Comment"]), _TEXT, st.none())},
        optional={
            "id": _ID,
            "field_name": st.sampled_from(
                ["status", "assignee_id", "organization_id", "priority", "tags"]
            ),
            "value": _VALUE,
            "previous_value": _VALUE,
        },
    )
    time = st.one_of(_TEXT, st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()))
    audit = st.fixed_dictionaries(
        {"ticket_id": _ID},
        optional={
            "id": _ID,
            "created_at": time,
            "author_id": _ID,
            "via": st.one_of(_TEXT, st.fixed_dictionaries({"channel": _VALUE})),
            "events": st.one_of(_TEXT, st.lists(st.one_of(event, _TEXT), max_size=5)),
        },
    )
    log = st.fixed_dictionaries(
        {"action": st.one_of(_TEXT, st.just("update")), "actor_id": _ID},
        optional={"id": _ID, "created_at": time, "source_type": _VALUE, "source_id": _VALUE},
    )
    child = st.fixed_dictionaries(
        {"event_type": st.one_of(st.sampled_from(["Create", "Change", "Comment"]), _TEXT)},
        optional={
            "id": _ID,
            "status": _VALUE,
            "assignee_id": _VALUE,
            "organization_id": _VALUE,
            "requester_id": _VALUE,
            "previous_value": _VALUE,
            "subject": _VALUE,
        },
    )
    ticket_event = st.fixed_dictionaries(
        {"child_events": st.one_of(_TEXT, st.lists(st.one_of(child, _TEXT), max_size=5))},
        optional={
            "id": _ID,
            "ticket_id": _ID,
            "created_at": time,
            "timestamp": st.one_of(st.integers(min_value=-5, max_value=10**12), _TEXT),
            "updater_id": _ID,
            "via": st.one_of(_TEXT, st.none(), st.fixed_dictionaries({"channel": _VALUE})),
        },
    )
    return st.one_of(audit, ticket_event, log, st.dictionaries(_TEXT, _VALUE, max_size=3))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_objects())
def test_random_objects_map_are_counted_or_are_refused_never_crash(obj: Any) -> None:
    try:
        parsed = ZENDESK.parse(obj)
    except InvalidField as exc:
        refused_by_name = bool(exc.field)
        assert refused_by_name
        return
    for identities in (DIRECTORY, WITH_CONTACT):
        result = ZENDESK.map(parsed, identities)
        assert isinstance(result, Mapped | Skipped | Unmapped)
        if isinstance(result, Mapped):
            assert all(r.id.startswith("zendesk:") for r in result.records)
            assert len({r.id for r in result.records}) == len(result.records)


# -- bad input: refused with the field ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "abc"}, "id"),
        ({"ticket_id": -3}, "ticket_id"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": None}, "created_at"),
        ({"events": None}, "events"),
        ({"events": {"type": "Create"}}, "events"),
        ({"events": [7]}, "events[0]"),
        ({"events": [{"field_name": "status"}]}, "events[0].type"),
        ({"events": [{"type": "Create", "value": "x"}]}, "events[0].field_name"),
        ({"events": [{"type": "Change", "field_name": "status", "value": 3}]}, "events[0].id"),
        (
            {"events": [{"id": 1, "type": "Change", "field_name": "status", "value": 3}]},
            "events[0].value",
        ),
        (
            {"events": [{"id": 1, "type": "Create", "field_name": "assignee_id", "value": "a"}]},
            "events[0].value",
        ),
        ({"via": {"channel": 5}}, "via.channel"),
    ],
)
def test_bad_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        ZENDESK.parse({**DOCS_CREATE, **change})
    assert caught.value.field == field


def test_an_oddity_in_a_field_vigile_does_not_read_refuses_nothing() -> None:
    events = [{"id": 3, "type": "Create", "field_name": "tags", "value": {"x": 1}}]
    assert isinstance(ZENDESK.map(ZENDESK.parse({**DOCS_CREATE, "events": events}), DIRECTORY),
                      Unmapped)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [({"actor_id": "me"}, "actor_id"), ({"action": 3}, "action"), ({"id": None}, "id")],
)
def test_bad_audit_log_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        ZENDESK.parse({**DOCS_AUDIT_LOG, **change})
    assert caught.value.field == field


def test_another_vendor_s_record_is_not_a_zendesk_object() -> None:
    okta = {"uuid": "u", "published": "2023-03-26T21:05:32Z", "eventType": "user.session.start"}
    with pytest.raises(InvalidField, match="not a Zendesk ticket audit") as caught:
        ZENDESK.parse(okta)
    assert caught.value.field == "events"
