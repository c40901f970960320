"""Benchmark of reading Salesforce's logs (``--from salesforce``), the store left out.

Run with ``pytest -m bench benchmarks/bench_salesforce.py -s``. Two files of
``VIGILE_BENCH_SF_ROWS`` events each (default 100,000) are written once: an Event Log File
of ``LightningPageView`` rows as Salesforce serves it (CSV, every field quoted) and
``LoginEvent`` objects as JSON lines. Each is read by
:class:`~vigile.sources.reading.VendorLogReader` (parsing, mapping to Vigile's records,
checking each is storable), in one process, against a directory naming every user and
record. The baseline of each, measured in the same run: the bare parse (``csv.reader`` of
the rows, ``orjson.loads`` of the lines), the floor of any Python reader of that format;
and the same reading with the check that each mapped record is one the store accepts
(:func:`vigile.sources.fields.storable`, the spec's encoder and decoder) replaced by a plain
``Mapped``, to show what that check costs.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import orjson
import pytest

from vigile.sources import Identities, Mapped, VendorLogReader
from vigile.sources.base import AGENT, CONTACT
from vigile.sources.salesforce import SALESFORCE, mapping

pytestmark = pytest.mark.bench

ROWS = int(os.environ.get("VIGILE_BENCH_SF_ROWS", "100000"))
GOAL = 100_000  # vendor events decoded a second (issue 17)
HEADER = [
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "CLIENT_IP",
    "LOGIN_KEY", "SESSION_KEY", "PAGE_ENTITY_ID", "PAGE_ENTITY_TYPE", "PREVPAGE_ENTITY_ID",
    "PREVPAGE_ENTITY_TYPE", "PAGE_URL", "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "APP_NAME",
    "BROWSER_NAME", "DURATION", "EFFECTIVE_PAGE_TIME",
]  # fmt: skip
USERS = 200
CONTACTS = 2000


def _user(n: int) -> str:
    return f"005D{n:011d}"


def _contact(n: int) -> str:
    return f"003D{n:011d}"


def _identities() -> Identities:
    ids = {("salesforce", _user(n)): (AGENT, f"a-{n}") for n in range(USERS)}
    ids |= {("salesforce_contact", _contact(n)): (CONTACT, f"k-{n}") for n in range(CONTACTS)}
    owners = {(CONTACT, f"k-{n}"): f"c-{n // 2}" for n in range(CONTACTS)}
    return Identities(ids=ids, owners=owners)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("salesforce")
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for n in range(ROWS):
        user, contact = _user(n % USERS), _contact(n % CONTACTS)
        second, milli = divmod(n, 1000)
        writer.writerow(
            [
                "LightningPageView", f"20240501{second // 3600 % 24:02d}{second // 60 % 60:02d}"
                f"{second % 60:02d}.{milli:03d}", f"4exLFFQZ{n:014d}", "00D000000000123",
                user, "96.43.144.26", f"lk{n // 50:014d}", "", contact, "Contact",
                "500D00000000001" if n % 3 else "", "Case" if n % 3 else "",
                f"/lightning/r/Contact/{contact}/view", "", user + "AAA", "one:one", "CHROME",
                "1234", "850",
            ]
        )  # fmt: skip
    elf = folder / "LightningPageView.csv"
    elf.write_text(out.getvalue())
    events = folder / "LoginEvent.jsonl"
    with open(events, "wb") as lines:
        for n in range(ROWS):
            obj = {
                "attributes": {"type": "LoginEvent", "url": f"/services/data/v60.0/x/{n}"},
                "EventIdentifier": f"0a4779b0-0da1-4619-a373-{n:012d}",
                "EventDate": f"2024-05-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "UserId": _user(n % USERS) + "AAA",
                "SourceIp": "96.43.144.26",
                "LoginKey": f"lk{n:014d}",
                "Status": "Success" if n % 10 else "Invalid Password",
                "CountryIso": "US",
                "LoginLatitude": 37.7749,
                "LoginLongitude": -122.4194,
                "Browser": "Chrome 120",
                "LoginType": "Application",
            }
            lines.write(orjson.dumps(obj) + b"\n")
    return elf, events


def _read(path: Path, identities: Identities) -> tuple[float, int]:
    start = time.perf_counter()
    reader = VendorLogReader(path, SALESFORCE, identities)
    records = sum(len(chunk.records) for chunk in reader.decoded_chunks(5000))
    return time.perf_counter() - start, records


def _parse_csv(path: Path) -> float:
    start = time.perf_counter()
    with open(path, newline="") as text:
        for _ in csv.reader(text):
            pass
    return time.perf_counter() - start


def _parse_json(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as lines:
        for line in lines:
            orjson.loads(line)
    return time.perf_counter() - start


def test_salesforce_decoding_rate(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    elf, events = files
    identities = _identities()
    csv_floor = _parse_csv(elf)
    csv_seconds, views = _read(elf, identities)
    json_floor = _parse_json(events)
    json_seconds, signins = _read(events, identities)
    assert (views, signins) == (ROWS, ROWS)
    monkeypatch.setattr(mapping, "storable", lambda records, **_: Mapped(records=tuple(records)))
    csv_unchecked, _ = _read(elf, identities)
    json_unchecked, _ = _read(events, identities)
    print(
        f"\nLightningPageView CSV, {ROWS:,} rows: {ROWS / csv_seconds:,.0f} events/s "
        f"(csv.reader alone: {ROWS / csv_floor:,.0f} rows/s, {csv_seconds / csv_floor:.1f}x; "
        f"without the storable check: {ROWS / csv_unchecked:,.0f} events/s)"
        f"\nLoginEvent JSON lines, {ROWS:,} objects: {ROWS / json_seconds:,.0f} events/s "
        f"(orjson.loads alone: {ROWS / json_floor:,.0f} lines/s, "
        f"{json_seconds / json_floor:.1f}x; "
        f"without the storable check: {ROWS / json_unchecked:,.0f} events/s)"
    )
    assert min(ROWS / csv_seconds, ROWS / json_seconds) >= GOAL
