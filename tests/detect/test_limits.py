"""DuckDB's memory bound in detection: each engine spills to a folder of its own, readable
by this user only and removed after the run, an error included; a bound small enough to
make DuckDB spill gives the alerts of the default one."""

from __future__ import annotations

import gc
import stat
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.detect.conftest import Stored
from vigile.detect.alerts import Alert
from vigile.detect.errors import DetectError
from vigile.detect.features import DEFAULT_MEMORY_LIMIT, EngineLimits, FeatureEngine
from vigile.detect.service import DetectionConfig, detect, open_features
from vigile.detect.source import AGENT_SCHEMA, CUSTOMER_SCHEMA, EventBatch
from vigile.store import Store


@pytest.fixture
def parent(tmp_path: Path) -> Path:
    folder = tmp_path / "spill"
    folder.mkdir()
    return folder


def _setting(features: FeatureEngine, name: str) -> str:
    return str(features.db.execute(f"SELECT current_setting('{name}')").fetchall()[0][0])


def _shown(limit: str) -> str:
    # DuckDB shows a limit in its own units ("953.6 MiB" for 1GB).
    with duckdb.connect(config={"memory_limit": limit}) as db:
        return str(db.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_duckdb_spills_to_a_private_folder_removed_on_close(
    stored: Callable[[str], Stored], tmp_path: Path, parent: Path
) -> None:
    data = stored("baseline")
    config = DetectionConfig(limits=EngineLimits(temp_directory=str(parent)))
    with Store.open(data.settings(tmp_path)) as store:
        features, _ = open_features(store.engine, config)
    try:
        (spill,) = parent.iterdir()
        assert stat.S_IMODE(spill.stat().st_mode) == 0o700  # the spilled rows are customer data
        assert _setting(features, "temp_directory") == str(spill)
        assert _setting(features, "memory_limit") == _shown(DEFAULT_MEMORY_LIMIT)
    finally:
        features.close()
    assert not spill.exists()
    assert list(parent.iterdir()) == []


def test_the_spill_folder_is_removed_after_an_error(
    stored: Callable[[str], Stored],
    tmp_path: Path,
    parent: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(self: FeatureEngine, batch: EventBatch) -> int | None:
        assert len(list(parent.iterdir())) == 1  # the run's folder exists while it runs
        raise DetectError("the disk is full")

    monkeypatch.setattr(FeatureEngine, "absorb", fail)
    data = stored("baseline")
    config = DetectionConfig(limits=EngineLimits(temp_directory=str(parent)))
    with Store.open(data.settings(tmp_path)) as store, pytest.raises(DetectError, match="full"):
        detect(store.engine, config)
    assert list(parent.iterdir()) == []


def test_an_engine_never_closed_removes_its_folder_when_collected(parent: Path) -> None:
    features = FeatureEngine(
        agents=AGENT_SCHEMA.empty_table(), customers=CUSTOMER_SCHEMA.empty_table(),
        shifts={}, limits=EngineLimits(temp_directory=str(parent)),
    )  # fmt: skip
    assert len(list(parent.iterdir())) == 1
    del features
    gc.collect()
    assert list(parent.iterdir()) == []


def test_a_limit_duckdb_refuses_is_an_error_and_leaves_no_folder(parent: Path) -> None:
    limits = EngineLimits(memory_limit="plenty", temp_directory=str(parent))
    with pytest.raises(DetectError, match="cannot start DuckDB"):
        FeatureEngine(
            agents=AGENT_SCHEMA.empty_table(), customers=CUSTOMER_SCHEMA.empty_table(),
            shifts={}, limits=limits,
        )  # fmt: skip
    assert list(parent.iterdir()) == []


def test_a_missing_temp_directory_is_an_error(tmp_path: Path) -> None:
    limits = EngineLimits(temp_directory=str(tmp_path / "missing"))
    with pytest.raises(DetectError, match="spill folder"):
        FeatureEngine(
            agents=AGENT_SCHEMA.empty_table(), customers=CUSTOMER_SCHEMA.empty_table(),
            shifts={}, limits=limits,
        )  # fmt: skip


def _answers(alerts: list[Alert]) -> list[tuple[object, ...]]:
    return [(a.agent, a.severity, round(a.score, 6), a.reasons, a.evidence) for a in alerts]


def test_a_tight_memory_limit_spills_and_gives_the_same_alerts(
    stored: Callable[[str], Stored],
    tmp_path: Path,
    parent: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 120MB is below what this store's state and judging take in one batch (DuckDB writes
    # to its spill folder: seen after each batch), above what it cannot spill (about 100MB
    # here, fixed: the judging joins' hash tables, each with its partitions, at once).
    spilled: list[int] = []
    prune = FeatureEngine.prune

    def watched(self: FeatureEngine, keep_from_us: int | None = None) -> None:
        spilled.append(sum(f.stat().st_size for f in self.spill.iterdir()))
        prune(self, keep_from_us)

    data = stored("nobelium")
    with Store.open(data.settings(tmp_path)) as store:
        default = detect(store.engine)
        monkeypatch.setattr(FeatureEngine, "prune", watched)
        tight = EngineLimits(memory_limit="120MB", temp_directory=str(parent), threads=1)
        bounded = detect(store.engine, DetectionConfig(limits=tight))
    assert max(spilled) > 0
    assert default
    assert _answers(bounded) == _answers(default)
    assert list(parent.iterdir()) == []
