"""Remediation: the plan, apply twice equals once, renames retire usernames, and the
sign-in check refuses retired names whatever their case or confusable disguise."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.respond.sample import run
from vigile.api.app import create_app
from vigile.ingest import ingest_file
from vigile.respond import (
    Incidents,
    InvalidScope,
    Remediation,
    Scope,
    UnknownAccount,
    check_registration,
    check_signin,
    username_keys,
)
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx, which works unchanged.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data" / "incident.jsonl"
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SCOPE = Scope(
    agents=("a-0017",),
    since=datetime(2021, 5, 20, tzinfo=UTC),
    until=datetime(2021, 5, 31, tzinfo=UTC),
)


class _Broker:
    """Stands in for the broker's suspension port."""

    def __init__(self) -> None:
        self.suspended: list[tuple[str, str]] = []

    def suspend(self, agent: str, reason: str) -> str:
        self.suspended.append((agent, reason))
        return "suspended"


def _remediation(store: Store, broker: _Broker | None = None) -> tuple[Remediation, str]:
    ingest_file(store, DATA)
    incidents = Incidents(store, clock=lambda: NOW)
    incident = incidents.open(title="Agent takeover", scope=SCOPE, actor="ana")
    return Remediation(incidents, broker), incident.id


def _state(store: Store) -> dict[str, Any]:
    tables = (
        t.audit_events,
        t.incident_remediations,
        t.contact_reverifications,
        t.account_renames,
        t.retired_usernames,
    )
    with connect(store.engine) as conn:
        counts = {
            str(table.name): conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables
        }
        accounts = sorted(conn.execute(select(t.accounts.c.id, t.accounts.c.username)).all())
    return counts | {"accounts": accounts}


def test_the_plan(store: Store) -> None:
    remediation, incident = _remediation(store)
    plan = {a.key: (a.customer, a.automatic, a.applied) for a in remediation.plan(incident)}
    assert plan == {
        "suspend-agent:a-0017": (None, True, False),
        "reverify-contact:k-00412-1": ("c-00412", True, False),
        "rename-account:u-00412-1": ("c-00412", False, False),
        "reverify-contact:k-00500-1": ("c-00500", True, False),
        "rename-account:u-00500-1": ("c-00500", False, False),
    }


def test_applying_twice_equals_applying_once(store: Store) -> None:
    broker = _Broker()
    remediation, incident = _remediation(store, broker)
    applied = remediation.apply(incident, "ana")
    assert [a.key for a in applied] == [
        "suspend-agent:a-0017",
        "reverify-contact:k-00412-1",
        "reverify-contact:k-00500-1",
    ]
    once = _state(store)
    assert remediation.apply(incident, "ana") == []
    assert _state(store) == once
    assert broker.suspended == [("a-0017", f"incident {incident}")]
    actions = [e.action for e in remediation.incidents.timeline(incident)]
    assert actions.count("agent.suspended") == 1
    assert actions.count("remediation.applied") == 3
    assert all(a.applied for a in remediation.plan(incident) if a.automatic)


def test_a_rename_retires_the_old_username(store: Store) -> None:
    remediation, incident = _remediation(store)
    rename = remediation.rename(
        incident,
        "u-00412-1",
        username="ministry-billing",
        email="new@ministry.example",
        actor="ana",
    )
    assert (rename.old_username, rename.new_username) == ("paypal", "ministry-billing")
    assert store.accounts_of("c-00412")[0].username == "ministry-billing"
    once = _state(store)
    again = remediation.rename(
        incident,
        "u-00412-1",
        username="ministry-billing",
        email="new@ministry.example",
        actor="ana",
    )
    assert again.new_username == "ministry-billing"
    assert _state(store) == once
    plan = {a.key: a.applied for a in remediation.plan(incident)}
    assert plan["rename-account:u-00412-1"] is True
    with pytest.raises(InvalidScope, match="retired username"):
        remediation.rename(incident, "u-00500-1", username="PayPal", email=None, actor="ana")
    with pytest.raises(UnknownAccount):
        remediation.rename(incident, "u-404", username="x", email=None, actor="ana")


@pytest.mark.parametrize(
    "variant",
    [
        "paypal",
        "PayPal",
        "PAYPAL",
        "paypaI",  # capital i for l
        "p\u0430ypal",  # Cyrillic a
        "\uff50\uff41\uff59\uff50\uff41\uff4c",  # fullwidth
        "paypa1",
        " paypal ",
    ],
)
def test_retired_usernames_are_refused_in_every_disguise(store: Store, variant: str) -> None:
    remediation, incident = _remediation(store)
    remediation.rename(incident, "u-00412-1", username="ministry-1", email=None, actor="ana")
    decision = check_signin(store, variant)
    assert not decision.allowed
    assert decision.retired == "paypal"
    assert "sign-in refused" in decision.reason
    assert not check_registration(store, variant).allowed


@pytest.mark.parametrize("name", ["paypals", "fromage", "ministry-1", "pay-pal"])
def test_other_usernames_are_allowed(store: Store, name: str) -> None:
    remediation, incident = _remediation(store)
    remediation.rename(incident, "u-00412-1", username="ministry-1", email=None, actor="ana")
    assert check_signin(store, name).allowed


def test_the_key_folds_case_and_confusables() -> None:
    keys = [username_keys(n) for n in ("PayPal", "paypa|", "\u0440aypal", "PAYPAL")]
    assert all(k & keys[0] for k in keys)
    assert username_keys("FROMAGE") & username_keys("fromage")
    assert not username_keys("nmeyer") & username_keys("nmeyers")


def test_signin_check_api(store: Store) -> None:
    remediation, incident = _remediation(store)
    remediation.rename(incident, "u-00412-1", username="ministry-1", email=None, actor="ana")
    with TestClient(create_app(store.settings, store=store)) as client:
        refused = client.post("/v1/signin-check", json={"username": "PAYPA\u0406"})
        allowed = client.post("/v1/signin-check", json={"username": "ministry-1"})
        invalid = client.post("/v1/signin-check", json={"username": ""})
    assert refused.status_code == 200
    assert refused.json()["allowed"] is False
    assert refused.json()["retired"] == "paypal"
    assert allowed.json() == {
        "username": "ministry-1",
        "allowed": True,
        "reason": "not retired",
        "retired": None,
    }
    assert invalid.status_code == 422
    assert set(invalid.json()) == {"error"}


def test_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", "cli.db")
    assert run(capsys, "ingest", str(DATA))[0] == 0
    window = ("--since", "2021-05-20T00:00:00Z", "--until", "2021-05-31T00:00:00Z")
    assert run(capsys, "incident", "open", "--title", "t", "--agent", "a-0017", *window)[0] == 0
    code, out, _ = run(capsys, "incident", "plan", "INC-0001", "--format", "json")
    assert len(json.loads(out)) == 5
    code, out, _ = run(capsys, "incident", "apply", "INC-0001", "--format", "json")
    assert len(json.loads(out)) == 3  # a dry run
    code, out, _ = run(capsys, "incident", "plan", "INC-0001", "--format", "json")
    assert not any(a["applied"] for a in json.loads(out))
    args = ("incident", "apply", "INC-0001", "--execute", "--yes", "--format", "json")
    assert len(json.loads(run(capsys, *args)[1])) == 3
    assert json.loads(run(capsys, *args)[1]) == []
    # The suspension went through the broker: its sessions revoked, its requests denied.
    with Store.open(Settings(db="cli.db")) as opened, opened.engine.connect() as conn:
        suspended = conn.execute(text("SELECT agent FROM broker_suspensions")).scalars().all()
    assert suspended == ["a-0017"]
    rename = ("incident", "rename", "INC-0001", "u-00500-1", "--username", "fromage-2")
    code, out, _ = run(capsys, *rename, "--format", "json")
    assert json.loads(out)["retired"] == "fromage"
    code, _, err = run(
        capsys, "incident", "rename", "INC-0001", "u-00412-1", "--username", "FROMAGE"
    )
    assert code == 1
    assert "retired username" in err
