"""The activity-log reader against the spec: valid files, every kind of invalid line."""

from __future__ import annotations

import gzip
import multiprocessing
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.activitylog.broken import truncated_gzip
from tests.conftest import SPEC_EXAMPLE
from vigile.activitylog import ActivityLogReader, ActivityLogWriter, decode, encode
from vigile.activitylog.reader import _bounded_imap
from vigile.errors import InputError, RecordError, UnsupportedVersion
from vigile.model import Access, Action, Agent, Reason, SignIn, TicketEvent, TicketStep

ACCESS = {
    "kind": "access",
    "time": "2021-05-20T11:31:05+02:00",
    "id": "e-2",
    "agent": "a-0017",
    "session": "s-9f3",
    "action": "contact.view",
    "customer": "c-00412",
    "fields": ["contact.name"],
    "masked_fields": ["contact.email"],
    "ticket": "T-1",
    "reason": "customer_initiated_support",
    "outcome": "allowed",
}


def write_lines(path: Path, *objects: object) -> Path:
    lines = [o if isinstance(o, str) else orjson.dumps(o).decode() for o in objects]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_spec_example_reads_every_kind() -> None:
    records = list(ActivityLogReader(SPEC_EXAMPLE))
    kinds = [type(r).__name__ for r in records]
    assert kinds == [
        "Agent",
        "Customer",
        "Contact",
        "TicketEvent",
        "TicketEvent",
        "SignIn",
        "Access",
    ]
    agent = records[0]
    assert isinstance(agent, Agent)
    assert agent.shift is not None
    assert agent.shift.days == ("mon", "tue", "wed", "thu", "fri")
    access = records[-1]
    assert isinstance(access, Access)
    assert access.action is Action.CONTACT_VIEW
    assert access.reason is Reason.CUSTOMER_INITIATED_SUPPORT
    assert access.masked_fields == ("contact.email", "contact.phone")


def test_times_are_converted_to_utc(tmp_path: Path) -> None:
    [access] = ActivityLogReader(write_lines(tmp_path / "a.jsonl", ACCESS))
    assert access.time == datetime(2021, 5, 20, 9, 31, 5, tzinfo=UTC)


def test_unknown_fields_are_kept_as_extra(tmp_path: Path) -> None:
    [access] = ActivityLogReader(write_lines(tmp_path / "a.jsonl", ACCESS | {"zone": "eu-1"}))
    assert dict(access.extra) == {"zone": "eu-1"}
    assert encode(access)["zone"] == "eu-1"


def test_blank_lines_are_ignored_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", ACCESS, "", "   ", {"kind": "nope"})
    with pytest.raises(RecordError) as caught:
        list(ActivityLogReader(path))
    assert caught.value.line == 4


INVALID = [
    ("{not json", "json", "not a JSON object"),
    ("[1, 2]", "kind", "expected a JSON object"),
    ({"id": "x"}, "kind", "required field is missing"),
    ({"kind": "robot", "id": "x"}, "kind", "unknown record kind 'robot'"),
    ({**ACCESS, "time": "2021-05-20 11:31"}, "time", "not an RFC 3339 time"),
    ({**ACCESS, "time": "2021-05-20T11:31:05"}, "time", "not an RFC 3339 time"),
    ({**ACCESS, "time": 1621503065}, "time", "expected a string, got an integer"),
    ({k: v for k, v in ACCESS.items() if k != "agent"}, "agent", "required field is missing"),
    ({**ACCESS, "agent": ""}, "agent", "must not be empty"),
    ({**ACCESS, "action": "contact.steal"}, "action", "'contact.steal' is not one of"),
    ({**ACCESS, "outcome": "maybe"}, "outcome", "is not one of"),
    ({**ACCESS, "fields": "contact.name"}, "fields", "expected a list, got a string"),
    ({**ACCESS, "fields": ["contact.dna"]}, "fields[0]", "unknown data field"),
    ({**ACCESS, "masked_fields": [3]}, "masked_fields[0]", "expected a string"),
    ({**ACCESS, "reason": "because"}, "reason", "is not one of"),
    ({k: v for k, v in ACCESS.items() if k != "customer"}, "customer", "required"),
    (
        {
            "kind": "signin",
            "id": "e",
            "time": "2021-05-20T08:00:00Z",
            "agent": "a",
            "session": "s",
            "outcome": "success",
        },
        "ip",
        "required field is missing",
    ),
    (
        {
            "kind": "signin",
            "id": "e",
            "time": "2021-05-20T08:00:00Z",
            "agent": "a",
            "session": "s",
            "outcome": "success",
            "ip": "1.2.3.4",
            "lat": "north",
        },
        "lat",
        "expected a number",
    ),
    (
        {
            "kind": "signin",
            "id": "e",
            "time": "2021-05-20T08:00:00Z",
            "agent": "a",
            "session": "s",
            "outcome": "success",
            "ip": "1.2.3.4",
            "mfa": "sms",
        },
        "mfa",
        "not one of",
    ),
    (
        {"kind": "ticket", "time": "2021-05-20T08:00:00Z", "ticket": "T", "event": "opened"},
        "customer",
        "required field is missing",
    ),
    (
        {"kind": "ticket", "time": "2021-05-20T08:00:00Z", "ticket": "T", "event": "assigned"},
        "agent",
        "required field is missing",
    ),
    (
        {"kind": "ticket", "time": "2021-05-20T08:00:00Z", "ticket": "T", "event": "lost"},
        "event",
        "is not one of",
    ),
    ({"kind": "agent", "id": "a", "tier": 4}, "tier", "must be between 1 and 3"),
    ({"kind": "agent", "id": "a", "tier": True}, "tier", "expected an integer, got a boolean"),
    (
        {"kind": "agent", "id": "a", "shift": {"days": ["moon"], "start": "08:00", "end": "17:00"}},
        "shift.days[0]",
        "unknown weekday 'moon'",
    ),
    (
        {"kind": "agent", "id": "a", "shift": {"start": "8am", "end": "17:00"}},
        "shift",
        "start and end must be HH:MM",
    ),
    ({"kind": "account", "id": "u", "customer": "c"}, "username", "required field is missing"),
    (
        {"kind": "subscription", "id": "s", "customer": "c", "service": "db", "seats": 1.5},
        "seats",
        "expected an integer",
    ),
    ({"kind": "contact", "id": "k"}, "customer", "required field is missing"),
]


@pytest.mark.parametrize(("line", "field", "message"), INVALID)
def test_invalid_line_names_file_line_and_field(
    tmp_path: Path, line: object, field: str, message: str
) -> None:
    path = write_lines(tmp_path / "bad.jsonl", ACCESS, line)
    with pytest.raises(RecordError) as caught:
        list(ActivityLogReader(path))
    error = caught.value
    assert (error.source, error.line, error.field) == (str(path), 2, field)
    assert message in error.reason
    assert str(error).startswith(f"{path}:2: {field}: ")


def test_skip_invalid_counts_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", ACCESS, "{oops", {**ACCESS, "id": "e-3"}, "[]")
    reader = ActivityLogReader(path, skip_invalid=True)
    assert [r.id for r in reader] == ["e-2", "e-3"]
    assert (reader.report.skipped, reader.report.records) == (2, 2)
    assert [e.line for e in reader.report.errors] == [2, 4]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ({"kind": "header", "format": "vigile-activity", "version": 2}, "version"),
        ({"kind": "header", "format": "other", "version": 1}, "format"),
    ],
)
def test_unsupported_header_is_fatal_even_when_skipping(
    tmp_path: Path, header: object, field: str
) -> None:
    path = write_lines(tmp_path / "a.jsonl", header, ACCESS)
    with pytest.raises(UnsupportedVersion) as caught:
        list(ActivityLogReader(path, skip_invalid=True))
    assert (caught.value.line, caught.value.field) == (1, field)


def test_header_after_the_first_line_is_invalid(tmp_path: Path) -> None:
    header = {"kind": "header", "format": "vigile-activity", "version": 1}
    path = write_lines(tmp_path / "a.jsonl", ACCESS, header)
    with pytest.raises(RecordError, match="a header must be the first line"):
        list(ActivityLogReader(path))


def test_gzip_file_reads_like_plain(tmp_path: Path) -> None:
    gz = tmp_path / "log.jsonl.gz"
    gz.write_bytes(gzip.compress(SPEC_EXAMPLE.read_bytes()))
    assert list(ActivityLogReader(gz)) == list(ActivityLogReader(SPEC_EXAMPLE))


def test_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    gz = tmp_path / "log.jsonl.gz"
    gz.write_bytes(gzip.compress(SPEC_EXAMPLE.read_bytes())[:-30])
    with pytest.raises(InputError, match=r"log\.jsonl\.gz:\d+: cannot read"):
        list(ActivityLogReader(gz))


def test_a_truncated_gzip_is_named_at_the_line_where_it_breaks(tmp_path: Path) -> None:
    # Issue 16, item 6: it was named at the first line of its chunk (5001), not where the
    # stream broke.
    gz = tmp_path / "log.jsonl.gz"
    broken = truncated_gzip(gz)
    assert 5_001 < broken < 10_000  # in the second chunk of 5,000 lines, not at its start
    where = re.escape(f"{gz}:{broken}: cannot read: the file breaks off in this line, after")
    with pytest.raises(InputError, match=rf"^{where} {broken - 1} whole lines \("):
        list(ActivityLogReader(gz))


def test_a_corrupt_gzip_is_a_clear_error(tmp_path: Path) -> None:
    gz = tmp_path / "log.jsonl.gz"
    data = bytearray(gzip.compress(SPEC_EXAMPLE.read_bytes()))
    data[11] ^= 0xFF  # in the first deflate block's header: zlib.error, not an OSError
    gz.write_bytes(data)
    with pytest.raises(InputError, match=r"log\.jsonl\.gz:1: cannot read: .* after 0 whole"):
        list(ActivityLogReader(gz, skip_invalid=True))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        ActivityLogReader(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("name", ["round.jsonl", "round.jsonl.gz"])
def test_writer_round_trip(tmp_path: Path, name: str) -> None:
    records = list(ActivityLogReader(SPEC_EXAMPLE))
    with ActivityLogWriter(tmp_path / name) as writer:
        writer.write_many(encode(r) for r in records)
    assert list(ActivityLogReader(tmp_path / name)) == records


def test_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    writer = ActivityLogWriter(target)
    writer.write({"kind": "agent", "id": "a"})
    with pytest.raises(ZeroDivisionError), writer:
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


def test_ticket_steps_without_id_get_a_stable_identity() -> None:
    step = {
        "kind": "ticket",
        "time": "2021-05-20T09:30:00Z",
        "ticket": "T-1",
        "event": "assigned",
        "agent": "a-1",
    }
    first, second = decode(step), decode(dict(step))
    assert isinstance(first, TicketEvent)
    assert first.event is TicketStep.ASSIGNED
    assert first.id == second.id == "T-1/assigned/2021-05-20T09:30:00Z/a-1"
    assert "id" not in encode(first)


def test_signin_decodes_optional_geography() -> None:
    signin = decode(
        {
            "kind": "signin",
            "id": "e",
            "time": "2021-05-20T08:00:00Z",
            "agent": "a",
            "session": "s",
            "outcome": "failure",
            "ip": "::1",
            "lat": 48,
            "lon": 2.3,
        }
    )
    assert isinstance(signin, SignIn)
    assert (signin.lat, signin.lon, signin.country) == (48.0, 2.3, None)


def _slow_size(item: bytes) -> int:
    time.sleep(0.2)
    return len(item)


class _RecordingPool:
    """A pool that remembers the results it handed out."""

    def __init__(self, pool: object) -> None:
        self.pool = pool
        self.handed: list[object] = []

    def apply_async(self, work: object, args: tuple[object, ...]) -> object:
        result = self.pool.apply_async(work, args)  # type: ignore[attr-defined]
        self.handed.append(result)
        return result


def test_decoding_stopped_early_lets_the_chunks_in_flight_finish() -> None:
    # A consumer that stops (an out-of-order event, an error) must not leave chunks
    # half-written to the worker: terminating the pool would then wait forever.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        recording = _RecordingPool(pool)
        sizes = _bounded_imap(recording, _slow_size, iter([b"x" * 200_000] * 10), window=4)  # type: ignore[arg-type]
        assert next(sizes) == 200_000
        sizes.close()
        assert len(recording.handed) == 4
        assert all(r.ready() for r in recording.handed)  # type: ignore[attr-defined]
