"""Benchmark of detection on Spark over the lake: DuckDB against Spark ``local[1]`` and
``local[2]``, same events, same run.

Run with ``pytest -m bench benchmarks/bench_spark.py -s`` (PySpark and Java needed).

A ``mixed`` simulation of about ``VIGILE_BENCH_SPARK_EVENTS`` events (default 60,000) is
ingested and exported to a lake; batch detection then runs over the lake on DuckDB (the
baseline), on Spark ``local[1]`` and on Spark ``local[2]`` (each a new Spark session: its
start counts; ``local[1]`` runs first with a cold JVM, then again after ``local[2]``, warm:
the ratio is the warm one's), and the alerts must be the same. The
figures are wall clock with the load average: the machine is shared, so the ratio of
``local[2]`` to ``local[1]`` says what a second core gives only when one is free.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from vigile.ingest import ingest_file
from vigile.lake import export_lake
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

pytestmark = pytest.mark.bench

EVENTS = int(os.environ.get("VIGILE_BENCH_SPARK_EVENTS", "60000"))
DAYS = 30
EVENTS_PER_AGENT_DAY = 64


def test_detection_on_duckdb_and_on_spark(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed (vigile[spark])")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java")
    from vigile.detect.service import detect  # noqa: PLC0415 - only this benchmark

    agents = max(10, EVENTS // (DAYS * EVENTS_PER_AGENT_DAY))
    result = simulate(
        SimulationConfig(scenario="mixed", seed=4, days=DAYS, agents=agents), tmp_path / "sim"
    )
    settings = Settings(db=str(tmp_path / "bench.db"), ledger_key=str(tmp_path / "ledger.key"))
    lake = str(tmp_path / "lake")
    seconds: dict[str, float] = {}
    found = {}
    with Store.open(settings, create=True) as store:
        ingest_file(store, result.path)
        export_lake(store.engine, lake)
        # local[1] twice: first with a cold JVM (Spark's session comes and goes, its JVM
        # stays for the process), then warm, after local[2], for a fair ratio.
        runs = (
            ("duckdb", None), ("local[1] cold", "local[1]"), ("local[2]", "local[2]"),
            ("local[1]", "local[1]"),
        )  # fmt: skip
        for name, master in runs:
            started = time.perf_counter()
            found[name] = detect(store.engine, lake=lake, spark_master=master)
            seconds[name] = time.perf_counter() - started
            print(f"\n{name}: {seconds[name]:.1f} s, load average {os.getloadavg()[0]:.1f}")
    print(f"\n{result.events:,} events on {os.cpu_count()} cores")
    for name, took in seconds.items():
        print(
            f"{name}: {took:.1f} s ({result.events / took:,.0f} events/s), "
            f"{took / seconds['duckdb']:.1f} times DuckDB's"
        )
    print(f"local[1] / local[2]: {seconds['local[1]'] / seconds['local[2]']:.2f}")
    expected = [(a.agent, a.severity, a.reasons) for a in found["duckdb"]]
    for name in ("local[1] cold", "local[1]", "local[2]"):
        assert [(a.agent, a.severity, a.reasons) for a in found[name]] == expected, name
