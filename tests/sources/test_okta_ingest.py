"""End to end: ``vigile directory import`` then ``vigile ingest --from okta``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.sources.cli import jsonl, run, table_counts
from tests.sources.test_okta import DOCS_IMPERSONATION, DOCS_POLICY_DENY, DOCS_SESSION_START
from vigile.ingest import ingest_file
from vigile.model.times import EARLIEST, LATEST
from vigile.sources import import_directory, source_named
from vigile.store import Store

SAMPLES = Path(__file__).parent / "okta" / "events.jsonl"
DIRECTORY_CSV = (
    "kind,id,name,team,tier,country,employer,okta_login,zendesk_id\n"
    "agent,a-1,Ann,billing-emea,1,IE,contoso,Admin@Okta.com,361\n"
    "agent,a-2,Homer,billing-emea,2,US,,homer.simpson@duff.com,\n"
    "customer,c-1,Ministry of Examples,,government,US,,,9001\n"
)
UNKNOWN = {**DOCS_SESSION_START, "uuid": "u-unknown", "actor": {"id": "9", "alternateId": "z@x"}}


def test_directory_then_okta_log_stores_signins_once_and_reports_the_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    code, out, _ = run(capsys, "directory", "import", str(directory), "--format", "json")
    assert code == 0, out
    assert json.loads(out) | {"store": "", "source": ""} == {
        "store": "",
        "source": "",
        "agents": 2,
        "customers": 1,
        "identities": 4,
        "contacts": 0,
        "accounts": 0,
    }
    log = jsonl(
        tmp_path / "okta.jsonl",
        [DOCS_SESSION_START, DOCS_POLICY_DENY, DOCS_IMPERSONATION, UNKNOWN],
    )
    code, out, _ = run(capsys, "ingest", "--from", "okta", str(log), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["format"] == "okta"
    assert summary["stored"] == {"signin": 2, "audit": 1}
    assert summary["unmapped"] == {"Okta login not in the directory": 1}
    assert summary["unmapped_examples"] == {"Okta login not in the directory": [f"{log}:4: z@x"]}
    again = tmp_path / "again.jsonl.gz"
    again.write_bytes(gzip.compress(log.read_bytes()))
    code, out, _ = run(capsys, "ingest", "--from", "okta", str(again), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 3)
    tables = table_counts(capsys)
    assert (tables["signins"], tables["audit_events"], tables["agents"]) == (2, 1, 2)
    code, out, _ = run(capsys, "ingest", "--from", "okta", str(log))
    assert code == 0
    assert "1 kept aside" in out
    assert "z@x" in out


def test_the_real_samples_ingest_with_skip_invalid_and_count_what_they_skip(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "ingest", "--from", "okta", str(SAMPLES), "--skip-invalid", "--format", "json"
    )
    assert code == 0, out
    summary = json.loads(out)
    assert summary["skipped"] == 16  # refused lines: see test_okta's list
    assert summary["unsupported"]["system.org.rate_limit.warning"] == 4
    assert sum(summary["unmapped"].values()) == 20  # an empty directory maps nobody
    assert summary["stored"] == {}


@pytest.mark.parametrize(
    ("content", "located"),
    [
        (b'{"uuid": "x", "published": \n', ":1: json: not a JSON object"),
        (b"[1, 2]\n", ":1: json: expected a JSON object"),
        (json.dumps({**DOCS_POLICY_DENY, "uuid": None}).encode(), ":1: uuid: required"),
        (
            json.dumps(DOCS_POLICY_DENY).encode()
            + b"\n"
            + json.dumps({**DOCS_POLICY_DENY, "published": "2021-13-01T00:00:00Z"}).encode(),
            ":2: published: not a time",
        ),
        (json.dumps({"kind": "signin", "id": "e-1"}).encode(), ":1: eventType: not an Okta"),
    ],
)
def test_bad_input_is_refused_with_file_line_and_field_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, located: str
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    assert run(capsys, "directory", "import", str(directory))[0] == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    code, _, err = run(capsys, "ingest", "--from", "okta", str(bad))
    assert code != 0
    assert f"{bad}{located}" in " ".join(err.split())
    assert table_counts(capsys)["signins"] == 0


def test_a_truncated_gzip_is_refused_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    assert run(capsys, "directory", "import", str(directory))[0] == 0
    whole = gzip.compress(
        b"".join(
            json.dumps({**DOCS_POLICY_DENY, "uuid": f"u-{n}"}).encode() + b"\n" for n in range(2000)
        )
    )
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    code, _, err = run(capsys, "ingest", "--from", "okta", str(cut))
    assert code != 0
    assert "breaks off" in err
    assert table_counts(capsys)["signins"] == 0


def test_an_unknown_source_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "ingest", "--from", "splunk", str(tmp_path / "x.jsonl"))
    assert code != 0
    assert "no source named 'splunk' (known: " in err
    assert "okta" in err.split("known: ")[1]


@pytest.mark.parametrize(
    ("csv", "located"),
    [
        ("kind,id,okta_logon\nagent,a-1,x\n", ":1: header: unknown columns ['okta_logon']"),
        ("kind,id,tier\nagent,a-1,gold\n", ":2: tier: expected 1, 2 or 3"),
        ("kind,id\nrobot,r-1\n", ":2: kind: expected agent, customer, contact or account"),
        ("kind,id,team\ncustomer,c-1,x\n", ":2: team: not a column of a customer"),
        (
            "kind,id,okta_login\nagent,a-1,ann@x\nagent,a-2,ANN@x\n",
            ":3: okta_login: 'ann@x' already names another record on line 2",
        ),
    ],
)
def test_a_bad_directory_is_refused_by_row_and_column_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, csv: str, located: str
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(csv)
    code, _, err = run(capsys, "directory", "import", str(directory))
    assert code != 0
    assert f"{directory}{located}" in " ".join(err.split())
    assert table_counts(capsys)["agents"] == 0


def test_directory_import_is_idempotent_and_a_newer_file_moves_a_login(
    store: Store, tmp_path: Path
) -> None:
    first = tmp_path / "one.csv"
    first.write_text("kind,id,okta_login\nagent,a-1,ann@x\nagent,a-2,bob@x\n")
    import_directory(store, first)
    import_directory(store, first)
    moved = tmp_path / "two.jsonl"
    moved.write_text('{"kind": "agent", "id": "a-2", "okta_login": "Ann@X"}\n')
    import_directory(store, moved)
    event = {**DOCS_POLICY_DENY, "actor": {"id": "1", "alternateId": "ann@x"}}
    log = jsonl(tmp_path / "okta.jsonl", [event])
    summary = ingest_file(store, log, source=source_named("okta"))
    assert summary.stored == {"signin": 1}
    assert len(store.events_of_agent("a-2", EARLIEST, LATEST)) == 1
    assert store.events_of_agent("a-1", EARLIEST, LATEST) == []
