"""Incidents: state, timeline, every action in the ledger; the CLI; the GDPR clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from tests.respond.sample import run
from vigile.ledger.service import Ledger
from vigile.model.times import to_micros
from vigile.respond import (
    IncidentClosed,
    IncidentNotFound,
    Incidents,
    IncidentStatus,
    InvalidScope,
    RegulatoryClock,
    Scope,
)
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

MAY = datetime(2021, 5, 16, tzinfo=UTC)
SCOPE = Scope(agents=("a-0005",), since=MAY, until=MAY + timedelta(days=14))
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)


def _service(store: Store) -> Incidents:
    return Incidents(store, clock=lambda: NOW)


def test_every_action_is_in_the_timeline_and_the_ledger(store: Store) -> None:
    service = _service(store)
    incident = service.open(title="Agent takeover", scope=SCOPE, actor="ana", owner="ana")
    assert incident.id == "INC-0001"
    service.note(incident.id, "billing contacts phished", "ana")
    service.assign(incident.id, "bo", "ana")
    service.assess(incident.id, high_risk=True, reason="contact details in clear", actor="bo")
    closed = service.set_status(incident.id, IncidentStatus.CLOSED, "bo")
    assert (closed.status, closed.owner, closed.high_risk) == (IncidentStatus.CLOSED, "bo", True)
    timeline = service.timeline(incident.id)
    actions = [entry.action for entry in timeline]
    assert actions == [
        "incident.opened",
        "incident.note",
        "incident.assigned",
        "incident.assessed",
        "incident.status",
    ]
    ledger = Ledger(store.engine, store.settings)
    proofs = [ledger.prove(entry.event_id) for entry in timeline]
    assert [p["leaf_index"] for p in proofs] == list(range(len(actions)))
    assert service.get(incident.id).scope == SCOPE


def test_a_closed_incident_is_final(store: Store) -> None:
    service = _service(store)
    incident = service.open(title="x", scope=SCOPE, actor="ana")
    service.set_status(incident.id, IncidentStatus.CLOSED, "ana")
    with pytest.raises(IncidentClosed):
        service.note(incident.id, "too late", "ana")
    with pytest.raises(IncidentNotFound, match="INC-9999"):
        service.get("INC-9999")
    assert [i.id for i in service.find(IncidentStatus.CLOSED)] == [incident.id]
    assert service.find(IncidentStatus.OPEN) == []


@pytest.mark.parametrize(
    ("now", "remaining", "overdue"),
    [
        (NOW, 72.0, False),
        (NOW + timedelta(hours=71, minutes=30), 0.5, False),
        (NOW + timedelta(hours=73), -1.0, True),
    ],
)
def test_the_art33_deadline_is_72_hours_after_awareness(
    now: datetime, remaining: float, overdue: bool
) -> None:
    clock = RegulatoryClock(aware=NOW, now=now, high_risk=None)
    assert clock.to_json() == {
        "aware": "2021-06-01T09:00:00Z",
        "art33_deadline": "2021-06-04T09:00:00Z",
        "hours_remaining": remaining,
        "overdue": overdue,
        "art34_high_risk": None,
        "art34": "not assessed",
    }


def test_cli(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", "cli.db")
    monkeypatch.setenv("VIGILE_LEDGER_KEY", "ledger.key")
    assert run(capsys, "init")[0] == 0
    window = ("--since", "2021-05-16T00:00:00Z", "--until", "2021-05-30T00:00:00Z")
    code, out, _ = run(
        capsys, "incident", "open", "--title", "takeover", "--agent", "a-5", *window,
        "--aware", "2021-06-01T09:00:00+02:00", "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["aware"] == "2021-06-01T07:00:00Z"
    assert run(capsys, "incident", "note", "INC-0001", "seen on the VPN")[0] == 0
    assert run(capsys, "incident", "status", "INC-0001", "contained")[0] == 0
    code, out, _ = run(capsys, "incident", "show", "INC-0001", "--format", "json")
    shown = json.loads(out)
    assert shown["status"] == "contained"
    assert shown["clock"]["art33_deadline"] == "2021-06-04T07:00:00Z"
    assert [e["action"] for e in shown["timeline"]][-2:] == ["incident.note", "incident.status"]
    code, out, _ = run(capsys, "incident", "list", "--format", "json")
    assert [i["id"] for i in json.loads(out)] == ["INC-0001"]
    code, _, err = run(capsys, "incident", "show", "INC-0404")
    assert code == 1
    assert "no incident 'INC-0404'" in err
    assert run(capsys, "incident", "status", "INC-0001", "sideways")[0] == 2
    assert run(capsys, "incident", "open", "--title", "x", *window)[0] == 1  # empty scope
    assert run(capsys, "incident", "open", "--agent", "a-5")[0] == 1  # no window
    code, _, err = run(capsys, "incident", "open", "--alert", "12")
    assert code == 1
    assert "no alert '12'" in err


def test_an_incident_opens_from_a_detection_alert(store: Store) -> None:
    first, last, raised = (datetime(2021, 5, d, tzinfo=UTC) for d in (16, 29, 30))
    alert = {
        "agent": "a-0005",
        "severity": "high",
        "score": 0.97,
        "first_us": to_micros(first),
        "last_us": to_micros(last),
        "reasons": "[]",
        "evidence": "[]",
        "status": "open",
        "created_us": to_micros(raised),
        "updated_us": to_micros(raised),
    }
    with connect(store.engine) as conn:
        alert_id = conn.execute(insert(t.detect_alerts).values(alert)).inserted_primary_key[0]
        conn.commit()
    incident = _service(store).open_from_alert(str(alert_id), actor="ana")
    assert incident.scope == Scope(agents=("a-0005",), since=first, until=NOW)
    assert (incident.aware, incident.alert) == (raised, str(alert_id))
    assert incident.title == f"Alert {alert_id}: agent a-0005 (high)"
    with pytest.raises(InvalidScope, match="no alert '999'"):
        _service(store).open_from_alert("999", actor="ana")
