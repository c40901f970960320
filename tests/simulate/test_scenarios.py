"""Each scenario's attack is in the log as truth.json says, with the signals of its shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.simulate.sample import Simulated, run
from vigile.errors import InputError
from vigile.simulate import SCENARIOS, Attack, Scenario, SimulationConfig, register_scenario
from vigile.simulate.clock import Calendar
from vigile.simulate.threat import Window, relative_window
from vigile.simulate.world import World

ATTACKS = ["nobelium", "bribed_insider", "session_hijack", "search_sweep", "mixed"]


def _attacker_events(sim: Simulated, attack: dict[str, Any]) -> list[dict[str, Any]]:
    ids = set(attack["event_ids"])
    return [r for r in sim.records if r.get("id") in ids and "time" in r]


def _victim_own(sim: Simulated, attack: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    ids = set(attack["event_ids"])
    return [r for r in sim.of_kind(kind) if r["agent"] == attack["agent"] and r["id"] not in ids]


@pytest.mark.parametrize("scenario", ATTACKS)
def test_truth_is_consistent_with_the_log(
    simulated: Callable[[str], Simulated], scenario: str
) -> None:
    sim = simulated(scenario)
    truth = sim.truth
    assert truth["scenario"] == scenario
    assert truth["seed"] == sim.config.seed
    assert truth["compromised_agents"] == sorted({a["agent"] for a in truth["attacks"]})
    for attack in truth["attacks"]:
        events = _attacker_events(sim, attack)
        assert len(events) == len(attack["event_ids"]) == attack["events"] > 0
        window = attack["window"]
        allowed = set()
        for event in events:
            assert event["agent"] == attack["agent"]
            assert window["start"] <= event["time"] <= window["end"]
            assert event["ip"] in attack["addresses"]
            assert event["session"] in attack["sessions"]
            if event.get("outcome") == "allowed" and event["action"] != "customer.search":
                allowed.add(event["customer"])
        assert sorted(allowed) == attack["customers"]
    assert truth["summary"]["attacker_events"] == sum(a["events"] for a in truth["attacks"])


def test_mixed_runs_every_shape(simulated: Callable[[str], Simulated]) -> None:
    shapes = [a["shape"] for a in simulated("mixed").truth["attacks"]]
    assert shapes == ["account_takeover", "insider", "session_hijack", "search_sweep"]


def test_baseline_has_no_attack(baseline: Simulated) -> None:
    assert baseline.truth["attacks"] == []
    assert baseline.truth["compromised_agents"] == []


def _off_shift(agent: dict[str, Any], time: str) -> bool:
    local = datetime.fromisoformat(time).astimezone(ZoneInfo(agent["timezone"]))
    start, end = agent["shift"]["start"], agent["shift"]["end"]
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    return day not in agent["shift"]["days"] or not start <= local.strftime("%H:%M") <= end


def test_nobelium_harvests_from_elsewhere_off_shift(simulated: Callable[[str], Simulated]) -> None:
    sim = simulated("nobelium")
    attack = sim.truth["attacks"][0]
    events = _attacker_events(sim, attack)
    own = _victim_own(sim, attack, "signin")
    assert {s["ip"] for s in own}.isdisjoint(attack["addresses"])
    assert {s["device"] for s in own}.isdisjoint(e["device"] for e in events if "device" in e)
    home = next(a["country"] for a in sim.of_kind("agent") if a["id"] == attack["agent"])
    assert all(e["country"] != home for e in events if e["kind"] == "signin")
    accesses = [e for e in events if e["kind"] == "access"]
    victim = next(a for a in sim.of_kind("agent") if a["id"] == attack["agent"])
    off = sum(_off_shift(victim, e["time"]) for e in accesses)
    assert off / len(accesses) > 0.7
    assert attack["window"]["start"] >= "2021-05-16"
    assert attack["window"]["end"] < "2021-05-30"
    assert _victim_own(sim, attack, "access"), "the real agent keeps working"


def test_nobelium_prefers_government_and_enterprise(simulated: Callable[[str], Simulated]) -> None:
    sim = simulated("nobelium")
    tiers = {c["id"]: c["tier"] for c in sim.of_kind("customer")}
    big = {"government", "enterprise"}
    exposed = sim.truth["attacks"][0]["customers"]
    share_exposed = sum(tiers[c] in big for c in exposed) / len(exposed)
    share_all = sum(t in big for t in tiers.values()) / len(tiers)
    assert share_exposed > 1.5 * share_all


def test_the_insider_works_from_their_own_desk(simulated: Callable[[str], Simulated]) -> None:
    sim = simulated("bribed_insider")
    attack = sim.truth["attacks"][0]
    events = _attacker_events(sim, attack)
    own = _victim_own(sim, attack, "signin")
    assert all(e["kind"] == "access" for e in events), "no sign-in of their own"
    assert set(attack["sessions"]) <= {s["session"] for s in own}
    assert set(attack["addresses"]) <= {s["ip"] for s in own}
    tickets = {t["ticket"]: t["customer"] for t in sim.of_kind("ticket") if "customer" in t}
    for event in events:
        assert event["ticket"] is None or tickets[event["ticket"]] != event.get("customer")


def test_a_hijacked_session_is_replayed_from_another_address(
    simulated: Callable[[str], Simulated],
) -> None:
    sim = simulated("session_hijack")
    attack = sim.truth["attacks"][0]
    events = _attacker_events(sim, attack)
    signed = {s["session"]: s["ip"] for s in _victim_own(sim, attack, "signin")}
    assert all(e["kind"] == "access" for e in events)
    for event in events:
        assert event["session"] in signed
        assert event["ip"] != signed[event["session"]]
    assert next(a for a in sim.of_kind("agent") if a["id"] == attack["agent"])["employer"] != (
        "vigile-cloud"
    )


def test_a_search_sweep_walks_the_customer_base(simulated: Callable[[str], Simulated]) -> None:
    sim = simulated("search_sweep")
    attack = sim.truth["attacks"][0]
    events = _attacker_events(sim, attack)
    searches = [e for e in events if e.get("action") == "customer.search"]
    assert len(searches) > len(events) / 2
    queries = [s["query"] for s in searches]
    assert queries == sorted(queries)
    listed = set(attack["customers_listed"]) | set(attack["customers"])
    assert len(listed) > 0.5 * len(sim.of_kind("customer"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scenario": "nobelium", "days": 20}, "2021-05-29"),
        ({"scenario": "nobelium", "start": date(2021, 6, 1), "days": 60}, "2022-05-16"),
        ({"scenario": "bribed_insider", "days": 10}, "at least 12 days"),
        ({"scenario": "session_hijack", "days": 8}, "at least 9 days"),
        ({"scenario": "search_sweep", "days": 7}, "at least 8 days"),
    ],
)
def test_a_period_too_short_for_the_attack_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        SimulationConfig(**overrides)


def test_every_scenario_is_registered_with_a_description() -> None:
    assert set(ATTACKS) | {"baseline"} <= set(SCENARIOS)
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert len(scenario.description) > 40
    assert all(SCENARIOS[name].real_world for name in ATTACKS)


def test_a_name_registers_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_scenario(SCENARIOS["nobelium"])


class _Campaign(Scenario):
    """Two attacks at once: a hijacked session and a sweep, on whoever they land on."""

    name = "test_campaign"

    def window(self, calendar: Calendar) -> Window:
        return relative_window(self.name, calendar, history=7, shortest=2, longest=2)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        parts = (SCENARIOS["session_hijack"], SCENARIOS["search_sweep"])
        return tuple(attack for part in parts for attack in part.plan(world, window))


@pytest.fixture
def campaign() -> Iterator[Scenario]:
    scenario = register_scenario(_Campaign())
    yield scenario
    del SCENARIOS[scenario.name]


def test_a_users_scenario_runs_like_a_built_in_one(campaign: Scenario, tmp_path: Path) -> None:
    sim = run(tmp_path, scenario=campaign.name, days=10, agents=10)
    shapes = [a["shape"] for a in sim.truth["attacks"]]
    assert shapes == ["session_hijack", "search_sweep"]
    assert all(a["events"] for a in sim.truth["attacks"])
