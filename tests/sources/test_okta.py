"""Okta's System Log adapter: golden records from Okta's documentation, the real
samples, random LogEvents, bad input.

The golden records below are written by hand from Okta's LogEvent reference (System Log
API, developer.okta.com: ``uuid``, ``published``, ``eventType``, ``outcome.result``,
``actor.alternateId``, ``client.ipAddress``, ``client.userAgent.rawUserAgent``,
``client.geographicalContext.geolocation``, ``authenticationContext.externalSessionId``,
``debugContext.debugData``) and docs/sources.md's mapping table, not from the adapter.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigile.model import AuditEvent, SignIn
from vigile.sources import Identities, Mapped, Skipped, Unmapped, source_named
from vigile.sources.base import AGENT, InvalidField, Lost
from vigile.sources.okta import OKTA

SAMPLES = Path(__file__).parent / "okta"
DIRECTORY = Identities(
    ids={
        ("okta", "admin@okta.com"): (AGENT, "a-1"),
        ("okta", "homer.simpson@duff.com"): (AGENT, "a-2"),
        ("okta", "admin@example.com"): (AGENT, "a-3"),
    }
)

# Okta's own example of a ``user.session.start`` (the event hooks page of Okta's developer
# docs; tests/sources/okta/events.jsonl line 71), trimmed to the fields Vigile reads.
DOCS_SESSION_START: dict[str, Any] = {
    "uuid": "f1d0b993-cc19-11ed-a688-db22c99ef6c4",
    "published": "2023-03-26T21:05:32.159Z",
    "eventType": "user.session.start",
    "actor": {"id": "00uz9fj5aT69fHVro1d6", "type": "User", "alternateId": "admin@okta.com"},
    "client": {
        "userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh) Chrome/111.0.0.0"},
        "device": "Computer",
        "ipAddress": "142.126.158.61",
        "geographicalContext": {
            "city": "Toronto",
            "country": "Canada",
            "geolocation": {"lat": 43.6567, "lon": -79.34},
        },
    },
    "outcome": {"result": "SUCCESS", "reason": None},
    "debugContext": {"debugData": {"deviceFingerprint": "3411ee4c591b2229f3bea251e12e0c1a"}},
    "authenticationContext": {"credentialType": None, "externalSessionId": "idxyNcxV"},
}
# A sign-on policy that denied (the LogEvent reference: outcome.result DENY).
DOCS_POLICY_DENY: dict[str, Any] = {
    "uuid": "0b6f8f3e-0000-11ee-0000-000000000001",
    "published": "2023-03-26T21:06:00.000Z",
    "eventType": "policy.evaluate_sign_on",
    "actor": {"id": "00u1", "type": "User", "alternateId": "Admin@Okta.com"},
    "client": {"ipAddress": "203.0.113.9"},
    "outcome": {"result": "DENY", "reason": "Sign-on policy evaluation resulted in DENY"},
    "authenticationContext": {"externalSessionId": "unknown"},
}
# MFA by Okta Verify push (debugData.factor, as Okta writes it for auth_via_mfa).
DOCS_MFA_PUSH: dict[str, Any] = {
    "uuid": "0b6f8f3e-0000-11ee-0000-000000000002",
    "published": "2023-03-26T21:07:00+02:00",
    "eventType": "user.authentication.auth_via_mfa",
    "actor": {"id": "00u1", "type": "User", "alternateId": "admin@okta.com"},
    "client": {"ipAddress": "142.126.158.61"},
    "outcome": {"result": "SUCCESS"},
    "authenticationContext": {"externalSessionId": "idxyNcxV", "credentialType": "OTP"},
    "debugContext": {"debugData": {"factor": "OKTA_VERIFY_PUSH"}},
}
DOCS_IMPERSONATION: dict[str, Any] = {
    "uuid": "0b6f8f3e-0000-11ee-0000-000000000003",
    "published": "2022-03-22T14:21:53.225Z",
    "eventType": "user.session.impersonation.grant",
    "actor": {"id": "00u2", "type": "User", "alternateId": "homer.simpson@duff.com"},
    "client": {"ipAddress": "1.1.1.1"},
    "outcome": {"result": "SUCCESS"},
    "target": [{"id": "00u3", "type": "User", "alternateId": "peter.griffin@company.com"}],
}

GOLDEN: list[tuple[str, dict[str, Any], Any]] = [
    (
        "session start: IP, geolocation, user agent, device fingerprint, Okta session",
        DOCS_SESSION_START,
        SignIn(
            id="okta:f1d0b993-cc19-11ed-a688-db22c99ef6c4",
            time=datetime(2023, 3, 26, 21, 5, 32, 159000, tzinfo=UTC),
            agent="a-1",
            session="okta:idxyNcxV",
            outcome="success",
            ip="142.126.158.61",
            country="CA",  # ISO 3166-1: Canada is CA
            lat=43.6567,
            lon=-79.34,
            device="3411ee4c591b2229f3bea251e12e0c1a",
            user_agent="Mozilla/5.0 (Macintosh) Chrome/111.0.0.0",
            mfa=None,
        ),
    ),
    (
        "policy DENY: a failed sign-in; login matched case-insensitively; own session",
        DOCS_POLICY_DENY,
        SignIn(
            id="okta:0b6f8f3e-0000-11ee-0000-000000000001",
            time=datetime(2023, 3, 26, 21, 6, tzinfo=UTC),
            agent="a-1",
            session="okta:0b6f8f3e-0000-11ee-0000-000000000001",
            outcome="failure",
            ip="203.0.113.9",
        ),
    ),
    (
        "MFA by push, a time with an offset read in UTC",
        DOCS_MFA_PUSH,
        SignIn(
            id="okta:0b6f8f3e-0000-11ee-0000-000000000002",
            time=datetime(2023, 3, 26, 19, 7, tzinfo=UTC),
            agent="a-1",
            session="okta:idxyNcxV",
            outcome="success",
            ip="142.126.158.61",
            mfa="push",
        ),
    ),
]


def _without_extra(record: Any) -> Any:
    return replace(record, extra={})


@pytest.mark.parametrize(("name", "event", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_documented_events_map_to_the_expected_signins(
    name: str, event: dict[str, Any], expected: SignIn
) -> None:
    result = OKTA.map(OKTA.parse(event), DIRECTORY)
    assert isinstance(result, Mapped)
    (signin,) = result.records
    assert _without_extra(signin) == expected
    assert signin.extra["source"] == "okta"
    assert signin.extra["okta_event_type"] == event["eventType"]


def test_the_country_name_and_city_are_kept_as_extra() -> None:
    result = OKTA.map(OKTA.parse(DOCS_SESSION_START), DIRECTORY)
    assert isinstance(result, Mapped)
    assert result.records[0].extra["okta_country"] == "Canada"  # type: ignore[union-attr]
    assert result.records[0].extra["okta_city"] == "Toronto"  # type: ignore[union-attr]


# Okta writes the country's English name (MaxMind's, as the LogEvent reference's
# examples show: "United States"); the codes are ISO 3166-1's, written by hand.
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("United States", "US"),
        ("Canada", "CA"),
        ("United Kingdom", "GB"),
        ("Germany", "DE"),
        ("Ireland", "IE"),
        ("South Korea", "KR"),  # ISO's common name; its name is "Korea, Republic of"
        ("Czechia", "CZ"),
        ("united states", "US"),
    ],
)
def test_the_country_name_becomes_its_iso_3166_code(name: str, code: str) -> None:
    event = _with_country(name)
    result = OKTA.map(OKTA.parse(event), DIRECTORY)
    assert isinstance(result, Mapped)
    assert result.records[0].country == code  # type: ignore[union-attr]
    assert result.lost == ()


@pytest.mark.parametrize("name", ["Russia", "Atlantis", "Kanada", "Korea", "  "])
def test_a_country_name_iso_3166_does_not_list_leaves_no_country_and_is_counted(
    name: str,
) -> None:
    """``Russia`` is ISO's "Russian Federation", ``Korea`` two countries: no nearby name
    is taken for a country; the sign-in is stored without one, the loss reported."""
    result = OKTA.map(OKTA.parse(_with_country(name)), DIRECTORY)
    assert isinstance(result, Mapped)
    assert result.records[0].country is None  # type: ignore[union-attr]
    assert result.records[0].extra["okta_country"] == name  # type: ignore[union-attr]
    assert result.lost == (
        Lost(reason="Okta country name not in ISO 3166: no country", example=name),
    )


def _with_country(name: str) -> dict[str, Any]:
    client = DOCS_SESSION_START["client"]
    geo = {**client["geographicalContext"], "country": name}
    return {**DOCS_SESSION_START, "client": {**client, "geographicalContext": geo}}


def test_impersonation_is_recorded_as_an_audit_event() -> None:
    result = OKTA.map(OKTA.parse(DOCS_IMPERSONATION), DIRECTORY)
    assert isinstance(result, Mapped)
    (audit,) = result.records
    assert isinstance(audit, AuditEvent)
    assert (audit.id, audit.action, audit.actor, audit.subject) == (
        "okta:0b6f8f3e-0000-11ee-0000-000000000003",
        "okta.user.session.impersonation.grant",
        "a-2",
        "peter.griffin@company.com",
    )
    assert audit.details["ip"] == "1.1.1.1"


def test_an_actor_not_in_the_directory_is_unmapped_with_its_login() -> None:
    result = OKTA.map(OKTA.parse(DOCS_SESSION_START), Identities())
    assert result == Unmapped(reason="Okta login not in the directory", example="admin@okta.com")


@pytest.mark.parametrize(
    ("event_type", "result", "counted_as"),
    [
        ("user.account.lock", "SUCCESS", "user.account.lock"),
        ("policy.evaluate_sign_on", "CHALLENGE", "policy.evaluate_sign_on:CHALLENGE"),
        ("user.authentication.sso", None, "user.authentication.sso:no outcome"),
    ],
)
def test_unsupported_types_and_outcomes_are_skipped_by_name(
    event_type: str, result: str | None, counted_as: str
) -> None:
    event = {**DOCS_SESSION_START, "eventType": event_type, "outcome": {"result": result}}
    assert OKTA.map(OKTA.parse(event), DIRECTORY) == Skipped(event_type=counted_as)


def test_the_registry_names_okta() -> None:
    assert source_named("okta") is OKTA


# -- the real samples (tests/sources/okta/SOURCE.md) -----------------------------------


def _samples() -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    events = (SAMPLES / "events.jsonl").read_text().splitlines()
    provenance = (SAMPLES / "provenance.jsonl").read_text().splitlines()
    return [
        (n, json.loads(e), json.loads(p))
        for n, (e, p) in enumerate(zip(events, provenance, strict=True), start=1)
    ]


def _is_read(event_type: str) -> bool:
    return event_type in ("user.session.start", "policy.evaluate_sign_on") or event_type.startswith(
        ("user.authentication.", "user.session.impersonation.")
    )


def test_every_real_sample_maps_is_counted_or_is_refused_for_a_named_reason() -> None:
    """Samples of a read type map (or are unmapped with a reason); the others are
    skipped by type; those refused are Panther's fixtures without ``uuid``, without
    ``published`` or with ``published`` "redacted", and Okta's old reference example
    dated 31 September (all listed here, so a new refusal fails the test)."""
    mapped, skipped, refused = 0, Counter[str](), {}
    everyone = Identities(ids=_every_login())
    for line, event, _ in _samples():
        try:
            result = OKTA.map(OKTA.parse(event), everyone)
        except InvalidField as exc:
            refused[line] = exc.field
            continue
        event_type = event.get("eventType") or event.get("eventtype")
        if isinstance(result, Mapped):
            assert _is_read(event_type)
            mapped += 1
        else:
            assert isinstance(result, Skipped), (line, result)
            skipped[result.event_type] += 1
    assert refused == {
        **dict.fromkeys([1, 2, 3, 53, 56, 57, 64, 65], "uuid"),
        **dict.fromkeys([37, 38, 39, 44, 45, 47, 66, 76], "published"),
    }
    assert mapped == 20
    assert skipped["policy.evaluate_sign_on:CHALLENGE"] == 5
    assert skipped["system.org.rate_limit.warning"] == 4
    assert sum(skipped.values()) == 76 - 16 - 20


def _every_login() -> dict[tuple[str, str], tuple[str, str]]:
    logins = set()
    for _, event, _ in _samples():
        actor = event.get("actor") or {}
        if isinstance(actor.get("alternateId"), str):
            logins.add(actor["alternateId"].lower())
    return {("okta", login): (AGENT, f"a-{n}") for n, login in enumerate(sorted(logins))}


def test_panther_lower_cased_samples_read_like_okta_s_spelling() -> None:
    # line 16: Panther's ``eventtype``/``authenticationcontext``, space-separated time
    _, event, _ = _samples()[15]
    result = OKTA.map(OKTA.parse(event), Identities(ids=_every_login()))
    assert isinstance(result, Mapped)
    (signin,) = result.records
    assert isinstance(signin, SignIn)
    assert (signin.session, signin.time) == (
        "okta:100-abc-9999",
        datetime(2022, 6, 22, 18, 18, 29, 15000, tzinfo=UTC),
    )


# -- random LogEvents: mapped, skipped, unmapped or refused with a field, never a crash --

_TEXT = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.booleans())
_EVENT_TYPES = st.sampled_from(
    [
        "user.session.start",
        "user.authentication.sso",
        "user.authentication.auth_via_mfa",
        "policy.evaluate_sign_on",
        "user.session.impersonation.initiate",
        "user.account.lock",
    ]
)


def _log_events() -> st.SearchStrategy[Any]:
    number = st.one_of(st.none(), st.floats(allow_nan=True), st.integers(), st.text(max_size=3))
    client = st.fixed_dictionaries(
        {},
        optional={
            "ipAddress": _TEXT,
            "userAgent": st.fixed_dictionaries({}, optional={"rawUserAgent": _TEXT}),
            "geographicalContext": st.fixed_dictionaries(
                {},
                optional={
                    "country": _TEXT,
                    "geolocation": st.fixed_dictionaries({"lat": number, "lon": number}),
                },
            ),
        },
    )
    return st.fixed_dictionaries(
        {"eventType": st.one_of(_EVENT_TYPES, _TEXT)},
        optional={
            "uuid": _TEXT,
            "published": st.one_of(
                _TEXT,
                st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
                st.sampled_from(["2022-06-22 18:18:29.015", "2017-09-31T22:23:07.777Z"]),
            ),
            "actor": st.one_of(
                _TEXT,
                st.fixed_dictionaries(
                    {"id": _TEXT},
                    optional={"alternateId": st.sampled_from(["admin@okta.com", "x@y"])},
                ),
            ),
            "client": st.one_of(_TEXT, client),
            "outcome": st.fixed_dictionaries(
                {"result": st.one_of(st.sampled_from(["SUCCESS", "DENY", "CHALLENGE"]), _TEXT)}
            ),
            "authenticationContext": st.fixed_dictionaries(
                {}, optional={"externalSessionId": _TEXT}
            ),
            "debugContext": st.fixed_dictionaries(
                {}, optional={"debugData": st.dictionaries(st.just("factor"), _TEXT)}
            ),
            "target": st.one_of(_TEXT, st.lists(st.fixed_dictionaries({"id": _TEXT}))),
        },
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(event=_log_events())
def test_random_log_events_map_are_counted_or_are_refused_never_crash(event: Any) -> None:
    try:
        parsed = OKTA.parse(event)
    except InvalidField as exc:
        refused_by_name = bool(exc.field)
    else:
        refused_by_name = True
        _check_mapped(event, OKTA.map(parsed, DIRECTORY))
    assert refused_by_name


def _check_mapped(event: Any, result: Any) -> None:
    assert isinstance(result, Mapped | Skipped | Unmapped)
    if isinstance(result, Mapped):
        assert all(record.id == f"okta:{event['uuid']}" for record in result.records)


# -- bad input: refused with the field ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uuid": None}, "uuid"),
        ({"uuid": ""}, "uuid"),
        ({"published": "yesterday"}, "published"),
        ({"published": "2023-03-26T21:05:32"}, "published"),  # no offset, not the spaced form
        ({"published": "2023-02-30 10:00:00"}, "published"),
        ({"eventType": 7}, "eventType"),
        ({"actor": None}, "actor"),
        ({"actor": {"alternateId": "admin@okta.com"}}, "actor.id"),
        ({"client": {"ipAddress": 3}}, "client.ipAddress"),
        (
            {"client": {"geographicalContext": {"geolocation": {"lat": 91, "lon": 0}}}},
            "client.geographicalContext.geolocation.lat",
        ),
        ({"target": [{"id": 1}]}, "target[0].id"),
        ({"debugContext": {"debugData": "x"}}, "debugContext.debugData"),
        ({"client": {"ipAddress": "1.2.3.4\x00"}}, "client.ipAddress"),
    ],
)
def test_bad_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        OKTA.parse({**DOCS_SESSION_START, **change})
    assert caught.value.field == field


def test_another_vendor_s_record_is_not_an_okta_event() -> None:
    ocsf = {"class_uid": 3002, "time": 1700000000000, "actor": {"user": {"uid": "u"}}}
    with pytest.raises(InvalidField, match="not an Okta LogEvent") as caught:
        OKTA.parse(ocsf)
    assert caught.value.field == "eventType"
