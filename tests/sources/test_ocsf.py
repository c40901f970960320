"""OCSF 1.x adapter: golden records from OCSF's class definitions, the real samples,
the round trip of Vigile's own OCSF export, random events, bad input.

The golden events below are written by hand from OCSF 1.3.0's Authentication (3002) and
API Activity (6003) classes (schema.ocsf.io: ``metadata.uid``, ``time`` in epoch
milliseconds, ``activity_id``, ``status_id``, ``user``, ``session``, ``src_endpoint``
with ``location.lat``/``long``, ``http_request.user_agent``, ``is_mfa``;
``actor.user``, ``actor.session``, ``api.operation``, ``resources[]``) and
docs/sources.md's mapping table, not from the adapter.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigile.activitylog.ocsf import access_event, authentication
from vigile.model import Access, Action, Reason, SignIn
from vigile.sources import Identities, Mapped, Skipped, Unmapped, source_named
from vigile.sources.base import AGENT, CUSTOMER, InvalidField
from vigile.sources.ocsf import OCSF

SAMPLES = Path(__file__).parent / "ocsf"
DIRECTORY = Identities(
    ids={
        ("ocsf", "ann@contoso.example"): (AGENT, "a-1"),
        ("ocsf", "a-2"): (AGENT, "a-2"),
        ("ocsf_customer", "crm-412"): (CUSTOMER, "c-412"),
        ("ocsf_customer", "c-7"): (CUSTOMER, "c-7"),
    }
)
T0 = datetime(2024, 5, 1, 8, 0, 0, 123000, tzinfo=UTC)
MS = 1714550400123  # T0 in epoch milliseconds

# Authentication: Logon, Success, by a user known by e-mail, MFA stated false.
LOGON: dict[str, Any] = {
    "class_uid": 3002,
    "category_uid": 3,
    "activity_id": 1,
    "type_uid": 300201,
    "time": MS,
    "severity_id": 1,
    "status_id": 1,
    "metadata": {"version": "1.3.0", "uid": "evt-1", "product": {"name": "Acme IdP"}},
    "user": {"uid": "00u-77", "email_addr": "Ann@Contoso.example", "name": "Ann"},
    "session": {"uid": "sess-9"},
    "src_endpoint": {
        "ip": "198.51.100.23",
        "uid": "dev-3",
        "location": {"country": "IE", "lat": 53.35, "long": -6.26},
    },
    "http_request": {"user_agent": "Mozilla/5.0"},
    "is_mfa": False,
}
# API Activity: Read of a contact of a customer, denied.
READ_CONTACT: dict[str, Any] = {
    "class_uid": 6003,
    "category_uid": 6,
    "activity_id": 2,
    "type_uid": 600302,
    "time": MS,
    "severity_id": 1,
    "status_id": 2,
    "status_detail": "no ticket",
    "metadata": {"version": "1.1.0", "uid": "evt-2", "product": {"name": "Acme CRM"}},
    "actor": {"user": {"uid": "A-2"}, "session": {"uid": "sess-9"}},
    "src_endpoint": {"ip": "198.51.100.23"},
    "api": {"operation": "GET /contacts/k-1"},
    "resources": [{"uid": "CRM-412", "type": "customer"}, {"uid": "k-1", "type": "contact"}],
}


def test_a_logon_maps_to_a_signin_field_by_field() -> None:
    result = OCSF.map(OCSF.parse(LOGON), DIRECTORY)
    assert result == Mapped(
        records=(
            SignIn(
                id="ocsf:evt-1",
                time=T0,
                agent="a-1",  # by user.email_addr, compared in lower case
                session="ocsf:sess-9",
                outcome="success",
                ip="198.51.100.23",
                country="IE",
                lat=53.35,
                lon=-6.26,
                device="dev-3",
                user_agent="Mozilla/5.0",
                mfa="none",
                extra=MappingProxyType(
                    {
                        "source": "ocsf",
                        "ocsf_version": "1.3.0",
                        "ocsf_product": "Acme IdP",
                        "ocsf_user": "00u-77",
                    }
                ),
            ),
        )
    )


def test_a_failed_logon_without_session_is_a_session_of_its_own() -> None:
    event = {**LOGON, "status_id": 2, "session": None, "is_mfa": True}
    (signin,) = _mapped(event)
    assert isinstance(signin, SignIn)
    assert (signin.outcome, signin.session, signin.mfa) == ("failure", "ocsf:evt-1", None)


@pytest.mark.parametrize(
    ("change", "counted"),
    [
        ({"activity_id": 2}, "3002:activity 2"),  # Logoff
        ({"status_id": 0}, "3002:status 0"),
        ({"class_uid": 3005}, "3005"),
        ({"class_uid": 4001}, "4001"),
    ],
)
def test_what_vigile_does_not_read_is_counted(change: dict[str, Any], counted: str) -> None:
    assert OCSF.map(OCSF.parse({**LOGON, **change}), DIRECTORY) == Skipped(event_type=counted)


def test_an_unknown_user_is_kept_aside_with_an_example() -> None:
    event = {**LOGON, "user": {"uid": "00u-99", "name": "eve"}}
    assert OCSF.map(OCSF.parse(event), DIRECTORY) == Unmapped(
        reason="OCSF user not in the directory", example="00u-99"
    )
    no_ip = {**LOGON, "src_endpoint": {}}
    assert OCSF.map(OCSF.parse(no_ip), DIRECTORY) == Unmapped(
        reason="sign-in without src_endpoint.ip", example="evt-1"
    )


def test_a_read_naming_a_customer_and_a_contact_maps_to_a_contact_view() -> None:
    (access,) = _mapped(READ_CONTACT)
    assert access == Access(
        id="ocsf:evt-2",
        time=T0,
        agent="a-2",
        session="ocsf:sess-9",
        action=Action.CONTACT_VIEW,
        outcome="denied",
        customer="c-412",
        ip="198.51.100.23",
        object="k-1",
        deny_reason="no ticket",
        extra=MappingProxyType(
            {
                "source": "ocsf",
                "ocsf_version": "1.1.0",
                "ocsf_product": "Acme CRM",
                "ocsf_user": "A-2",
                "ocsf_operation": "GET /contacts/k-1",
            }
        ),
    )


def test_api_activity_without_a_customer_or_an_action_is_counted() -> None:
    nothing = {**READ_CONTACT, "resources": [{"uid": "i-1", "type": "instance"}]}
    assert OCSF.map(OCSF.parse(nothing), DIRECTORY) == Skipped(
        event_type="6003:no customer resource"
    )
    create = {**READ_CONTACT, "activity_id": 1, "api": {"operation": "CreateLoadBalancer"}}
    assert OCSF.map(OCSF.parse(create), DIRECTORY) == Skipped(event_type="6003:CreateLoadBalancer")
    stranger = {**READ_CONTACT, "resources": [{"uid": "crm-999", "type": "customer"}]}
    assert OCSF.map(OCSF.parse(stranger), DIRECTORY) == Unmapped(
        reason="OCSF customer not in the directory", example="crm-999"
    )


def _mapped(event: dict[str, Any]) -> tuple[Any, ...]:
    result = OCSF.map(OCSF.parse(event), DIRECTORY)
    assert isinstance(result, Mapped), result
    return result.records


def test_the_source_is_registered() -> None:
    assert source_named("ocsf") is OCSF


# -- Vigile's own export read back -----------------------------------------------------

ROUND = Identities(
    ids={
        ("ocsf", "a-2"): (AGENT, "a-2"),
        ("ocsf_customer", "c-7"): (CUSTOMER, "c-7"),
        ("ocsf_customer", "c-8"): (CUSTOMER, "c-8"),
    }
)
RECORDS: list[SignIn | Access] = [
    SignIn(
        id="e-1",
        time=T0,
        agent="a-2",
        session="s-1",
        outcome="success",
        ip="203.0.113.5",
        country="IE",
        lat=53.35,
        lon=-6.26,
        device="d-77",
        user_agent="Mozilla/5.0",
        mfa="push",
    ),
    SignIn(id="e-2", time=T0, agent="a-2", session="s-2", outcome="failure", ip="203.0.113.5"),
    SignIn(id="e-3", time=T0, agent="a-2", session="s-3", outcome="success", ip="::1", mfa="none"),
    Access(
        id="e-4",
        time=T0,
        agent="a-2",
        session="s-1",
        action=Action.CONTACT_REVEAL,
        outcome="allowed",
        customer="c-7",
        ip="203.0.113.5",
        fields=("customer.name", "contact.email"),
        masked_fields=("contact.phone",),
        object="k-1",
        ticket="T-100",
        reason=Reason.CUSTOMER_INITIATED_SUPPORT,
    ),
    Access(
        id="e-5",
        time=T0,
        agent="a-2",
        session="s-1",
        action=Action.CUSTOMER_SEARCH,
        outcome="allowed",
        query="acme",
        results=("c-7", "c-8"),
    ),
    Access(
        id="e-6",
        time=T0,
        agent="a-2",
        session="s-1",
        action=Action.CUSTOMER_VIEW,
        outcome="denied",
        customer="c-8",
        fields=("customer.tier",),
        deny_reason="no grant",
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.id)
def test_vigile_s_own_ocsf_export_reads_back_as_the_same_record(record: SignIn | Access) -> None:
    event = authentication(record) if isinstance(record, SignIn) else access_event(record)
    event = json.loads(json.dumps(event))  # as written to the file
    (back,) = _mapped_with(event, ROUND)
    assert back == replace(
        record,
        id=f"ocsf:{record.id}",
        session=f"ocsf:{record.session}",
        extra=back.extra,
    )
    assert back.extra == {
        "source": "ocsf",
        "ocsf_version": "1.3.0",
        "ocsf_product": "Vigile",
        "ocsf_user": "a-2",
    }


def _mapped_with(event: dict[str, Any], identities: Identities) -> tuple[Any, ...]:
    result = OCSF.map(OCSF.parse(event), identities)
    assert isinstance(result, Mapped), result
    return result.records


# -- the real samples ------------------------------------------------------------------


def _samples() -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    events = (SAMPLES / "events.jsonl").read_text().splitlines()
    provenance = (SAMPLES / "provenance.jsonl").read_text().splitlines()
    return [
        (n, json.loads(e), json.loads(p))
        for n, (e, p) in enumerate(zip(events, provenance, strict=True), start=1)
    ]


def test_every_real_sample_maps_is_counted_or_is_refused_for_a_named_reason() -> None:
    """Amazon Security Lake's samples (OCSF 1.0.0-rc.2 CloudTrail, 1.1.0 EKS): the three
    ConsoleLogin Logons map (anaya in the directory); AssumeRole* have status 0, CheckMfa
    activity 99; rc.2's API Activity is class 3005 (User Access Management from 1.0); the
    EKS 6003 row has no ``metadata.uid`` and is refused by name."""
    everyone = Identities(ids={("ocsf", "aidackcevsq6c2example"): (AGENT, "a-anaya")})
    mapped: list[Any] = []
    skipped, refused = Counter[str](), {}
    for line, event, _ in _samples():
        try:
            result = OCSF.map(OCSF.parse(event), everyone)
        except InvalidField as exc:
            refused[line] = exc.field
            continue
        if isinstance(result, Mapped):
            mapped.extend(result.records)
        else:
            assert isinstance(result, Skipped), (line, result)
            skipped[result.event_type] += 1
    assert refused == {15: "metadata.uid"}
    assert skipped == {"3005": 7, "3002:status 0": 3, "3002:activity 99": 1}
    assert [(s.id, s.outcome, s.mfa) for s in mapped] == [
        ("ocsf:d38ce1b3-4575-4cb8-a632-611b8243bfc3", "failure", None),  # mfa: true
        ("ocsf:fed06f42-cb12-4764-8c69-121063dc79b9", "success", None),
        ("ocsf:3fcfb182-98f8-4744-bd45-10a395ab61cb", "success", "none"),  # mfa: false
    ]
    assert {(s.agent, s.ip, s.time) for s in mapped} == {
        ("a-anaya", "192.0.2.0", datetime(2022, 11, 10, 16, 24, 34, tzinfo=UTC))
    }


# -- random events: mapped, skipped, unmapped or refused with a field, never a crash ---

_ANY = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.booleans(), st.floats())


def _events() -> st.SearchStrategy[Any]:
    user = st.one_of(
        _ANY,
        st.fixed_dictionaries(
            {}, optional={"uid": st.sampled_from(["a-2", "x"]), "email_addr": _ANY, "name": _ANY}
        ),
    )
    resource = st.fixed_dictionaries(
        {},
        optional={
            "uid": st.one_of(st.sampled_from(["c-7", "crm-412", "k-1"]), _ANY),
            "type": st.one_of(st.sampled_from(["customer", "contact", "Account"]), _ANY),
            "data": st.one_of(_ANY, st.fixed_dictionaries({"fields": st.lists(_ANY)})),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "class_uid": st.one_of(st.sampled_from([3002, 6003, 3005]), _ANY),
            "metadata": st.one_of(_ANY, st.fixed_dictionaries({"uid": _ANY})),
            "time": st.one_of(_ANY, st.integers(min_value=-1, max_value=2**53)),
            "activity_id": st.one_of(st.sampled_from([1, 2, 99]), _ANY),
            "status_id": st.one_of(st.sampled_from([1, 2, 0]), _ANY),
            "user": user,
            "actor": st.one_of(_ANY, st.fixed_dictionaries({"user": user})),
            "session": st.one_of(_ANY, st.fixed_dictionaries({"uid": _ANY})),
            "src_endpoint": st.one_of(
                _ANY,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "ip": st.one_of(st.sampled_from(["192.0.2.1", "nope"]), _ANY),
                        "location": st.fixed_dictionaries(
                            {}, optional={"lat": _ANY, "long": _ANY, "country": _ANY}
                        ),
                    },
                ),
            ),
            "is_mfa": _ANY,
            "api": st.one_of(
                _ANY,
                st.fixed_dictionaries(
                    {"operation": st.one_of(st.sampled_from(["customer.search", "x"]), _ANY)}
                ),
            ),
            "resources": st.one_of(_ANY, st.lists(resource, max_size=3)),
            "unmapped": st.one_of(
                _ANY,
                st.dictionaries(st.sampled_from(["mfa", "justification", "query"]), _ANY),
                st.lists(st.lists(_ANY, max_size=3), max_size=2),
            ),
        },
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(event=_events())
def test_random_events_map_are_counted_or_are_refused_never_crash(event: Any) -> None:
    try:
        parsed = OCSF.parse(event)
    except InvalidField as exc:
        refused_by_name = bool(exc.field)
        assert refused_by_name
        return
    result = OCSF.map(parsed, ROUND)
    assert isinstance(result, Mapped | Skipped | Unmapped)
    if isinstance(result, Mapped):
        assert all(r.id == f"ocsf:{event['metadata']['uid']}" for r in result.records)


# -- bad input: refused with the field ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metadata": {"version": "1.3.0"}}, "metadata.uid"),
        ({"metadata": {"uid": ""}}, "metadata.uid"),
        ({"metadata": "x"}, "metadata"),
        ({"class_uid": None}, "class_uid"),
        ({"class_uid": "3002"}, "class_uid"),
        ({"time": None}, "time"),
        ({"time": "2024-05-01T08:00:00Z"}, "time"),
        ({"time": -1}, "time"),
        ({"user": {"uid": 7}}, "user.uid"),
        ({"src_endpoint": {"ip": 3}}, "src_endpoint.ip"),
        ({"src_endpoint": {"location": {"lat": 91}}}, "src_endpoint.location.lat"),
        ({"is_mfa": "yes"}, "is_mfa"),
        ({"unmapped": "x"}, "unmapped"),
        ({"session": {"uid": "s\x00"}}, "session.uid"),
    ],
)
def test_bad_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        OCSF.parse({**LOGON, **change})
    assert caught.value.field == field


def test_bad_resources_are_refused_by_name() -> None:
    with pytest.raises(InvalidField) as caught:
        OCSF.parse({**READ_CONTACT, "resources": [{"uid": "c"}, {"data": {"fields": [1]}}]})
    assert caught.value.field == "resources[1].data.fields"
