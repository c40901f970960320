"""Held-out detection (issue #5): an organisation and attack shapes written without the
project's simulator (``generator.py``, ``workday.py``, ``scenarios.py``), loaded with
``vigile ingest`` and judged with ``vigile detect --format json``.

Known answers come from the generator's own truth: every attacked agent at high or
critical with a reason naming what it did; no honest agent (confounders included) at
high or above. Each seed is about 100,000 records (90 agents, 28 days), 15 s end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.detect.heldout.scenarios import ATTACKS, build
from vigile.cli.app import app

HIGH = ("high", "critical")


#: What each attack's reasons must mention (any of the phrases): the real cause.
CAUSES: dict[str, tuple[str, ...]] = {
    "phisher_on_shift": ("citing another customer's ticket", "not assigned to the agent"),
    "phisher_on_team_tickets": ("new device",),
    "ticket_abuse": ("contact reveals of government or enterprise customers",),
    "break_glass_abuse": ("break-glass",),
    "credential_stuffing": ("new country (VN)",),
    "stuffing_local_proxy": ("new device", "failed sign-in"),
    "slow_exfiltration": ("without a valid ticket",),
    "shared_session": ("address other than",),
    "trickle_exfiltration": ("citing another customer's ticket",),
}


@dataclass(frozen=True, kw_only=True)
class HeldOut:
    """One seed's alerts (the CLI's JSON) and truth."""

    alerts: dict[str, dict[str, Any]]
    truth: dict[str, Any]

    def severity(self, agent: str) -> str | None:
        alert = self.alerts.get(agent)
        return alert["severity"] if alert else None

    def honest_flagged(self) -> list[str]:
        attacked = set(self.truth["attacks"].values())
        flagged = (a for a, x in self.alerts.items() if x["severity"] in HIGH)
        return sorted(a for a in flagged if a not in attacked)


def _run(seed: int, folder: Path) -> HeldOut:
    world, truth = build(seed)
    log = world.log.write(folder / "heldout.jsonl")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VIGILE_DB", str(folder / "vigile.db"))
        env.setenv("VIGILE_LEDGER_KEY", str(folder / "ledger.key"))
        runner = CliRunner()
        ingested = runner.invoke(app, ["ingest", str(log)])
        assert ingested.exit_code == 0, ingested.output
        detected = runner.invoke(app, ["detect", "--format", "json"])
        assert detected.exit_code == 0, detected.output
    alerts = orjson.loads(detected.stdout)["alerts"]
    return HeldOut(alerts={a["agent"]: a for a in alerts}, truth=truth.as_json())


@pytest.fixture(
    scope="module",
    params=[pytest.param(11, marks=pytest.mark.slow), pytest.param(12, marks=pytest.mark.slow)],
)
def heldout(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> HeldOut:
    return _run(request.param, tmp_path_factory.mktemp(f"heldout-{request.param}"))


_TRICKLE = pytest.mark.xfail(
    strict=True,
    reason="one customer a shift under the agent's own (other customer's) ticket is the "
    "rate of this organisation's honest noise (a ticket pasted by mistake, a lookup for a "
    "colleague): medium, and only weeks of it would tell",
)


_EXPECTED = [
    pytest.param(a, marks=_TRICKLE) if a == "trickle_exfiltration" else a for a in sorted(ATTACKS)
]


@pytest.mark.parametrize("attack", _EXPECTED)
def test_each_attacker_is_flagged_high(heldout: HeldOut, attack: str) -> None:
    agent = heldout.truth["attacks"][attack]
    assert heldout.severity(agent) in HIGH, heldout.alerts.get(agent)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_reasons_name_the_cause(heldout: HeldOut, attack: str) -> None:
    alert = heldout.alerts.get(heldout.truth["attacks"][attack])
    assert alert is not None
    text = " ".join(alert["reasons"]).lower()
    assert any(cause.lower() in text for cause in CAUSES[attack]), alert["reasons"]


def test_no_honest_agent_is_flagged_high(heldout: HeldOut) -> None:
    assert heldout.honest_flagged() == []


@pytest.mark.parametrize(
    "confounder",
    ["traveller", "team_lead", "new_hire", "shift_change", "outage_break_glass",
     "sprayed_not_breached"],
)  # fmt: skip
def test_confounders_stay_below_high(heldout: HeldOut, confounder: str) -> None:
    attacked = set(heldout.truth["attacks"].values())  # a sprayed agent may be attacked too
    agents = [a for a in heldout.truth["confounders"][confounder] if a not in attacked]
    assert [a for a in agents if heldout.severity(a) in HIGH] == []
