"""Held-out detection on the shapes organisation (issue #18, ``shapes.py``): the honest
behaviours that raised false alarms on an independent set, and that set's attacks,
loaded with ``vigile ingest`` and judged with ``vigile detect --format json``.

Seeds 21 and 22 were used while tuning stable habits and sibling customers; the figures
on seeds never tuned on (31-34) are in docs/detection.md (``measure.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.detect.heldout.shapes import ATTACKS, SHAPES, build
from vigile.cli.app import app

HIGH = ("high", "critical")

#: What each attack's reasons must mention (any of the phrases): the real cause.
CAUSES: dict[str, tuple[str, ...]] = {
    "harvester": ("new country (NG)",),
    "billing_insider": ("contact reveals requested without a valid ticket",),
    "own_ticket_reader": ("citing another customer's ticket",),
    "session_from_abroad": ("address other than",),
}


def _run(seed: int, folder: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    world, truth = build(seed)
    log = world.log.write(folder / "shapes.jsonl")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VIGILE_DB", str(folder / "vigile.db"))
        env.setenv("VIGILE_LEDGER_KEY", str(folder / "ledger.key"))
        runner = CliRunner()
        ingested = runner.invoke(app, ["ingest", str(log)])
        assert ingested.exit_code == 0, ingested.output
        detected = runner.invoke(app, ["detect", "--format", "json"])
        assert detected.exit_code == 0, detected.output
    alerts = orjson.loads(detected.stdout)["alerts"]
    return {a["agent"]: a for a in alerts}, truth.as_json()


@pytest.fixture(
    scope="module",
    params=[pytest.param(21, marks=pytest.mark.slow), pytest.param(22, marks=pytest.mark.slow)],
)
def shapes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    return _run(request.param, tmp_path_factory.mktemp(f"shapes-{request.param}"))


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attacker_is_flagged_high_for_its_cause(
    shapes: tuple[dict[str, dict[str, Any]], dict[str, Any]], attack: str
) -> None:
    alerts, truth = shapes
    alert = alerts.get(truth["attacks"][attack])
    assert alert is not None
    assert alert["severity"] in HIGH, alert
    text = " ".join(alert["reasons"]).lower()
    assert any(cause.lower() in text for cause in CAUSES[attack]), alert["reasons"]


_ROAMING = pytest.mark.xfail(
    strict=True,
    reason="a session moving to another network of the same country (VPN, hotspot) matches "
    "the session-address rule every hour it is used from there: telling a hotspot from an "
    "attacker abroad needs the address's country (a GeoIP database, issue 18 point 3)",
)


@pytest.mark.parametrize(
    "shape", [pytest.param(s, marks=_ROAMING) if s == "roaming" else s for s in SHAPES]
)
def test_no_honest_agent_of_the_shape_is_flagged_high(
    shapes: tuple[dict[str, dict[str, Any]], dict[str, Any]], shape: str
) -> None:
    alerts, truth = shapes
    roaming = set() if shape == "roaming" else set(truth["shapes"]["roaming"])
    agents = [a for a in truth["shapes"][shape] if a not in roaming]  # the lead who roams
    assert agents
    flagged = {a: alerts[a]["reasons"] for a in agents if alerts.get(a, {}).get("severity") in HIGH}
    assert flagged == {}
