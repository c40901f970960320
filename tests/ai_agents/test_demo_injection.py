"""``vigile demo --scenario prompt-injection``: on the history of a simulated organisation,
the AI agent turned by an injected ticket is driven live through ``vigile mcp`` by the
SDK's client; streaming detection puts it (and only it) at high within minutes with its
reasons, containment revokes its sessions and its next call is refused, nothing of
another customer is revealed, and the customers see an AI agent of its team in their
access log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ai_agents.conftest import accesses
from vigile.broker import Broker
from vigile.demo.injection import injection_json, run_injection
from vigile.detect import Severity
from vigile.settings import Settings
from vigile.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo as the CLI tells it in JSON (a process of its own, its own store)."""
    where = tmp_path_factory.mktemp("demo-injection")
    done = subprocess.run(
        [sys.executable, "-m", "vigile", "demo", "--scenario", "prompt-injection",
         "--out", str(where / "demo"), "--format", "json"],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        cwd=where,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_detection_catches_the_turned_agent_and_containment_stops_it(
    store: Store, settings: Settings, tmp_path: Path, told: dict[str, Any]
) -> None:
    run = run_injection(store, settings, tmp_path)
    agent = run.agent
    assert agent.startswith("ai-")
    assert run.history_events > 5_000  # days of the organisation at work, for baselines
    # detection: the turned AI agent at high, and nobody else, human or AI
    at_high = [a for a in run.alerts if a.severity.rank >= Severity.HIGH.rank]
    assert {a.agent for a in at_high} == {agent}
    assert run.high is not None
    assert run.high.reasons
    minutes = run.minutes_to_high
    assert minutes is not None
    assert 0 <= minutes <= 15
    # containment: the agent's sessions revoked, its next call refused, nobody else touched
    assert run.contained == [agent]
    check = Broker(store, settings)
    try:
        assert check.containment.suspension_of(agent) is not None
    finally:
        check.close()
    assert run.after_containment is not None
    assert run.after_containment.outcome == "refused"
    assert all(step.outcome != "refused" for step in run.steps)
    # nothing of another customer revealed, in the calls' answers and in the store
    others = [s for s in run.steps if s.arguments.get("customer") not in (None, run.customer)]
    assert others
    assert all(step.outcome == "denied" for step in others)
    assert run.revealed_other_customers == 0
    first = run.first_call_us
    assert first is not None
    live = [row for row in accesses(store) if row["time_us"] >= first]
    assert {row["agent"] for row in live} == {agent}
    leaked = [
        row
        for row in live
        if row["customer"] not in (None, run.customer)
        and row["outcome"] != "denied"
        and row["action"] != "customer.search"  # names only
    ]
    assert leaked == []
    denied = [row for row in live if row["outcome"] == "denied"]
    assert len(denied) >= len(others)
    assert all(json.loads(row["extra"])["via"]["tool"] for row in denied)
    # the customer's view
    assert run.customer_log
    assert all("AI agent of team ai-support" in line for line in run.customer_log)
    # deterministic: the CLI, in a store of its own, told the same story
    here = injection_json(run)
    assert [(s["tool"], s["arguments"], s["outcome"]) for s in here["steps"]] == [
        (s["tool"], s["arguments"], s["outcome"]) for s in told["steps"]
    ]
    assert here["detected"] == told["detected"]


def test_the_cli_tells_it_as_json(told: dict[str, Any]) -> None:
    assert told["scenario"] == "prompt-injection"
    detected = told["detected"]
    assert detected["agent"] == told["agent"]
    assert detected["severity"] in {"high", "critical"}
    assert detected["reasons"]
    assert 0 <= detected["minutes_after_first_injected_call"] <= 15
    assert told["contained"] == [told["agent"]]
    assert told["revealed_other_customers"] == 0
    assert told["after_containment"]["outcome"] == "refused"
    assert {a["agent"] for a in told["alerts"] if a["severity"] in {"high", "critical"}} == {
        told["agent"]
    }
    assert told["steps"][0]["time"].startswith("2021-05-")  # the simulated attack's times
