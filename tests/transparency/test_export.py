"""Exports of a listing: JSON, CSV (RFC 4180) and OCSF API Activity, the OCSF of the
spec's example and the CSV of a log full of formulas checked against golden files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.conftest import SPEC_EXAMPLE
from tests.ocsf_schema import validate
from tests.transparency.sample import (
    ENGINES,
    EVENTS,
    GOLDEN,
    OWN,
    assert_no_agent_name,
    sample_store,
)
from vigile.ingest import ingest_file
from vigile.model import Access, Action, Reason
from vigile.store import Store
from vigile.transparency import (
    CSV_HEADER,
    AccessListing,
    AccessProof,
    ProofStatus,
    Transparency,
    entry_of,
    listing_csv,
    listing_json,
    listing_ocsf,
)

#: A log whose agent typed formulas into everything free-form (see data/README.md).
FORMULAS = Path(__file__).parent / "data" / "formulas.jsonl"

WHEN = datetime(2021, 5, 20, 9, 31, 5, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def listing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccessListing]:
    with sample_store(request.param, tmp_path_factory.mktemp("export")) as store:
        yield Transparency(store).accesses(OWN)


def test_ocsf_of_the_spec_example_is_the_golden_file(store: Store) -> None:
    ingest_file(store, SPEC_EXAMPLE)
    golden = json.loads((GOLDEN / "spec-example-ocsf.json").read_text())
    assert listing_ocsf(Transparency(store).accesses("c-00412")) == [golden]
    validate(golden)


def test_csv_has_the_stable_header_and_one_row_per_access(listing: AccessListing) -> None:
    text = listing_csv(listing)
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    assert text.count("\r\n") == len(listing.entries) + 1
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["event_id"] for row in rows] == EVENTS[OWN]
    contact = rows[EVENTS[OWN].index("e-2")]
    assert contact["fields"] == "contact.name contact.role"
    assert contact["masked_fields"] == "contact.email contact.phone"
    assert (contact["proof_status"], contact["tree_size"]) == ("included", str(listing.tree_size))
    denied = rows[EVENTS[OWN].index("e-13")]
    assert denied["deny_reason"] == "no open ticket of this customer assigned to the agent"


def test_no_csv_cell_is_a_formula_and_each_reads_back(store: Store) -> None:
    # Denied requests are recorded with whatever the agent typed; the customer's export
    # must not run it (issue 16, item 2).
    ingest_file(store, FORMULAS)
    text = listing_csv(Transparency(store).accesses(OWN))
    assert text.encode() == (GOLDEN / "formulas.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
            assert cell.lstrip()[:1] not in ("=", "+", "-", "@")
    # Each value is the cell without the one quote put in front of it.
    typed = [json.loads(line) for line in FORMULAS.read_text().splitlines()]
    accesses = [record for record in typed if record["kind"] == "access"]
    for row, access in zip(rows, accesses, strict=True):
        for column in ("session", "object", "ticket", "deny_reason"):
            assert row[column].removeprefix("'") == access[column]
        assert row["agent_employer"].removeprefix("'") == "=1+2"
        assert row["leaf_index"].isdigit()  # Vigile's own numbers stay numbers


def test_csv_header_is_frozen() -> None:
    # Consumers read columns by position: new ones go at the end, none ever moves.
    assert CSV_HEADER[:8] == (
        "time",
        "event_id",
        "agent",
        "agent_employer",
        "agent_country",
        "session",
        "ip",
        "action",
    )
    assert CSV_HEADER[18:] == ("leaf_hash", "incident")  # incident came after leaf_hash
    assert len(CSV_HEADER) == len(set(CSV_HEADER)) == 20


def test_an_analysts_read_is_justified_by_its_incident_in_every_export() -> None:
    read = Access(
        id="acc-1",
        time=WHEN,
        agent="sam",
        session="s-9",
        action=Action.CUSTOMER_VIEW,
        outcome="allowed",
        customer=OWN,
        fields=("customer.name",),
        masked_fields=("contact.email",),
        reason=Reason.AGENT_INITIATED_REVIEW,
        extra={"incident": "INC-0001"},
    )
    entry = entry_of(
        read,
        customer_id=OWN,
        agent=None,
        proof=AccessProof(status=ProofStatus.PENDING, leaf_index=3),
    )
    listing = AccessListing(
        customer=OWN, since=None, until=None, checkpoint="", tree_size=3, entries=(entry,)
    )
    [shown] = listing_json(listing)["accesses"]
    assert shown["justification"] == {
        "reason": "agent_initiated_review",
        "ticket": None,
        "incident": "INC-0001",
    }
    [row] = csv.DictReader(io.StringIO(listing_csv(listing), newline=""))
    assert (row["reason"], row["ticket"], row["incident"]) == (
        "agent_initiated_review",
        "",
        "INC-0001",
    )
    [event] = listing_ocsf(listing)
    validate(event)
    assert event["unmapped"]["justification"] == {
        "reason": "agent_initiated_review",
        "incident": "INC-0001",
    }


def test_ocsf_activity_status_and_resources(listing: AccessListing) -> None:
    events = {event["metadata"]["uid"]: event for event in listing_ocsf(listing)}
    for event in events.values():
        validate(event)
    assert [event["class_uid"] for event in events.values()] == [6003] * 4
    grant, denied, search = events["e-4"], events["e-13"], events["e-3"]
    assert (grant["activity_id"], grant["type_uid"]) == (1, 600301)
    assert grant["activity_name"] == "Create"
    assert (denied["activity_id"], denied["status_id"], denied["status"]) == (2, 2, "Failure")
    assert denied["status_detail"] == "no open ticket of this customer assigned to the agent"
    assert denied["unmapped"]["justification"] == {"reason": "break_glass"}
    # A search: the customer only, by name; nothing of the query or the other results.
    assert search["resources"] == [
        {"uid": OWN, "type": "customer", "data": {"fields": ["customer.name"], "masked_fields": []}}
    ]
    assert "examp" not in orjson.dumps(search).decode()
    assert "c-00999" not in orjson.dumps(search).decode()


def test_exports_name_no_other_customer_and_no_agent(listing: AccessListing) -> None:
    leaves = [e.proof.bundle.leaf for e in listing.entries if e.proof.bundle is not None]
    exported = [
        orjson.dumps(listing_json(listing)).decode(),
        listing_csv(listing),
        orjson.dumps(listing_ocsf(listing)).decode(),
        *(leaf.decode() for leaf in leaves if leaf is not None),
    ]
    for text in exported:
        assert_no_agent_name(text)
        assert "c-00999" not in text
        assert "Example Widgets" not in text
