"""Known answers on small simulations: the hijacked agent is flagged high or critical with
reasons an analyst can act on and the attacker's events as evidence; an honest
organisation raises nothing high. (Answers from the simulator's truth.json.)"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.detect.conftest import Stored
from vigile.detect.alerts import Alert
from vigile.detect.errors import DetectError
from vigile.detect.features import FeatureEngine
from vigile.detect.risk import RiskPolicy, Severity
from vigile.detect.service import (
    DetectionConfig,
    alerts_from,
    detect,
    feature_rows,
    open_features,
    scored_rows,
)
from vigile.detect.source import DAY_US, read_batches, read_events
from vigile.ingest import ingest_file
from vigile.model import Agent
from vigile.model.times import from_micros
from vigile.record import Recorder
from vigile.respond import Incidents, Reader, Shown
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

HIGH = (Severity.HIGH, Severity.CRITICAL)


def _alerts(stored: Stored, folder: Path) -> list[Alert]:
    with Store.open(stored.settings(folder)) as store:
        return detect(store.engine)


@pytest.fixture(scope="module")
def nobelium(
    stored: Callable[[str], Stored], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Stored, list[Alert]]:
    data = stored("nobelium")
    return data, _alerts(data, tmp_path_factory.mktemp("nobelium-alerts"))


def test_the_hijacked_agent_is_flagged_first_and_high(nobelium: tuple[Stored, list[Alert]]) -> None:
    data, alerts = nobelium
    victim = data.truth["compromised_agents"][0]
    assert alerts[0].agent == victim
    assert alerts[0].severity in HIGH
    assert all(a.severity not in HIGH for a in alerts[1:])


def test_reasons_say_what_happened(nobelium: tuple[Stored, list[Alert]]) -> None:
    _, alerts = nobelium
    text = " ".join(alerts[0].reasons)
    assert "without a valid ticket" in text
    assert "government or enterprise" in text
    assert "signed in from a new country" in text
    assert "new device" in text
    assert "local time" in text


def test_evidence_is_the_attackers_events(nobelium: tuple[Stored, list[Alert]]) -> None:
    data, alerts = nobelium
    attack = data.truth["attacks"][0]
    truth = set(attack["event_ids"])
    evidence = set(alerts[0].evidence)
    assert len(evidence & truth) >= 0.8 * len(truth)
    assert alerts[0].first_seen.isoformat().startswith(attack["window"]["start"][:10])


def test_an_honest_organisation_raises_nothing_high(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    alerts = _alerts(stored("baseline"), tmp_path)
    assert [a.agent for a in alerts if a.severity in HIGH] == []


def test_an_analyst_reviewing_an_incident_is_no_harvester(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    # An analyst's incident pages record an access per customer shown: hundreds of
    # customers in minutes, in id order, no ticket. Read as an agent's, that is a harvest
    # (a high alert on sam before detection left them out: 400 customers without a
    # valid ticket, 1,197 requests stepping through ids). Detection leaves out accesses
    # justified by an incident, deliberately: they are the customers' to see, not a sign.
    data = stored("baseline")
    for key in data.db.parent.glob("ledger.key*"):  # the analyst's reads extend its ledger
        shutil.copy(key, tmp_path / key.name)
    with Store.open(data.settings(tmp_path)) as store:
        with connect(store.engine) as conn:
            customers = conn.execute(select(t.customers.c.id)).scalars().all()
            last = conn.execute(select(func.max(t.accesses.c.time_us))).scalar_one()
        sam = Agent(id="sam", team="security", country="FR", timezone="Europe/Paris")
        Recorder(store).record([sam])
        analyst = Reader(agent="sam", session="s-sam", ip="192.0.2.7")
        for minutes in (0, 10, 20):  # three views of the incident and its previews
            now = from_micros(last - DAY_US // 4 + minutes * 60_000_000)
            shown = [
                Shown(customer=c, fields=("customer.name", "customer.tier")) for c in customers
            ]
            Incidents(store, clock=lambda now=now: now).record_reads("INC-0001", analyst, shown)
        assert len(read_events(store.engine).accesses) == store.counts()["accesses"] - 3 * len(
            customers
        )
        alerts = detect(store.engine)
    assert "sam" not in {a.agent for a in alerts}
    assert [a.agent for a in alerts if a.severity in HIGH] == []


@pytest.mark.parametrize("scenario", ["bribed_insider", "session_hijack", "search_sweep"])
def test_each_attack_shape_is_flagged_high(
    scenario: str, stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    data = stored(scenario)
    flagged = {a.agent for a in _alerts(data, tmp_path) if a.severity in HIGH}
    assert flagged == set(data.truth["compromised_agents"])


def test_detection_runs_on_each_engine(store: Store) -> None:
    from tests.conftest import SPEC_EXAMPLE  # noqa: PLC0415 - the shared example log

    ingest_file(store, SPEC_EXAMPLE)
    assert detect(store.engine) == []  # two events: nothing to learn from, nothing raised


def test_batches_give_the_answer_of_one_read(
    nobelium: tuple[Stored, list[Alert]], tmp_path: Path
) -> None:
    # Read 20,000 events at a time: days are computed as they complete and their events
    # pruned; the alerts must be those of reading everything at once.
    data, whole = nobelium
    with Store.open(data.settings(tmp_path)) as store:
        parts = detect(store.engine, DetectionConfig(batch_events=20_000))
    assert [(a.agent, a.severity, round(a.score, 6)) for a in parts] == [
        (a.agent, a.severity, round(a.score, 6)) for a in whole
    ]
    assert [a.evidence for a in parts] == [a.evidence for a in whole]
    assert [a.reasons for a in parts] == [a.reasons for a in whole]


def test_retired_days_forget_what_no_alert_needs(
    stored: Callable[[str], Stored], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Evidence candidates and customer days of retired periods are kept only for the
    # agent-days scoring still holds: fewer rows, the same alerts to the last evidence id
    # and reason (the attack is in the retired periods: a week of history retires all but
    # the last).
    data = stored("nobelium")
    config = DetectionConfig(policy=RiskPolicy(history_us=7 * DAY_US), batch_events=20_000)
    kept: dict[bool, dict[str, int]] = {}
    alerts: dict[bool, list[Alert]] = {}
    for forget in (False, True):
        if not forget:
            monkeypatch.setattr(FeatureEngine, "forget_unneeded", lambda *args: None)
        with Store.open(data.settings(tmp_path)) as store:
            features, zones = open_features(store.engine, config)
            batches = read_batches(store.engine, limit=config.batch_events)
            scored = scored_rows(features, batches, config)
            alerts[forget] = alerts_from(scored, features, zones, config.policy)
            kept[forget] = {
                table: features.db.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in ("candidates", "customer_days")
            }
            features.close()
        monkeypatch.undo()
    victim = data.truth["compromised_agents"][0]
    assert alerts[True][0].agent == victim
    assert alerts[True][0].severity in HIGH
    assert alerts[True] == alerts[False]
    assert kept[True]["candidates"] < 0.7 * kept[False]["candidates"]
    assert kept[True]["customer_days"] < 0.6 * kept[False]["customer_days"]


def test_a_batch_older_than_computed_days_is_refused(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    # A store filled out of time order (a late file ingested after later events): batch
    # detection cannot fold it day by day and says so; detect() then reads it at once.
    data = stored("baseline")
    with Store.open(data.settings(tmp_path)) as store:
        top = read_events(store.engine).upto
        later = read_events(store.engine, after=top // 2)
        earlier = read_events(store.engine, after=-1, upto=top // 2)
        features, _ = open_features(store.engine, DetectionConfig())
        with pytest.raises(DetectError, match="after windows up to"):
            feature_rows(features, [later, earlier])
        features.close()
