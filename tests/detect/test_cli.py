"""The CLI contract: ``vigile detect --format json`` on the store in VIGILE_DB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.detect.conftest import Stored
from vigile.cli.app import app


def test_detect_prints_the_alerts_contract(
    stored: Callable[[str], Stored], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = stored("nobelium")
    monkeypatch.setenv("VIGILE_DB", data.settings(tmp_path).db)
    result = CliRunner().invoke(app, ["detect", "--format", "json"])
    assert result.exit_code == 0, result.output
    alerts = orjson.loads(result.stdout)["alerts"]
    top = alerts[0]
    assert {"agent", "severity", "score", "first_seen", "last_seen", "reasons", "evidence"} <= set(
        top
    )
    assert top["agent"] == data.truth["compromised_agents"][0]
    assert top["severity"] in ("high", "critical")
    assert top["first_seen"].endswith("Z")
    assert top["last_seen"] >= top["first_seen"]
    assert all(isinstance(r, str) for r in top["reasons"])
    again = orjson.loads(CliRunner().invoke(app, ["detect", "--format", "json"]).stdout)["alerts"]
    assert [a["id"] for a in again] == [a["id"] for a in alerts]  # stored once, updated
    marked = CliRunner().invoke(
        app, ["detect", "--mark", f"{top['id']}=closed_malicious", "--format", "json"]
    )
    statuses = {a["id"]: a["status"] for a in orjson.loads(marked.stdout)["alerts"]}
    assert statuses[top["id"]] == "closed_malicious"


def test_a_bad_mark_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "v.db"))
    CliRunner().invoke(app, ["init"])
    result = CliRunner().invoke(app, ["detect", "--mark", "1=maybe"])
    assert result.exit_code != 0
