"""The ``vigile`` command: exit codes, JSON output, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from tests.conftest import SPEC_EXAMPLE
from vigile.cli.app import app, main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("command", sorted(typer.main.get_group(app).commands))
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "Usage: vigile" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", "--no-such-option")
    assert code == 2
    assert "No such option" in err


def test_ingest_prints_a_summary_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ingest", str(SPEC_EXAMPLE))
    assert code == 0
    assert "7 records" in out
    code, out, _ = run(capsys, "ingest", str(SPEC_EXAMPLE), "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["records"], summary["duplicates"], summary["stored"]) == (7, 4, {})
    code, out, _ = run(capsys, "stats", "--format", "json")
    assert json.loads(out)["tables"]["accesses"] == 1


def test_invalid_line_fails_with_its_location_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(SPEC_EXAMPLE.read_text() + '{"kind": "signin", "id": "x"}\n')
    code, out, err = run(capsys, "ingest", str(bad))
    assert code == 1
    assert f"{bad}:9: time: required field is missing" in err.replace("\n", "")
    assert "Traceback" not in err
    run(capsys, "stats", "--format", "json")
    code, out, _ = run(capsys, "stats", "--format", "json")
    assert set(json.loads(out)["tables"].values()) == {0}


def test_skip_invalid_reports_the_count(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(SPEC_EXAMPLE.read_text() + "{oops\n")
    code, out, _ = run(capsys, "ingest", str(bad), "--skip-invalid")
    assert code == 0
    assert "1 invalid lines skipped" in out


def test_missing_store_for_a_reader_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stats")
    assert code == 1
    assert err.startswith("error: ")
    assert "no Vigile store here" in err


def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "ingest", str(tmp_path / "nope.jsonl"))
    assert code == 1
    assert "no such file" in err


def test_unwritable_output_folder_for_simulate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(
        capsys, "simulate", "--agents", "5", "--days", "2", "--out", str(blocker / "out")
    )
    assert code == 1
    assert "error:" in err
    assert "Traceback" not in err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    env = {**os.environ, "VIGILE_DB": str(tmp_path / "x.db")}
    done = subprocess.run(
        [sys.executable, "-m", "vigile", "ingest", str(SPEC_EXAMPLE), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["records"] == 7
