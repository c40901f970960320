"""End to end: ``vigile directory import`` then ``vigile ingest --from zendesk``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sources.cli import import_directory_file, jsonl, run, table_counts
from tests.sources.test_zendesk import (
    DOCS_AUDIT_LOG,
    DOCS_CLOSED,
    DOCS_CREATE,
    DOCS_REASSIGN,
    DOCS_SOLVED,
    DOCS_SOLVED_EVENT,
    DOCS_TICKET_EVENT,
)
from vigile.sources import directory

SAMPLES = Path(__file__).parent / "zendesk" / "events.jsonl"
DIRECTORY_CSV = (
    "kind,id,name,team,tier,country,employer,okta_login,zendesk_id\n"
    "agent,a-1,Ann,billing-emea,1,IE,contoso,ann@x,35436\n"
    "agent,a-2,Bob,billing-emea,2,US,,,361\n"
    "customer,c-1,Ministry of Examples,,government,US,,,9001\n"
)
UNKNOWN_ORG = {
    **DOCS_CREATE,
    "id": 1100,
    "ticket_id": 48,
    "events": [
        {"id": 3001, "type": "Create", "field_name": "status", "value": "new"},
        {"id": 3002, "type": "Create", "field_name": "organization_id", "value": 4242},
    ],
}


def _directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert import_directory_file(capsys, tmp_path, DIRECTORY_CSV)["identities"] == 4


def test_directory_then_zendesk_stores_ticket_steps_once_and_reports_the_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _directory(capsys, tmp_path)
    log = jsonl(
        tmp_path / "zendesk.jsonl",
        [DOCS_CREATE, DOCS_REASSIGN, DOCS_SOLVED, DOCS_CLOSED, DOCS_AUDIT_LOG, UNKNOWN_ORG],
    )
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(log), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["format"] == "zendesk"
    assert summary["stored"] == {"ticket": 4, "audit": 1}  # opened, assigned x2, closed
    assert summary["unsupported"] == {"ticket audit without a step": 1}
    assert summary["unmapped"] == {"Zendesk organization not in the directory": 1}
    assert summary["unmapped_examples"] == {
        "Zendesk organization not in the directory": [f"{log}:6: 4242"]
    }
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(log), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 5)
    tables = table_counts(capsys)
    assert (tables["ticket_events"], tables["audit_events"]) == (4, 1)
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(log))
    assert code == 0
    assert "1 kept aside" in out
    assert "4242" in out


def test_the_real_samples_ingest_and_count_what_they_cannot_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _directory(capsys, tmp_path)
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(SAMPLES), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["skipped"] == 0  # no line is refused
    assert summary["unsupported"] == {"ticket audit without a step": 101, "activity": 2}
    assert summary["unmapped"] == {
        # each names its requester, whom this directory does not have as a contact
        "ticket opened without organization_id, its requester not a contact in the directory": 11,
        "Zendesk user not in the directory": 21,  # the audit-log actors are not agents here
    }
    assert summary["stored"] == {}


def test_audits_and_their_ticket_events_ingested_together_store_each_step_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The ticket-event export of the same updates (in one file or two, in either order)
    adds nothing: its ids are the audits'."""
    _directory(capsys, tmp_path)
    events = jsonl(tmp_path / "ticket_events.jsonl", [DOCS_TICKET_EVENT, DOCS_SOLVED_EVENT])
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(events), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"ticket": 3}  # opened, assigned, closed
    audits = jsonl(tmp_path / "audits.jsonl", [DOCS_CREATE, DOCS_REASSIGN, DOCS_SOLVED])
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(audits), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert (summary["stored"], summary["duplicates"]) == ({"ticket": 1}, 3)  # the reassignment
    assert table_counts(capsys)["ticket_events"] == 4


@pytest.mark.skipif(
    "customer" not in directory.COLUMNS,
    reason="the directory file's contacts (their zendesk_id) come with the Salesforce work",
)
def test_a_ticket_without_organisation_is_its_requester_s_customer_through_the_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A contact's ``zendesk_id`` (Zendesk end user 5) names the customer of the tickets
    it requests when the audit sets no organisation."""
    import_directory_file(
        capsys,
        tmp_path,
        "kind,id,name,tier,country,customer,zendesk_id\n"
        "agent,a-1,Ann,1,IE,,35436\n"
        "customer,c-7,Example Ltd,smb,GB,,\n"
        "contact,k-7-1,Bo,,,c-7,5\n",
    )
    children = [c for c in DOCS_TICKET_EVENT["child_events"] if "organization_id" not in c]
    log = jsonl(tmp_path / "z.jsonl", [{**DOCS_TICKET_EVENT, "child_events": children}])
    code, out, _ = run(capsys, "ingest", "--from", "zendesk", str(log), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"ticket": 2}
    back = tmp_path / "back.jsonl"
    assert run(capsys, "export", "--out", str(back))[0] == 0
    opened = [
        r for r in map(json.loads, back.read_text().splitlines()) if r.get("event") == "opened"
    ]
    assert [(r["ticket"], r["customer"]) for r in opened] == [("zendesk:47", "c-7")]


@pytest.mark.parametrize(
    ("content", "located"),
    [
        (b'{"id": 1, "ticket_id": \n', ":1: json: not a JSON object"),
        (json.dumps({**DOCS_CREATE, "ticket_id": None}).encode(), ":1: ticket_id: required"),
        (
            json.dumps(DOCS_CREATE).encode()
            + b"\n"
            + json.dumps({**DOCS_REASSIGN, "created_at": "2021-13-01T00:00:00Z"}).encode(),
            ":2: created_at: not a time",
        ),
        (
            json.dumps({**DOCS_REASSIGN, "events": [{"id": 1, "type": "Change"}]}).encode(),
            ":1: events[0].field_name: required",
        ),
        (json.dumps({"kind": "ticket", "id": "e-1"}).encode(), ":1: events: not a Zendesk"),
        (
            json.dumps(DOCS_TICKET_EVENT).encode()
            + b"\n"
            + json.dumps(
                {**DOCS_SOLVED_EVENT, "child_events": [{"id": 4, "status": "x"}]}
            ).encode(),
            ":2: child_events[0].event_type: required",
        ),
    ],
)
def test_bad_input_is_refused_with_file_line_and_field_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, located: str
) -> None:
    _directory(capsys, tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    code, _, err = run(capsys, "ingest", "--from", "zendesk", str(bad))
    assert code != 0
    assert f"{bad}{located}" in " ".join(err.split())
    assert table_counts(capsys)["ticket_events"] == 0
