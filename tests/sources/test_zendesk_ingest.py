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
)

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
        "ticket opened without organization_id": 11,
        "Zendesk user not in the directory": 21,  # the audit-log actors are not agents here
    }
    assert summary["stored"] == {}


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
