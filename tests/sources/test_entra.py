"""Entra ID sign-in adapter: golden records from Microsoft's documentation, the real
samples, random records, bad input.

The golden records are written by hand from Microsoft Graph's ``signIn`` reference (the
``List signIns`` example: ``id``, ``createdDateTime``, ``userId``, ``ipAddress``,
``correlationId``, ``status.errorCode`` 0 for success, ``deviceDetail``,
``location.countryOrRegion`` a two-letter code, ``geoCoordinates``), its
``signInStatus`` (errorCode, failureReason), ``authenticationDetail``
(``authenticationMethod`` "Software OATH token"...) and ``mfaDetail`` resources, the
diagnostic-settings envelope (``time``, ``category``, ``callerIpAddress``,
``properties``), and docs/sources.md's mapping table, not from the adapter.
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

from vigile.model import SignIn
from vigile.sources import Identities, Mapped, Skipped, Unmapped, source_named
from vigile.sources.base import AGENT, InvalidField, Lost
from vigile.sources.entra import ENTRA

SAMPLES = Path(__file__).parent / "entra"
USER = "26be570a-ae82-4189-b4e2-a37c6808512d"
DIRECTORY = Identities(ids={("entra", USER): (AGENT, "a-1")})

# Graph's own example of a signIn (List signIns, v1.0), trimmed to the fields Vigile reads.
DOCS_GRAPH_SIGNIN: dict[str, Any] = {
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "createdDateTime": "2020-03-13T19:15:41.6195833Z",
    "userDisplayName": "Test Contoso",
    "userPrincipalName": "testaccount1@contoso.com",
    "userId": USER,
    "appDisplayName": "Graph explorer",
    "ipAddress": "131.107.159.37",
    "clientAppUsed": "Browser",
    "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
    "conditionalAccessStatus": "notApplied",
    "riskLevelDuringSignIn": "none",
    "status": {"errorCode": 0, "failureReason": None, "additionalDetails": None},
    "deviceDetail": {
        "deviceId": "",
        "displayName": None,
        "operatingSystem": "Windows 10",
        "browser": "Edge 80.0.361",
    },
    "location": {
        "city": "Redmond",
        "state": "Washington",
        "countryOrRegion": "US",
        "geoCoordinates": {
            "altitude": None,
            "latitude": 47.68050003051758,
            "longitude": -122.12094116210938,
        },
    },
}
# A failed sign-in (signInStatus: errorCode 50126, failureReason), the user's object id in
# upper case, a registered device; no correlationId: a session of its own.
DOCS_GRAPH_FAILURE: dict[str, Any] = {
    "id": "0b6f8f3e-0000-4000-8000-000000000001",
    "createdDateTime": "2020-03-13T19:20:00Z",
    "userPrincipalName": "testaccount1@contoso.com",
    "userId": USER.upper(),
    "ipAddress": "203.0.113.9",
    "status": {"errorCode": 50126, "failureReason": "Invalid username or password"},
    "deviceDetail": {"deviceId": "d-4711", "displayName": "CONTOSO-PC"},
    "location": {"city": "Beijing", "countryOrRegion": "CN"},
}
# The same kind of sign-in as a diagnostic-settings record: the signIn's fields under
# ``properties``, Software OATH token as second factor, a sessionId.
DOCS_EXPORT_MFA: dict[str, Any] = {
    "time": "2023-07-21T05:05:12.0560000Z",
    "resourceId": "/tenants/00000000-0000-0000-0000-000000000000/providers/Microsoft.aadiam",
    "operationName": "Sign-in activity",
    "category": "NonInteractiveUserSignInLogs",
    "resultType": "0",
    "callerIpAddress": "198.51.100.23",
    "correlationId": "c-envelope",
    "properties": {
        "id": "0b6f8f3e-0000-4000-8000-000000000002",
        "createdDateTime": "2023-07-21 05:03:52.160562400",
        "userId": USER,
        "userPrincipalName": "testaccount1@contoso.com",
        "sessionId": "00baf379-e510-523f-1c0e-346163d4a768",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "status": {"errorCode": 0},
        "authenticationDetails": [
            {"authenticationMethod": "Password", "succeeded": True},
            {"authenticationMethod": "Software OATH token", "succeeded": True},
        ],
        "mfaDetail": {"authMethod": "Authenticator App"},
    },
}
DOCS_SERVICE_PRINCIPAL: dict[str, Any] = {
    "time": "2023-07-26T23:00:20Z",
    "operationName": "Sign-in activity",
    "category": "ServicePrincipalSignInLogs",
    "properties": {"id": "x", "servicePrincipalId": "b1c34143"},
}

GOLDEN: list[tuple[str, dict[str, Any], SignIn]] = [
    (
        "Graph signIn: errorCode 0, US, geo, no device id, correlation as session",
        DOCS_GRAPH_SIGNIN,
        SignIn(
            id="entra:66ea54eb-6301-4ee5-be62-ff5a759b0100",
            time=datetime(2020, 3, 13, 19, 15, 41, 619583, tzinfo=UTC),
            agent="a-1",
            session="entra:d79f5bee-5860-4832-928f-3133e22ae912",
            outcome="success",
            ip="131.107.159.37",
            country="US",
            lat=47.68050003051758,
            lon=-122.12094116210938,
        ),
    ),
    (
        "Graph failure: errorCode 50126, object id in any case, device id, own session",
        DOCS_GRAPH_FAILURE,
        SignIn(
            id="entra:0b6f8f3e-0000-4000-8000-000000000001",
            time=datetime(2020, 3, 13, 19, 20, tzinfo=UTC),
            agent="a-1",
            session="entra:0b6f8f3e-0000-4000-8000-000000000001",
            outcome="failure",
            ip="203.0.113.9",
            country="CN",
            device="d-4711",
        ),
    ),
    (
        "export record: properties' time (UTC, spaced), sessionId, user agent, OATH = totp",
        DOCS_EXPORT_MFA,
        SignIn(
            id="entra:0b6f8f3e-0000-4000-8000-000000000002",
            time=datetime(2023, 7, 21, 5, 3, 52, 160562, tzinfo=UTC),
            agent="a-1",
            session="entra:00baf379-e510-523f-1c0e-346163d4a768",
            outcome="success",
            ip="198.51.100.23",
            user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            mfa="totp",
        ),
    ),
]


def _mapped(record: dict[str, Any], identities: Identities = DIRECTORY) -> SignIn:
    result = ENTRA.map(ENTRA.parse(record), identities)
    assert isinstance(result, Mapped), result
    (signin,) = result.records
    assert isinstance(signin, SignIn)
    return signin


@pytest.mark.parametrize(("name", "record", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_documented_sign_ins_map_to_the_expected_signins(
    name: str, record: dict[str, Any], expected: SignIn
) -> None:
    signin = _mapped(record)
    assert replace(signin, extra={}) == expected
    assert signin.extra["source"] == "entra"


def test_the_failure_reason_user_and_place_are_kept_as_extra() -> None:
    extra = _mapped(DOCS_GRAPH_FAILURE).extra
    assert extra["entra_error_code"] == 50126
    assert extra["entra_failure_reason"] == "Invalid username or password"
    assert extra["entra_user"] == "testaccount1@contoso.com"
    assert (extra["entra_city"], extra["entra_device_name"]) == ("Beijing", "CONTOSO-PC")
    success = _mapped(DOCS_GRAPH_SIGNIN).extra
    assert "entra_error_code" not in success
    assert "entra_failure_reason" not in success
    assert (success["entra_app"], success["entra_browser"]) == ("Graph explorer", "Edge 80.0.361")


@pytest.mark.parametrize(
    ("steps", "mfa_detail", "expected"),
    [
        ([{"authenticationMethod": "Mobile app notification", "succeeded": True}], None, "push"),
        ([{"authenticationMethod": "FIDO2 security key", "succeeded": True}], None, "webauthn"),
        ([{"authenticationMethod": "Software OATH token", "succeeded": False}], None, None),
        ([{"authenticationMethod": "Password", "succeeded": True}], None, None),
        ([{"authenticationMethod": "SMS", "succeeded": True}], "SMS", None),
        ([], "Authenticator App", None),  # a notification or a code: not said
        ([], "OATH verification code", "totp"),
    ],
)
def test_mfa_comes_from_succeeded_steps_then_mfa_detail(
    steps: list[Any], mfa_detail: str | None, expected: str | None
) -> None:
    record = {**DOCS_GRAPH_SIGNIN, "authenticationDetails": steps}
    if mfa_detail is not None:
        record["mfaDetail"] = {"authMethod": mfa_detail}
    assert _mapped(record).mfa == expected


def test_a_country_name_becomes_its_iso_3166_code() -> None:
    """Panther's fixtures write ``United States`` where Graph documents ``US``."""
    record = {**DOCS_GRAPH_SIGNIN, "location": {"countryOrRegion": "United States"}}
    signin = _mapped(record)
    assert signin.country == "US"
    assert signin.extra["entra_country"] == "United States"


def test_a_country_iso_3166_does_not_list_is_no_country_and_counted() -> None:
    record = {**DOCS_GRAPH_SIGNIN, "location": {"countryOrRegion": "Narnia"}}
    result = ENTRA.map(ENTRA.parse(record), DIRECTORY)
    assert isinstance(result, Mapped)
    assert result.records[0].country is None  # type: ignore[union-attr]
    assert result.lost == (
        Lost(reason="Entra countryOrRegion not in ISO 3166: no country", example="Narnia"),
    )


def test_the_envelope_supplies_the_ip_and_outcome_the_properties_lack() -> None:
    properties = {
        k: v for k, v in DOCS_EXPORT_MFA["properties"].items() if k not in ("status", "sessionId")
    }
    record = {**DOCS_EXPORT_MFA, "resultType": "50053", "properties": properties}
    signin = _mapped(record)
    assert (signin.ip, signin.outcome, signin.session) == (
        "198.51.100.23",
        "failure",
        "entra:c-envelope",
    )


def test_only_the_object_id_identifies_not_the_user_principal_name() -> None:
    by_upn = Identities(ids={("entra", "testaccount1@contoso.com"): (AGENT, "a-1")})
    result = ENTRA.map(ENTRA.parse(DOCS_GRAPH_SIGNIN), by_upn)
    assert result == Unmapped(
        reason="Entra user not in the directory",
        example=f"{USER} (testaccount1@contoso.com)",
    )


def test_a_sign_in_without_user_or_ip_is_kept_aside() -> None:
    no_user = {k: v for k, v in DOCS_GRAPH_SIGNIN.items() if k != "userId"}
    result = ENTRA.map(ENTRA.parse(no_user), DIRECTORY)
    assert result == Unmapped(reason="sign-in without userId", example=DOCS_GRAPH_SIGNIN["id"])
    no_ip = {**DOCS_GRAPH_SIGNIN, "ipAddress": None}
    result = ENTRA.map(ENTRA.parse(no_ip), DIRECTORY)
    assert result == Unmapped(reason="sign-in without ipAddress", example=DOCS_GRAPH_SIGNIN["id"])


@pytest.mark.parametrize(
    ("record", "counted_as"),
    [
        (DOCS_SERVICE_PRINCIPAL, "ServicePrincipalSignInLogs"),
        ({"category": "AuditLogs", "properties": "not read"}, "AuditLogs"),
        ({**DOCS_GRAPH_SIGNIN, "status": {}}, "signIn:no status"),
        (
            {**DOCS_EXPORT_MFA, "resultType": "Success", "properties": {"id": "1", "userId": USER}},
            "NonInteractiveUserSignInLogs:no status",
        ),
    ],
)
def test_other_categories_and_sign_ins_without_status_are_skipped_by_name(
    record: dict[str, Any], counted_as: str
) -> None:
    assert ENTRA.map(ENTRA.parse(record), DIRECTORY) == Skipped(event_type=counted_as)


def test_the_registry_names_entra() -> None:
    assert source_named("entra") is ENTRA


# -- the real samples (tests/sources/entra/SOURCE.md) ----------------------------------


def _samples() -> list[tuple[int, dict[str, Any]]]:
    events = (SAMPLES / "events.jsonl").read_text().splitlines()
    provenance = (SAMPLES / "provenance.jsonl").read_text().splitlines()
    assert len(events) == len(provenance) == 47
    return [(n, json.loads(e)) for n, e in enumerate(events, start=1)]


def _every_user() -> dict[tuple[str, str], tuple[str, str]]:
    users = set()
    for _, record in _samples():
        properties = record.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get("userId"), str):
            users.add(properties["userId"].lower())
    return {("entra", user): (AGENT, f"a-{n}") for n, user in enumerate(sorted(users))}


def test_every_real_sample_maps_is_counted_or_is_refused_for_a_named_reason() -> None:
    """User sign-ins map; other categories are skipped by category; those refused are
    Panther's hand-written sign-ins without ``properties.id`` (all listed here, so a new
    refusal fails the test)."""
    mapped: list[SignIn] = []
    skipped, refused = Counter[str](), {}
    everyone = Identities(ids=_every_user())
    for line, record in _samples():
        try:
            result = ENTRA.map(ENTRA.parse(record), everyone)
        except InvalidField as exc:
            refused[line] = exc.field
            continue
        if isinstance(result, Mapped):
            assert record["category"] in ("SignInLogs", "NonInteractiveUserSignInLogs")
            mapped.extend(r for r in result.records if isinstance(r, SignIn))
        else:
            assert isinstance(result, Skipped), (line, result)
            skipped[result.event_type] += 1
    no_id = [3, 4, 9, 10, 11, 14, 15, 16, 17, 18, 28, 29, 41, 42, 45, 46]
    assert refused == dict.fromkeys(no_id, "properties.id")
    assert len(mapped) == 2
    assert {s.id for s in mapped} == {"entra:d9ae0e20-c959-42a3-ba74-00f59ac9f6c6"}
    assert (mapped[0].country, mapped[0].ip, mapped[0].outcome) == ("US", "12.12.12.12", "success")
    assert skipped == {
        "AuditLogs": 15,
        "ServicePrincipalSignInLogs": 8,
        "Policy": 2,
        "DirectoryManagement": 2,
        "ApplicationManagement": 2,
    }


def test_the_sample_ids_would_map_once_present() -> None:
    """The refused samples are sound otherwise: given an id, each maps or is skipped."""
    everyone = Identities(ids=_every_user())
    outcomes = Counter[str]()
    for line, sample in _samples():
        properties = sample.get("properties")
        if isinstance(properties, dict) and "id" not in properties:
            sample = {**sample, "properties": {**properties, "id": f"line-{line}"}}  # noqa: PLW2901
        result = ENTRA.map(ENTRA.parse(sample), everyone)
        outcomes[type(result).__name__] += 1
    assert outcomes["Unmapped"] == 0
    assert outcomes["Mapped"] == 2 + 16 - 3  # three hand-written ones have no status
    assert outcomes["Skipped"] == 29 + 3


# -- random records: mapped, skipped, unmapped or refused with a field, never a crash --

_TEXT = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.booleans())
_NUMBER = st.one_of(st.none(), st.floats(allow_nan=True), st.integers(), st.text(max_size=3))
_TIME = st.one_of(
    _TEXT,
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["2023-07-21 05:03:52.160562400", "2023-02-30T10:00:00Z"]),
)


def _fields() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "id": _TEXT,
            "createdDateTime": _TIME,
            "userId": st.one_of(st.just(USER), _TEXT),
            "ipAddress": _TEXT,
            "sessionId": _TEXT,
            "correlationId": _TEXT,
            "status": st.one_of(_TEXT, st.fixed_dictionaries({}, optional={"errorCode": _TEXT})),
            "location": st.one_of(
                _TEXT,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "countryOrRegion": _TEXT,
                        "geoCoordinates": st.fixed_dictionaries(
                            {"latitude": _NUMBER, "longitude": _NUMBER}
                        ),
                    },
                ),
            ),
            "deviceDetail": st.fixed_dictionaries({}, optional={"deviceId": _TEXT}),
            "authenticationDetails": st.one_of(
                _TEXT,
                st.lists(
                    st.fixed_dictionaries(
                        {"authenticationMethod": _TEXT}, optional={"succeeded": _TEXT}
                    ),
                    max_size=3,
                ),
            ),
            "mfaDetail": st.fixed_dictionaries({}, optional={"authMethod": _TEXT}),
        },
    )


def _records() -> st.SearchStrategy[Any]:
    export = st.fixed_dictionaries(
        {
            "category": st.one_of(
                st.sampled_from(["SignInLogs", "NonInteractiveUserSignInLogs", "AuditLogs"]),
                _TEXT,
            )
        },
        optional={
            "time": _TIME,
            "callerIpAddress": _TEXT,
            "resultType": _TEXT,
            "properties": st.one_of(_TEXT, _fields()),
        },
    )
    return st.one_of(export, _fields(), _TEXT)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(record=_records())
def test_random_records_map_are_counted_or_are_refused_never_crash(record: Any) -> None:
    try:
        parsed = ENTRA.parse(record)
    except InvalidField as exc:
        refused_by_name = bool(exc.field)
    else:
        refused_by_name = True
        _check_mapped(record, ENTRA.map(parsed, DIRECTORY))
    assert refused_by_name


def _check_mapped(record: Any, result: Any) -> None:
    assert isinstance(result, Mapped | Skipped | Unmapped)
    if isinstance(result, Mapped):
        fields = record.get("properties", record)
        assert all(r.id == f"entra:{fields['id']}" for r in result.records)


# -- bad input: refused with the field ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": ""}, "id"),
        ({"createdDateTime": None}, "createdDateTime"),
        ({"createdDateTime": "yesterday"}, "createdDateTime"),
        ({"createdDateTime": "2020-03-13T19:15:41"}, "createdDateTime"),  # no offset
        ({"userId": 7}, "userId"),
        ({"status": {"errorCode": "0"}}, "status.errorCode"),
        ({"status": {"errorCode": True}}, "status.errorCode"),
        ({"location": {"geoCoordinates": {"latitude": 91}}}, "location.geoCoordinates.latitude"),
        ({"location": "Redmond"}, "location"),
        ({"deviceDetail": {"deviceId": 1}}, "deviceDetail.deviceId"),
        ({"authenticationDetails": {}}, "authenticationDetails"),
        (
            {"authenticationDetails": [{"succeeded": "yes"}]},
            "authenticationDetails[0].succeeded",
        ),
        ({"ipAddress": "1.2.3.4\x00"}, "ipAddress"),
    ],
)
def test_bad_fields_are_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        ENTRA.parse({**DOCS_GRAPH_SIGNIN, **change})
    assert caught.value.field == field
    export = {**DOCS_EXPORT_MFA, "properties": {**DOCS_EXPORT_MFA["properties"], **change}}
    if field != "createdDateTime":  # the export's ``time`` stands in for a missing one
        with pytest.raises(InvalidField) as caught:
            ENTRA.parse(export)
        assert caught.value.field == f"properties.{field}"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**DOCS_EXPORT_MFA, "properties": None}, "properties"),
        ({**DOCS_EXPORT_MFA, "properties": []}, "properties"),
        ({**DOCS_EXPORT_MFA, "category": None}, "category"),
        ({**DOCS_EXPORT_MFA, "time": "soon", "properties": {"id": "1"}}, "time"),
        ({"class_uid": 3002, "time": 1700000000000}, "category"),
        ([DOCS_GRAPH_SIGNIN], "json"),
    ],
)
def test_bad_records_are_refused_by_name(record: Any, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        ENTRA.parse(record)
    assert caught.value.field == field
