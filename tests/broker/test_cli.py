"""``vigile broker`` commands: tokens, policy checks, grants, containment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.broker.conftest import DIRECTORY
from vigile.cli.app import app
from vigile.ingest.record import Recorder
from vigile.settings import Settings
from vigile.store import Store


@pytest.fixture
def env(store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    Recorder(store).record(DIRECTORY)
    monkeypatch.setenv("VIGILE_DB", settings.db)
    monkeypatch.setenv("VIGILE_LEDGER_KEY", settings.ledger_key)
    monkeypatch.setenv("VIGILE_BROKER_TOKEN_KEY", str(tmp_path / "broker.key"))
    return store


def test_token_check_and_containment(env: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    issued = runner.invoke(app, ["broker", "token", "a-1", "--role", "supervisor"])
    assert issued.exit_code == 0, issued.output
    assert issued.output.count(".") == 2
    assert oct(os.stat(tmp_path / "broker.key").st_mode & 0o777) == "0o600"
    checked = runner.invoke(app, ["broker", "check"])
    assert "export-forbidden" in checked.output
    suspended = runner.invoke(
        app, ["broker", "suspend", "a-1", "--reason", "alert", "--analyst", "ana"]
    )
    assert "a-1: suspended" in suspended.output
    resumed = runner.invoke(app, ["broker", "resume", "a-1", "--reason", "ok", "--analyst", "ana"])
    assert "a-1: resumed" in resumed.output
    listed = runner.invoke(app, ["broker", "grants", "--format", "json"])
    assert listed.output.strip() == "[]"
    made = runner.invoke(app, ["broker", "integration-token"])
    assert "VIGILE_BROKER_INTEGRATION_TOKEN=" in made.output


def test_an_invalid_policy_folder_exits_1_with_file_and_line(env: Store, tmp_path: Path) -> None:
    from vigile.cli.app import main  # noqa: PLC0415

    bad = tmp_path / "policies"
    bad.mkdir()
    (bad / "x.cedar").write_text("\n\npermit (principal, action, resource) when { nope };\n")
    with pytest.raises(SystemExit) as exited:
        main(["broker", "check", str(bad)])
    assert exited.value.code == 1
