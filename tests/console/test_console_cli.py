"""``vigile console``: local accounts from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.test_cli import run
from tests.console.conftest import csrf_of, sign_in
from tests.console.world import Login
from vigile.model import Agent
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("VIGILE_DB", str(path))
    with Store.open(Settings(db=str(path)), create=True) as store:
        Recorder(store).record([Agent(id="a-1", tier=1, team="emea")])
    return path


def test_add_list_disable(
    cli_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Lines("a long enough password\n"))
    code, out, _ = run(
        capsys, "console", "add", "ann", "--role", "agent", "--subject", "a-1",
        "--password-stdin", "--format", "json",
    )  # fmt: skip
    assert code == 0
    added = json.loads(out)
    assert added["totp_secret"]
    assert added["otpauth_uri"].startswith("otpauth://totp/Vigile%3Aann?secret=")
    code, out, _ = run(capsys, "console", "list", "--format", "json")
    assert json.loads(out)["accounts"] == [
        {"username": "ann", "role": "agent", "subject": "a-1", "mfa": True, "enabled": True}
    ]
    assert run(capsys, "console", "disable", "ann")[0] == 0
    code, out, _ = run(capsys, "console", "list", "--format", "json")
    assert json.loads(out)["accounts"][0]["enabled"] is False


def test_add_refuses_an_unknown_agent(
    cli_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Lines("a long enough password\n"))
    code, _, err = run(
        capsys, "console", "add", "bob", "--role", "agent", "--subject", "a-404",
        "--password-stdin",
    )  # fmt: skip
    assert code == 1
    assert "no such agent" in err


def test_a_disabled_account_is_signed_out_at_its_next_request(
    client: TestClient, logins: dict[str, Login]
) -> None:
    page = sign_in(client, logins["agent"])
    assert "Workspace" in page
    client.app.state.console.accounts.disable("agent")  # type: ignore[attr-defined]
    response = client.get("/console/agent", follow_redirects=False)
    assert response.status_code == 303
    assert "disabled" in response.headers["location"]
    assert csrf_of(client.get("/console/login").text)


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text

    def readline(self) -> str:
        return self.text
