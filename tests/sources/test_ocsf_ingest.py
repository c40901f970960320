"""End to end: ``vigile directory import`` then ``vigile ingest --from ocsf``; and
Vigile's own ``vigile export --format ocsf`` read back into another store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sources.cli import import_directory_file, jsonl, run, table_counts
from tests.sources.test_ocsf import LOGON, READ_CONTACT

DIRECTORY_CSV = (
    "kind,id,name,tier,country,ocsf_id\n"
    "agent,a-1,Ann,1,IE,ann@contoso.example\n"
    "agent,a-2,Bob,2,US,A-2\n"
    "customer,c-412,Ministry of Examples,government,US,CRM-412\n"
)
UNKNOWN = {**LOGON, "metadata": {"uid": "evt-9"}, "user": {"email_addr": "eve@evil.example"}}
NOT_READ = {**LOGON, "metadata": {"uid": "evt-8"}, "class_uid": 4001}


def test_directory_then_ocsf_stores_once_counts_classes_and_reports_the_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import_directory_file(capsys, tmp_path, DIRECTORY_CSV)
    log = jsonl(tmp_path / "ocsf.jsonl", [LOGON, READ_CONTACT, UNKNOWN, NOT_READ])
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(log), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["format"] == "ocsf"
    assert summary["stored"] == {"signin": 1, "access": 1}
    assert summary["unsupported"] == {"4001": 1}
    assert summary["unmapped_examples"] == {
        "OCSF user not in the directory": [f"{log}:3: eve@evil.example"]
    }
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(log), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 2)
    tables = table_counts(capsys)
    assert (tables["signins"], tables["accesses"]) == (1, 1)


@pytest.mark.parametrize(
    ("content", "located"),
    [
        (b'{"class_uid": 3002, \n', ":1: json: not a JSON object"),
        (json.dumps({**LOGON, "metadata": {}}).encode(), ":1: metadata.uid: required"),
        (
            json.dumps(LOGON).encode() + b"\n" + json.dumps({**LOGON, "time": "now"}).encode(),
            ":2: time: expected epoch milliseconds",
        ),
    ],
)
def test_bad_input_is_refused_with_file_line_and_field_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, located: str
) -> None:
    import_directory_file(capsys, tmp_path, DIRECTORY_CSV)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    code, _, err = run(capsys, "ingest", "--from", "ocsf", str(bad))
    assert code != 0
    assert f"{bad}{located}" in " ".join(err.split())
    assert table_counts(capsys)["signins"] == 0


ACTIVITY_LOG = [
    {"kind": "header", "format": "vigile-activity", "version": 1},
    {"kind": "agent", "id": "a-0017", "team": "billing-emea", "country": "IE"},
    {"kind": "customer", "id": "c-00412", "tier": "government", "country": "US"},
    {
        "kind": "signin",
        "time": "2021-05-20T08:01:40Z",
        "id": "e-1",
        "agent": "a-0017",
        "session": "s-9f3",
        "ip": "198.51.100.23",
        "country": "IE",
        "device": "d-77",
        "mfa": "push",
        "outcome": "success",
    },
    {
        "kind": "access",
        "time": "2021-05-20T09:31:05Z",
        "id": "e-2",
        "agent": "a-0017",
        "session": "s-9f3",
        "action": "contact.view",
        "customer": "c-00412",
        "object": "k-00412-1",
        "ip": "198.51.100.23",  # the write path fills it from the session's sign-in anyway
        "fields": ["contact.name", "contact.role"],
        "masked_fields": ["contact.email", "contact.phone"],
        "ticket": "T-88121",
        "reason": "customer_initiated_support",
        "outcome": "allowed",
    },
]


def test_vigile_s_ocsf_export_read_back_gives_the_same_signins_and_accesses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec's example through one store, exported as OCSF, ingested into another
    store with ``--from ocsf`` and exported as the spec: the same sign-in and access,
    ids and sessions prefixed ``ocsf:``."""
    log = jsonl(tmp_path / "activity.jsonl", ACTIVITY_LOG)
    assert run(capsys, "ingest", str(log))[0] == 0
    siem = tmp_path / "siem.jsonl"
    assert run(capsys, "export", "--out", str(siem), "--format", "ocsf")[0] == 0
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "other.db"))
    import_directory_file(
        capsys,
        tmp_path,
        "kind,id,team,country,tier,ocsf_id\n"
        "agent,a-0017,billing-emea,IE,,a-0017\n"
        "customer,c-00412,,US,government,c-00412\n",
    )
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(siem), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"signin": 1, "access": 1}
    back = tmp_path / "back.jsonl"
    assert run(capsys, "export", "--out", str(back))[0] == 0
    read = {r["kind"]: r for r in map(json.loads, back.read_text().splitlines())}
    for original in ACTIVITY_LOG[3:]:
        again = read[original["kind"]]
        assert (again.pop("id"), again.pop("session")) == (
            f"ocsf:{original['id']}",
            f"ocsf:{original['session']}",
        )
        assert again.pop("source") == "ocsf"
        kept = {k: v for k, v in again.items() if not k.startswith("ocsf_")}
        assert kept == {k: v for k, v in original.items() if k not in ("id", "session")}
