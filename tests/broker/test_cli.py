"""``vigile broker`` commands: tokens, policy checks, grants, containment."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.broker.conftest import DIRECTORY
from vigile.cli.app import app
from vigile.record import Recorder
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
    wrong = runner.invoke(app, ["broker", "grants", "--status", "waiting"])
    assert wrong.exit_code != 0
    made = runner.invoke(app, ["broker", "integration-token"])
    assert "VIGILE_BROKER_INTEGRATION_TOKEN=" in made.output


def test_approvers_list_the_pending_grants(env: Store, settings: Settings) -> None:
    from datetime import timedelta  # noqa: PLC0415

    from tests.broker.conftest import principal  # noqa: PLC0415
    from vigile.broker import Broker, Notifier  # noqa: PLC0415

    broker = Broker(env, settings, notifier=Notifier([]))
    asks = [
        broker.request_grant(
            principal("a-1"),
            customer,
            classes=("contact",),
            duration=timedelta(hours=1),
            reason="customer_initiated_support",
            ticket=None,
        )
        for customer in ("c-1", "c-2")
    ]
    broker.grants.deny(asks[1].id, approver="sup-1")
    broker.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["broker", "grants", "--status", "pending", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [g["id"] for g in json.loads(listed.output)] == [asks[0].id]
    every = runner.invoke(app, ["broker", "grants", "--format", "json"])
    assert {g["status"] for g in json.loads(every.output)} == {"pending", "denied"}


def test_an_invalid_policy_folder_exits_1_with_file_and_line(env: Store, tmp_path: Path) -> None:
    from vigile.cli.app import main  # noqa: PLC0415

    bad = tmp_path / "policies"
    bad.mkdir()
    (bad / "x.cedar").write_text("\n\npermit (principal, action, resource) when { nope };\n")
    with pytest.raises(SystemExit) as exited:
        main(["broker", "check", str(bad)])
    assert exited.value.code == 1
