"""End to end: ``vigile directory import`` then ``vigile ingest --from entra``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.sources.cli import jsonl, run, table_counts
from tests.sources.test_entra import DOCS_EXPORT_MFA, DOCS_GRAPH_FAILURE, DOCS_GRAPH_SIGNIN, USER

SAMPLES = Path(__file__).parent / "entra" / "events.jsonl"
DIRECTORY_CSV = (
    "kind,id,name,team,tier,country,employer,entra_id\n"
    f"agent,a-1,Ann,billing-emea,1,IE,contoso,{USER.upper()}\n"
    "customer,c-1,Ministry of Examples,,government,US,,\n"
)
UNKNOWN = {**DOCS_GRAPH_SIGNIN, "id": "u-unknown", "userId": "9", "userPrincipalName": "z@x"}


def test_directory_then_entra_log_stores_signins_once_and_reports_the_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    code, out, _ = run(capsys, "directory", "import", str(directory), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["agents"], json.loads(out)["identities"]) == (1, 1)
    log = jsonl(
        tmp_path / "entra.jsonl",
        [DOCS_GRAPH_SIGNIN, DOCS_GRAPH_FAILURE, DOCS_EXPORT_MFA, UNKNOWN],
    )
    code, out, _ = run(capsys, "ingest", "--from", "entra", str(log), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["format"] == "entra"
    assert summary["stored"] == {"signin": 3}
    assert summary["unmapped"] == {"Entra user not in the directory": 1}
    assert summary["unmapped_examples"] == {
        "Entra user not in the directory": [f"{log}:4: 9 (z@x)"]
    }
    again = tmp_path / "again.jsonl.gz"
    again.write_bytes(gzip.compress(log.read_bytes()))
    code, out, _ = run(capsys, "ingest", "--from", "entra", str(again), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 3)
    assert table_counts(capsys)["signins"] == 3
    code, out, _ = run(capsys, "ingest", "--from", "entra", str(log))
    assert code == 0
    assert "1 kept aside" in out
    assert "z@x" in out


def test_the_real_samples_ingest_with_skip_invalid_and_count_what_they_skip(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "ingest", "--from", "entra", str(SAMPLES), "--skip-invalid", "--format", "json"
    )
    assert code == 0, out
    summary = json.loads(out)
    assert summary["skipped"] == 16  # refused lines: see test_entra's list
    assert summary["unsupported"]["ServicePrincipalSignInLogs"] == 8
    assert summary["unsupported"]["AuditLogs"] == 15
    assert sum(summary["unmapped"].values()) == 2  # an empty directory maps nobody
    assert summary["stored"] == {}


@pytest.mark.parametrize(
    ("content", "located"),
    [
        (b'{"id": "x", "createdDateTime": \n', ":1: json: not a JSON object"),
        (json.dumps({**DOCS_GRAPH_SIGNIN, "id": None}).encode(), ":1: id: required"),
        (
            json.dumps(DOCS_GRAPH_SIGNIN).encode()
            + b"\n"
            + json.dumps(
                {**DOCS_EXPORT_MFA, "properties": {"id": "1", "createdDateTime": "x"}}
            ).encode(),
            ":2: properties.createdDateTime: not a time",
        ),
        (json.dumps({"kind": "signin"}).encode(), ":1: category: not an Entra sign-in"),
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
    code, _, err = run(capsys, "ingest", "--from", "entra", str(bad))
    assert code != 0
    assert f"{bad}{located}" in " ".join(err.split())
    assert table_counts(capsys)["signins"] == 0
