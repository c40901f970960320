"""`vigile ledger`: the CLI contract of the acceptance checks, and the offline verifier."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.conftest import SPEC_EXAMPLE


@pytest.fixture(autouse=True)
def _store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("COLUMNS", "200")
    assert run(capsys, "ingest", str(SPEC_EXAMPLE))[0] == 0


def json_of(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_checkpoint_contract(capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = json_of(capsys, "ledger", "checkpoint")
    assert {"size", "root", "signature", "key_id", "public_key"} <= checkpoint.keys()
    assert checkpoint["size"] == 4


def test_prove_contract(capsys: pytest.CaptureFixture[str]) -> None:
    proof = json_of(capsys, "ledger", "prove", "e-2")
    assert list(proof) == ["leaf_index", "tree_size", "leaf", "leaf_hash", "proof", "root"]
    assert (proof["leaf_index"], proof["tree_size"]) == (3, 4)


def test_consistency_contract(capsys: pytest.CaptureFixture[str]) -> None:
    proof = json_of(capsys, "ledger", "consistency", "2")
    assert list(proof) == ["size1", "size2", "root1", "root2", "proof"]
    assert (proof["size1"], proof["size2"]) == (2, 4)


def test_consistency_rejects_sizes_beyond_the_ledger(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ledger", "consistency", "9")
    assert code == 1
    assert "OLD_SIZE" in err


def test_verify_then_tamper(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert json_of(capsys, "ledger", "verify")["ok"] is True
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("DROP TRIGGER accesses_no_update")
        conn.execute("UPDATE accesses SET ticket = 'T-FORGED'")
    code, out, err = run(capsys, "ledger", "verify", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["first_bad_entry"]) == (False, 3)
    code, _, err = run(capsys, "ledger", "verify")
    assert code == 1
    assert "entry 3 (event e-2 in accesses)" in err


def test_offline_verification(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.txt"
    assert run(capsys, "ledger", "checkpoint", "--out", str(checkpoint))[0] == 0
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(json_of(capsys, "ledger", "prove", "e-1")))
    key = tmp_path / "vigile-ledger.key.pub"
    args = ["ledger", "check-proof", str(proof), "--checkpoint", str(checkpoint), "--key", str(key)]
    code, out, _ = run(capsys, *args)
    assert (code, "entry 0 is in the ledger of 4" in out) == (0, True)  # earliest in time
    bad = json.loads(proof.read_text()) | {"leaf_index": 1}
    proof.write_text(json.dumps(bad))
    code, _, err = run(capsys, *args)
    assert code == 1
    assert "proof rejected" in err
