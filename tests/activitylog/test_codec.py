"""Hostile records: the decoder refuses them with :class:`InvalidField`, never anything else.

The integration endpoint hands ``decode`` what the standard ``json`` module made of a request
body, which (unlike orjson, used for files) lets lone surrogates, ``NaN``, ``Infinity`` and
integers of any size through. A record that decodes must be one the store can write: a value
that fails only at write time fails the whole group-commit batch, other agents' requests with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer

from vigile.activitylog import ActivityLogReader, InvalidField, decode, encode
from vigile.activitylog.codec import plainly_valid
from vigile.errors import RecordError
from vigile.model import (
    ACTIONS,
    DATA_FIELDS,
    MFA_METHODS,
    REASONS,
    Action,
    ActivityRecord,
    Reason,
    TicketStep,
)
from vigile.store.rows import TABLE_OF, to_values

T = "2021-05-20T08:00:00Z"
VALID: dict[str, dict[str, Any]] = {
    "agent": {
        "kind": "agent",
        "id": "a-1",
        "name": "Ann",
        "tier": 2,
        "shift": {"days": ["mon"], "start": "08:00", "end": "17:00"},
    },
    "customer": {"kind": "customer", "id": "c-1", "name": "Shop", "tier": "smb"},
    "contact": {"kind": "contact", "id": "k-1", "customer": "c-1", "email": "b@shop.example"},
    "account": {"kind": "account", "id": "u-1", "customer": "c-1", "username": "bob"},
    "subscription": {
        "kind": "subscription",
        "id": "s-1",
        "customer": "c-1",
        "service": "db",
        "seats": 5,
        "monthly_amount": 12.5,
    },
    "ticket": {"kind": "ticket", "time": T, "ticket": "T-1", "event": "opened", "customer": "c-1"},
    "signin": {
        "kind": "signin",
        "time": T,
        "id": "e-1",
        "agent": "a-1",
        "session": "s-1",
        "outcome": "success",
        "ip": "198.51.100.23",
        "lat": 48.8,
        "lon": 2.3,
    },
    "access": {
        "kind": "access",
        "time": T,
        "id": "e-2",
        "agent": "a-1",
        "session": "s-1",
        "action": "customer.search",
        "query": "shop",
        "results": ["c-1"],
        "fields": ["customer.name"],
        "outcome": "allowed",
    },
}


def _json(text: str) -> Any:
    """What the HTTP API receives: the standard library's reading of the body."""
    return json.loads(text)


def _with(kind: str, **fields: Any) -> dict[str, Any]:
    return VALID[kind] | fields


HOSTILE = [
    # times that parse but leave datetime's range once converted to UTC
    (_with("ticket", time="9999-12-31T23:59:59-23:59"), "time", "out of range"),
    (_with("ticket", time="0001-01-01T00:00:00+23:59"), "time", "out of range"),
    (_with("signin", time="0001-01-01T00:00:00+00:01"), "time", "out of range"),
    # lone surrogates: not Unicode scalar values, so no UTF-8 for the store
    (
        _json(f'{{"kind":"ticket","time":"{T}","ticket":"T-\\ud800","event":"opened"}}'),
        "ticket",
        "lone surrogate",
    ),
    (_with("ticket", customer="c-\udfff"), "customer", "lone surrogate"),
    (_with("ticket", category="\ud800billing"), "category", "lone surrogate"),
    (_with("ticket", id="\ud800"), "id", "lone surrogate"),
    (_with("access", results=["c-1", "c-\ud800"]), "results[1]", "lone surrogate"),
    (_with("access", deny_reason="\udc00"), "deny_reason", "lone surrogate"),
    (
        _with("agent", shift={"days": ["mon"], "start": "08:00\ud800", "end": "17:00"}),
        "shift.start",
        "lone surrogate",
    ),
    (_with("contact", note="\ud800"), "note", "lone surrogate"),
    (_with("contact", note={"a": ["x", "\ud800"]}), "note.a[1]", "lone surrogate"),
    (_with("contact", **{"n\ud800te": 1}), "n\\ud800te", "lone surrogate"),
    # NUL: PostgreSQL text cannot hold it
    (_with("ticket", ticket="T-\x001"), "ticket", "NUL"),
    (_with("contact", email="b@shop.example\x00"), "email", "NUL"),
    (_with("access", results=["c\x00"]), "results[0]", "NUL"),
    # numbers: NaN, infinities and integers past what a float or a column holds
    (_json(json.dumps(VALID["signin"])[:-1] + ', "lat": NaN}'), "lat", "finite"),
    (_with("signin", lon=math.inf), "lon", "finite"),
    (_with("signin", lat=91.0), "lat", "between -90 and 90"),
    (_with("signin", lon=-180.5), "lon", "between -180 and 180"),
    (_with("subscription", monthly_amount=10**400), "monthly_amount", "finite"),
    (_with("subscription", seats=2**31), "seats", "between 0 and 2147483647"),
    (_with("subscription", seats=-1), "seats", "between 0 and 2147483647"),
    (_with("agent", tier=10**5000), "tier", "must be between 1 and 3"),
    (_with("contact", note=math.nan), "note", "finite"),
    (_with("contact", note=[2**64]), "note[0]", "64 bits"),
    (_with("contact", note=-(2**63) - 1), "note", "64 bits"),
    (_with("contact", note=_json("[" * 100 + "]" * 100)), "note", "nested"),
    # a shift is wall-clock HH:MM in the agent's timezone: no offset, no seconds
    (
        _with("agent", shift={"days": ["mon"], "start": "08:00+05:00", "end": "17:00"}),
        "shift",
        "HH:MM",
    ),
    (
        _with("agent", shift={"days": ["mon"], "start": "08:00", "end": "17:00:30"}),
        "shift",
        "HH:MM",
    ),
]


@pytest.mark.parametrize(("record", "field", "message"), HOSTILE)
def test_hostile_fields_are_refused_naming_the_field(
    record: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        decode(record)
    assert caught.value.field == field
    assert message in caught.value.message
    str(caught.value).encode()  # the message itself is safe to send and log


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (_with("ticket", time="9999-12-31T23:59:59-23:59"), "time"),
        (_with("ticket", ticket="T-\x00"), "ticket"),
        (_with("subscription", seats=2**63), "seats"),
        (_with("signin", lat=1e308), "lat"),
        ('{"kind": "agent", "id": "a", "x": ' + "[" * 300 + "]" * 300 + "}", "x"),
    ],
)
def test_the_file_reader_names_file_line_and_field(
    tmp_path: Path, line: dict[str, Any] | str, field: str
) -> None:
    text = line if isinstance(line, str) else orjson.dumps(line).decode()
    path = tmp_path / "hostile.jsonl"
    path.write_text(orjson.dumps(VALID["agent"]).decode() + "\n" + text + "\n")
    with pytest.raises(RecordError) as caught:
        list(ActivityLogReader(path))
    assert (caught.value.source, caught.value.line, caught.value.field) == (str(path), 2, field)


def test_valid_unicode_and_large_values_still_decode() -> None:
    contact = decode(_with("contact", name="Zoë 😀 Ελένη", note={"deep": [[[2**63 - 1]]]}))
    assert contact.name == "Zoë 😀 Ελένη"  # type: ignore[union-attr]
    subscription = decode(_with("subscription", seats=2**31 - 1, monthly_amount=-1e308))
    assert subscription.seats == 2**31 - 1  # type: ignore[union-attr]


# -- property: decode or InvalidField, and what decodes can be stored and re-read --------

_chars = st.characters(codec=None, exclude_categories=())  # surrogates and NUL included
_texts = st.text(_chars, max_size=8)
_times = st.builds(
    lambda y, mo, d, h, mi, s, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{off}",
    st.sampled_from([1, 2, 1970, 2021, 9998, 9999]),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 24),
    st.integers(0, 59),
    st.integers(0, 60),
    st.sampled_from(["Z", "z", "+00:00", "-23:59", "+23:59", "+05:30", "", "+99:99"]),
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | _texts
    | _times
    | st.sampled_from(sorted(ACTIONS | DATA_FIELDS | MFA_METHODS | REASONS))
    | st.sampled_from(["opened", "assigned", "closed", "success", "allowed", "08:00", "mon"])
)
_keys = _texts | st.sampled_from(["kind", "id", "time", "days", "start", "\ud800"])
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _hostile_records(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(VALID)))
    record = dict(VALID[kind])
    keys = [*sorted(record), "shift", "days", "start", "extra", "\ud800", "\x00"]
    for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
        if draw(st.booleans()) and key != "kind":
            record.pop(key, None)
        else:
            record[key] = draw(_values)
    return record


# Each integer column's range on PostgreSQL, the narrower backend.
_INT_RANGE = {Integer: (-(2**31), 2**31 - 1), BigInteger: (-(2**63), 2**63 - 1)}


def _assert_storable(record: ActivityRecord) -> None:
    _, row = to_values(record)
    columns = TABLE_OF[type(record)].columns
    for column, value in zip(columns, row, strict=True):
        if isinstance(value, str):
            value.encode()
            assert "\x00" not in value, column.name
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            low, high = _INT_RANGE[type(column.type)]  # type: ignore[index]
            assert low <= value <= high, column.name
        elif isinstance(value, float):
            assert math.isfinite(value), column.name


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_records())
def test_any_json_record_decodes_to_something_storable_or_is_refused(
    record: dict[str, Any],
) -> None:
    try:
        decoded = decode(record)
    except InvalidField as exc:
        str(exc).encode()
        return
    _assert_storable(decoded)
    assert decode(orjson.loads(orjson.dumps(encode(decoded)))) == decoded


# -- plainly_valid: the round trip's verdict read off the fields ------------------------


def _round_trip_accepts(record: ActivityRecord) -> bool:
    """The check adapters made of every mapped record before ``plainly_valid``."""
    try:
        decode(orjson.loads(orjson.dumps(encode(record))))
    except (InvalidField, orjson.JSONEncodeError, TypeError, ValueError, AttributeError):
        return False
    return True


_EVENT_KINDS = ("signin", "access", "ticket")
_edges = st.sampled_from(
    [
        *("", "a\x00", "\x00", "\ud800", "café", "c\x00é", "sms", "export"),
        *(90.5, -90.0, 180.0, -180.5, 91, 2**64, math.nan, math.inf, True, 0),
    ]
)
_field_values = (
    _scalars
    | _edges
    | st.floats(-200, 200)
    | st.lists(_edges | st.sampled_from(sorted(DATA_FIELDS)), max_size=2).map(tuple)
    | st.sampled_from(list(Action) + list(Reason) + list(TicketStep))
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))
    | st.datetimes(timezones=st.none())
    | st.lists(st.sampled_from(sorted(DATA_FIELDS)) | _texts, max_size=3).map(tuple)
    | st.lists(_texts, max_size=2)
)


@st.composite
def _mapped_records(draw: st.DrawFn) -> ActivityRecord:
    """A spec-valid event with some fields replaced by anything an adapter could put there
    (wrong types, NUL, lone surrogates, naive or offset times, enums, extra fields that
    shadow the spec's names or hold nested values)."""
    record = decode(VALID[draw(st.sampled_from(_EVENT_KINDS))])
    names = [n for n in record.__slots__ if n != "extra"]  # type: ignore[union-attr]
    changes = {
        name: draw(_field_values) for name in draw(st.lists(st.sampled_from(names), max_size=3))
    }
    if draw(st.booleans()):
        changes["extra"] = draw(st.dictionaries(_keys | _edges, _values | _edges, max_size=3))
    return replace(record, **changes)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(_mapped_records())
def test_a_plainly_valid_record_is_one_the_round_trip_accepts(record: ActivityRecord) -> None:
    """``plainly_valid`` never accepts what the spec's encoder and decoder refuse (it may
    leave a record it is not sure of to them)."""
    if plainly_valid(record):
        assert _round_trip_accepts(record)


@pytest.mark.parametrize("kind", _EVENT_KINDS)
def test_the_common_records_take_the_direct_check(kind: str) -> None:
    record = decode(VALID[kind])
    assert plainly_valid(record)
    extra = {"source": "okta", "okta_city": "München", "n": 3, "ok": True, "f": 1.5}
    assert plainly_valid(replace(record, extra=extra))


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("signin", {"ip": "198.51.100.23\x00"}),
        ("signin", {"agent": ""}),
        ("signin", {"device": "\ud800"}),
        ("signin", {"mfa": "sms"}),
        ("signin", {"lat": math.nan}),
        ("signin", {"lat": 90.5}),
        ("signin", {"lon": -181}),
        ("signin", {"lon": True}),
        ("signin", {"time": datetime(2024, 5, 1)}),
        ("access", {"customer": None, "action": Action.CUSTOMER_VIEW}),
        ("access", {"fields": ("customer.nickname",)}),
        ("access", {"results": ("c-1", "c\x00")}),
        ("ticket", {"customer": None}),
        ("ticket", {"extra": {"time": "soon"}}),
        ("ticket", {"extra": {"note": {"nested": [1]}}}),
    ],
)
def test_anything_unusual_is_left_to_the_round_trip(kind: str, changes: dict[str, Any]) -> None:
    assert not plainly_valid(replace(decode(VALID[kind]), **changes))
