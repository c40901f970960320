"""AI agents in the simulator: honest work through vigile mcp, and the prompt injection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.simulate.sample import SMALL, Simulated, run
from vigile.errors import InputError
from vigile.simulate import SimulationConfig

_TOOLS = {"search_customers", "customer_page", "reveal_field"}


def _is_ai(record: dict[str, Any]) -> bool:
    return str(record.get("agent", record.get("id", ""))).startswith("ai-")


@pytest.fixture(scope="module")
def with_ai(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    return run(tmp_path_factory.mktemp("ai-3"), ai_agents=3)


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    return run(tmp_path_factory.mktemp("prompt-injection"), scenario="prompt-injection")


def test_without_ai_agents_the_organisation_is_unchanged(
    simulated: Callable[[str], Simulated], with_ai: Simulated
) -> None:
    # The people's records of a seed are the same bytes with or without AI agents.
    theirs = {r["ticket"] for r in with_ai.of_kind("ticket") if _is_ai(r)}
    people = [r for r in with_ai.records if not _is_ai(r) and r.get("ticket") not in theirs]
    plain = simulated("baseline").records
    assert not any(_is_ai(r) for r in plain)
    assert people[1:] == plain[1:]  # the header aside
    assert len(with_ai.records) > len(plain)


def test_ai_agents_are_principals_of_the_directory(with_ai: Simulated) -> None:
    agents = {r["id"]: r for r in with_ai.of_kind("agent")}
    ai = [r for r in agents.values() if "ai" in r]
    assert [r["id"] for r in ai] == ["ai-0000", "ai-0001", "ai-0002"]
    for record in ai:
        assert record["team"] == "ai-support"
        assert record["ai"]["model"]
        supervisor = agents[record["ai"]["supervisor"]]
        assert "ai" not in supervisor  # a human answers for it


def test_honest_ai_work_goes_through_mcp_under_tickets(with_ai: Simulated) -> None:
    assigned: dict[str, str] = {}  # ticket -> agent
    customer_of: dict[str, str] = {}
    for r in with_ai.of_kind("ticket"):
        if r["event"] == "opened":
            customer_of[r["ticket"]] = r["customer"]
        elif r["event"] == "assigned":
            assigned[r["ticket"]] = r["agent"]
    per_hour: dict[tuple[str, str], set[str]] = defaultdict(set)
    accesses = [r for r in with_ai.of_kind("access") if _is_ai(r)]
    assert len(accesses) > 1000
    for r in accesses:
        via = r["via"]
        assert via["channel"] == "mcp"
        assert via["tool"] in _TOOLS
        assert via["conversation"] == f"c-{r['ticket']}"
        assert assigned[r["ticket"]] == r["agent"]  # its own ticket, always
        if r["action"] != "customer.search":
            assert customer_of[r["ticket"]] == r["customer"]
            per_hour[r["agent"], r["time"][:13]].add(r["customer"])
    # Under the AI agents' velocity limit: at most 10 customers an hour.
    assert max(len(c) for c in per_hour.values()) <= 10
    denied = [r for r in accesses if r["outcome"] == "denied"]
    assert denied  # reveals the supervisor did not approve
    assert all(r["action"] == "contact.reveal" for r in denied)
    people = [r for r in with_ai.of_kind("access") if not _is_ai(r)]
    assert not any("via" in r for r in people)


def test_the_injected_ticket_makes_one_ai_agent_harvest(injected: Simulated) -> None:
    truth = injected.truth
    [attack] = truth["attacks"]
    assert attack["shape"] == "prompt_injection"
    assert truth["compromised_agents"] == [attack["agent"]]
    assert attack["agent"].startswith("ai-")
    ids = set(attack["event_ids"])
    events = [r for r in injected.records if r.get("id") in ids]
    assert len(events) == attack["events"] > 40
    window = attack["window"]
    assert all(window["start"] <= e["time"] <= window["end"] for e in events)
    assert all(e["via"]["channel"] == "mcp" for e in events)
    [ticket] = {e["ticket"] for e in events}  # every call cites the injected ticket
    opened = [r for r in injected.of_kind("ticket") if r["ticket"] == ticket]
    sender = next(r["customer"] for r in opened if r["event"] == "opened")
    reads = [e for e in events if e["action"] != "customer.search"]
    others = {e["customer"] for e in reads} - {sender}
    assert len(others) >= 10  # customers it has no ticket for
    assert all(e["outcome"] == "denied" for e in reads if e["customer"] != sender)
    assert attack["customers"] == [sender]  # nothing of the others was returned
    reasons = {e["deny_reason"] for e in reads if e["outcome"] == "denied"}
    assert any("supervising human" in r for r in reasons)
    assert any("hourly limit" in r for r in reasons)
    assert any(e["action"] == "customer.search" for e in events)


def test_the_same_seed_gives_the_same_files(injected: Simulated, tmp_path: Path) -> None:
    again = run(tmp_path / "again", scenario="prompt-injection")
    assert again.result.path.read_bytes() == injected.result.path.read_bytes()
    assert again.truth == injected.truth
    other = run(tmp_path / "other", scenario="prompt-injection", seed=SMALL["seed"] + 1)
    assert other.truth["attacks"][0]["event_ids"] != injected.truth["attacks"][0]["event_ids"]


def test_the_scenario_brings_its_ai_agents() -> None:
    assert SimulationConfig(scenario="prompt-injection").ai_agent_count == 3
    assert SimulationConfig(scenario="prompt-injection", ai_agents=5).ai_agent_count == 5
    assert SimulationConfig().ai_agent_count == 0


@pytest.mark.parametrize("value", [-1, 1001, 2.5, True])
def test_a_bad_ai_agent_count_is_refused(value: Any) -> None:
    with pytest.raises(InputError, match="ai_agents"):
        SimulationConfig(ai_agents=value)
