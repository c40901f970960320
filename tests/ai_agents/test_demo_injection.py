"""``vigile demo --scenario prompt-injection``: the injected AI agent reveals nothing of
other customers, every call is recorded, the agent is contained and stopped, and the
customers see an AI agent of its team in their access log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ai_agents.conftest import accesses
from vigile.demo.injection import AI_AGENT, INJECTED_TICKET, run_injection
from vigile.settings import Settings
from vigile.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_injected_agent_reveals_nothing_and_is_stopped(
    store: Store, settings: Settings
) -> None:
    run = run_injection(store, settings)
    injected = [s for s in run.steps if s.arguments.get("ticket") == INJECTED_TICKET]
    others = [s for s in injected if s.arguments.get("customer") not in (None, "c-01")]
    assert others
    assert all(step.outcome == "denied" for step in others)
    assert run.revealed_other_customers == 0
    assert run.after_containment is not None
    assert run.after_containment.outcome == "refused"
    # every tool call but the ticket list is an access (the page: four), all the AI agent's
    recorded = accesses(store)
    assert {row["agent"] for row in recorded} == {AI_AGENT}
    denied = [row for row in recorded if row["outcome"] == "denied"]
    assert len(denied) == len(others)
    assert all(json.loads(row["extra"])["via"]["conversation"] == "conv-2" for row in denied)
    assert run.customer_log
    assert all("AI agent of team emea-support" in line for line in run.customer_log)


def test_the_cli_tells_it_as_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vigile", "demo", "--scenario", "prompt-injection",
         "--out", str(tmp_path / "demo"), "--format", "json"],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )  # fmt: skip
    told = json.loads(done.stdout)
    assert told["scenario"] == "prompt-injection"
    assert told["revealed_other_customers"] == 0
    assert told["after_containment"]["outcome"] == "refused"
