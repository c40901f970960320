"""Detection over the lake (`vigile detect --lake DIR`): the batches the lake gives are the
store's, row for row, and so are the alerts (agent, severity, score, reasons, evidence)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tests.detect.conftest import Stored
from vigile.cli.app import app
from vigile.detect.errors import DetectError
from vigile.detect.lake_source import _incident_reads, read_lake_batches
from vigile.detect.service import DetectionConfig, detect
from vigile.detect.source import read_events
from vigile.errors import InputError
from vigile.lake import export_lake
from vigile.store import Store


def test_the_lake_gives_the_stores_batches_and_alerts(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    data = stored("nobelium")
    lake = str(tmp_path / "lake")
    with Store.open(data.settings(tmp_path)) as store:
        export_lake(store.engine, lake, window=30_000)
        whole = read_events(store.engine)
        batches = list(read_lake_batches(lake, limit=20_000))
        assert batches[-1].size == 0
        assert [b.upto for b in batches[:-1]] == sorted({b.upto for b in batches[:-1]})
        for name in ("accesses", "signins", "ticket_events"):
            mine = pa.concat_tables([getattr(b, name) for b in batches]).sort_by("seq")
            theirs = getattr(whole, name).sort_by("seq")
            assert mine.equals(theirs), name
        from_store = detect(store.engine, DetectionConfig(batch_events=20_000))
        from_lake = detect(store.engine, DetectionConfig(batch_events=20_000), lake=lake)
    assert from_store, "the scenario raises alerts"
    assert [(a.agent, a.severity, a.score, a.reasons, a.evidence) for a in from_lake] == [
        (a.agent, a.severity, a.score, a.reasons, a.evidence) for a in from_store
    ]


def test_incident_reads_are_those_whose_incident_is_a_string() -> None:
    extra = pa.chunked_array([[
        '{"incident": "INC-1"}', '{"incident": 7}', '{"note": "no \\"incident\\": here"}',
        None, '{"a": {"incident": "INC-2"}}', '{"x": 1, "incident": "INC-3"}',
    ]])  # fmt: skip
    assert _incident_reads(extra).to_pylist() == [True, False, False, False, False, True]


def test_a_folder_that_is_not_a_lake_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DetectError, match="not a Vigile lake"):
        list(read_lake_batches(str(tmp_path / "nothing"), limit=None))


def test_the_cli_detects_over_a_lake_in_batch_only(
    stored: Callable[[str], Stored], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = stored("nobelium").settings(tmp_path)
    monkeypatch.setenv("VIGILE_DB", settings.db)
    monkeypatch.setenv("VIGILE_LEDGER_KEY", settings.ledger_key)
    lake = str(tmp_path / "lake")
    runner = CliRunner()
    assert runner.invoke(app, ["lake", "export", "--out", lake]).exit_code == 0
    refused = runner.invoke(app, ["detect", "--lake", lake, "--follow"])
    assert isinstance(refused.exception, InputError)
    assert "--lake: batch detection only" in str(refused.exception)
    over_lake = runner.invoke(app, ["detect", "--lake", lake, "--format", "json"])
    assert over_lake.exit_code == 0, over_lake.output
    over_store = runner.invoke(app, ["detect", "--format", "json"])
    assert orjson.loads(over_lake.stdout)["alerts"]
    assert orjson.loads(over_lake.stdout) == orjson.loads(over_store.stdout)
