"""Detection on Spark over the lake (`vigile detect --engine spark`): the same feature SQL
through sqlglot gives the same features, row for row, and the same alerts as DuckDB on
the same lake. Spark runs in local mode (``local[2]``); the tests skip without PySpark or
Java, and fail instead with ``VIGILE_REQUIRE_SPARK=1`` (CI)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tests.detect.conftest import Stored
from vigile.cli.app import app
from vigile.detect.errors import DetectError
from vigile.detect.lake_source import read_lake_batches
from vigile.detect.service import (
    DetectionConfig,
    alerts_from,
    detect,
    feature_rows,
    open_features,
    open_spark_features,
    score_computed,
)
from vigile.detect.spark import check_spark, to_spark_sql
from vigile.lake import export_lake
from vigile.store import Store


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401, PLC0415
    except ImportError:
        return "PySpark is not installed (pip install 'vigile[spark]')"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "no Java (java on PATH or JAVA_HOME)"
    return None


@pytest.fixture(scope="module")
def spark_ready() -> None:
    missing = _spark_missing()
    if missing is None:
        return
    if os.environ.get("VIGILE_REQUIRE_SPARK") == "1":
        pytest.fail(f"VIGILE_REQUIRE_SPARK=1 but {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def mixed_lake(
    stored: Callable[[str], Stored], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Stored, Path, str]:
    """The mixed scenario (every attack shape) stored and exported to a lake."""
    data = stored("mixed")
    folder = tmp_path_factory.mktemp("spark-lake")
    lake = str(folder / "lake")
    with Store.open(data.settings(folder)) as store:
        export_lake(store.engine, lake, window=50_000)
    return data, folder, lake


def test_spark_gives_duckdbs_features_and_alerts(
    spark_ready: None, mixed_lake: tuple[Stored, Path, str]
) -> None:
    data, folder, lake = mixed_lake
    config = DetectionConfig()
    with Store.open(data.settings(folder)) as store:
        duck, _ = open_features(store.engine, config)
        try:
            theirs = feature_rows(duck, read_lake_batches(lake, limit=None), whole=True)
        finally:
            duck.close()
        on_duckdb = detect(store.engine, config, lake=lake)
        # One Spark run: its features, then its alerts from them.
        spark, zones = open_spark_features(store.engine, config, lake, "local[2]")
        try:
            computed = list(spark.computed())
            on_spark = alerts_from(
                score_computed(spark, computed, config), spark, zones, config.policy
            )
        finally:
            spark.close()
    mine = pa.concat_tables([rows for rows, _ in computed]).sort_by(
        [("width_us", "ascending"), ("agent", "ascending"), ("bucket_us", "ascending")]
    )
    assert mine.num_rows == theirs.num_rows > 0
    assert mine.column_names == theirs.column_names
    for name in theirs.column_names:
        assert mine.column(name).to_pylist() == theirs.column(name).to_pylist(), name
    assert on_duckdb, "the scenario raises alerts"
    assert [(a.agent, a.severity, a.reasons, a.evidence) for a in on_spark] == [
        (a.agent, a.severity, a.reasons, a.evidence) for a in on_duckdb
    ]
    for mine_alert, their_alert in zip(on_spark, on_duckdb, strict=True):
        assert mine_alert.score == pytest.approx(their_alert.score, abs=1e-9)


def test_rewrites_for_sparks_catalog() -> None:
    # A v2 table's CREATE OR REPLACE and a DELETE become a table renamed over the old one.
    replaced = to_spark_sql("CREATE OR REPLACE TABLE m AS SELECT * FROM m WHERE t >= $h", {"h": 5})
    assert replaced == [
        "DROP TABLE IF EXISTS m__next",
        "CREATE TABLE m__next AS SELECT * FROM m WHERE t >= 5",
        "DROP TABLE IF EXISTS m",
        "ALTER TABLE m__next RENAME TO m",
    ]
    deleted = to_spark_sql("DELETE FROM d WHERE day_us < $b", {"b": 86400000000})
    assert deleted[1] == (
        "CREATE TABLE d__next AS SELECT * FROM d "
        "WHERE NOT (day_us < 86400000000) OR (day_us < 86400000000) IS NULL"
    )
    with pytest.raises(DetectError, match=r"parameters \['x'\] have no value"):
        to_spark_sql("SELECT $x")


def test_an_unreachable_master_is_refused_in_bounded_time(spark_ready: None) -> None:
    with pytest.raises(DetectError, match=r"spark://127\.0\.0\.1:1: unreachable"):
        check_spark("spark://127.0.0.1:1")
    with pytest.raises(DetectError, match="not a Spark master"):
        check_spark("mesos://x")


def test_the_cli_refuses_what_cannot_run(
    spark_ready: None,
    mixed_lake: tuple[Stored, Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, _, lake = mixed_lake
    settings = data.settings(tmp_path)
    monkeypatch.setenv("VIGILE_DB", settings.db)
    monkeypatch.setenv("VIGILE_LEDGER_KEY", settings.ledger_key)
    runner = CliRunner()
    before = Path(settings.db).read_bytes()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not a lake")
    cases = {
        "not a Vigile lake": ["--lake", str(tmp_path / "nothing")],
        "unreachable": ["--lake", lake, "--master", "spark://127.0.0.1:1"],
        "reads a lake": [],
    }
    for expected, args in cases.items():
        result = runner.invoke(app, ["detect", "--engine", "spark", *args])
        assert result.exit_code != 0, expected
        assert expected in str(result.exception) + result.output, (expected, result.output)
    with monkeypatch.context() as without:
        without.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
        no_pyspark = runner.invoke(app, ["detect", "--engine", "spark", "--lake", lake])
    assert no_pyspark.exit_code != 0
    assert "pip install 'vigile[spark]'" in str(no_pyspark.exception)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    no_java = runner.invoke(app, ["detect", "--engine", "spark", "--lake", lake])
    assert no_java.exit_code != 0
    assert "needs Java" in str(no_java.exception)
    assert Path(settings.db).read_bytes() == before  # nothing written
