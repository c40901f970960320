"""Benchmark of the event lake: ``vigile lake export`` at 200,000 events/s or more.

Run with ``pytest -m bench benchmarks/bench_lake.py -s``.

1. A ``mixed`` simulation of about ``VIGILE_BENCH_EVENTS`` events (default 300,000) is
   ingested; the lake export is timed (wall clock and the process's CPU time, reader
   processes off and on), then ``vigile lake check`` over it (which must pass).
2. ``VIGILE_BENCH_ROWS`` accesses (default 2,000,000) are written straight into the
   store with one SQL statement (as ``bench_blast_radius.py`` does), with ledger entries
   for them, and exported. The baseline, measured in the same run on the same rows, is
   the bare read: the DB-API cursor fetching every row of the table, nothing converted
   or written. The export's rate is reported against it: the ratio says what Arrow,
   the day split and Parquet add to the read a lake export cannot do without.

The machine is shared: the figures are printed with the load average, and the target is
asserted on CPU time (what one unloaded core gives), not on wall time.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

import vigile.lake.export as lake_export
from vigile.ingest import ingest_file
from vigile.lake import check_lake, export_lake
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

pytestmark = pytest.mark.bench

EVENTS = int(os.environ.get("VIGILE_BENCH_EVENTS", "300000"))
ROWS = int(os.environ.get("VIGILE_BENCH_ROWS", "2000000"))
DAYS = 30
EVENTS_PER_AGENT_DAY = 64
TARGET = 200_000  # events per second


def _timed_export(store: Store, lake: Path, *, parallel: bool) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, events) of one export to a new lake."""
    lake_export._PARALLEL_FROM = 0 if parallel else 10**18
    cpu, wall = time.process_time(), time.perf_counter()
    done = export_lake(store.engine, str(lake))
    return time.perf_counter() - wall, time.process_time() - cpu, done.events


def _report(what: str, wall: float, cpu: float, events: int) -> str:
    return (
        f"{what}: {events:,} events in {wall:.1f} s = {events / wall:,.0f}/s wall, "
        f"{events / cpu:,.0f}/s per CPU-second of the exporting process"
    )


def test_lake_export_of_a_simulation(tmp_path: Path) -> None:
    agents = max(10, EVENTS // (DAYS * EVENTS_PER_AGENT_DAY))
    result = simulate(
        SimulationConfig(scenario="mixed", seed=4, days=DAYS, agents=agents), tmp_path / "sim"
    )
    settings = Settings(db=str(tmp_path / "bench.db"), ledger_key=str(tmp_path / "ledger.key"))
    default = lake_export._PARALLEL_FROM
    try:
        with Store.open(settings, create=True) as store:
            ingest_file(store, result.path)
            wall, cpu, events = _timed_export(store, tmp_path / "lake", parallel=False)
            pwall, pcpu, _ = _timed_export(store, tmp_path / "lake-p", parallel=True)
            started = time.perf_counter()
            report = check_lake(store.engine, str(tmp_path / "lake"))
            check_seconds = time.perf_counter() - started
    finally:
        lake_export._PARALLEL_FROM = default
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(_report("export, one process", wall, cpu, events))
    print(_report("export, reader processes", pwall, pcpu, events) + " (parent only)")
    print(f"check: {report.rows:,} rows in {check_seconds:.1f} s = "
          f"{report.rows / check_seconds:,.0f} rows/s")  # fmt: skip
    assert report.ok, report.problems
    assert events / cpu >= TARGET


_FILL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
INSERT INTO accesses (seq, id, time_us, agent, session, ip, action, customer, object,
                      fields, masked_fields, ticket, reason, outcome, extra)
SELECT i, 'e-' || i, 1619827200000000 + i * (2592000000000 / :rows),
  printf('a-%04d', i % 5000), printf('s-%d', i % 200000), '10.0.0.1', 'contact.view',
  printf('c-%05d', (i * 7919) % 50000), printf('k-%d', i % 150000),
  '["contact.name","contact.role"]', '["contact.email","contact.phone"]',
  printf('T-%d', i % 90000), 'customer_initiated_support', 'allowed', NULL
FROM n
"""
_LEDGER = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
INSERT INTO ledger_entries (idx, hashes) SELECT i, zeroblob(32) FROM n
"""


def test_lake_export_against_the_bare_read(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "rows.db"), ledger_key=str(tmp_path / "ledger.key"))
    with Store.open(settings, create=True):
        pass
    with sqlite3.connect(tmp_path / "rows.db") as db:
        db.execute("PRAGMA synchronous=OFF")
        db.execute(_FILL, {"rows": ROWS})
        db.execute(_LEDGER, {"rows": ROWS})
    with sqlite3.connect(tmp_path / "rows.db") as db:
        cpu, wall = time.process_time(), time.perf_counter()
        cursor = db.execute("SELECT seq, * FROM accesses ORDER BY seq")
        while cursor.fetchmany(50_000):
            pass
        read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
    default = lake_export._PARALLEL_FROM
    try:
        with Store.open(settings) as store:
            wall, cpu, events = _timed_export(store, tmp_path / "lake", parallel=False)
    finally:
        lake_export._PARALLEL_FROM = default
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(_report("bare cursor read (baseline)", read_wall, read_cpu, ROWS))
    print(_report("export, one process", wall, cpu, events))
    print(f"export / bare read: {read_wall / wall:.2f} wall, {read_cpu / cpu:.2f} CPU")
    assert events == ROWS
    assert events / cpu >= TARGET


def test_detection_over_the_store_and_over_the_lake(tmp_path: Path) -> None:
    """Batch detection over a simulation read from the store, then from its lake, in the
    same run: the same alerts, and what reading Parquet changes in the time."""
    from vigile.detect.service import detect  # noqa: PLC0415 - only this benchmark

    events = int(os.environ.get("VIGILE_BENCH_DETECT_EVENTS", "150000"))
    agents = max(10, events // (DAYS * EVENTS_PER_AGENT_DAY))
    result = simulate(
        SimulationConfig(scenario="mixed", seed=4, days=DAYS, agents=agents), tmp_path / "sim"
    )
    settings = Settings(db=str(tmp_path / "bench.db"), ledger_key=str(tmp_path / "ledger.key"))
    with Store.open(settings, create=True) as store:
        ingest_file(store, result.path)
        export_lake(store.engine, str(tmp_path / "lake"))
        started = time.perf_counter()
        over_store = detect(store.engine)
        store_seconds = time.perf_counter() - started
        started = time.perf_counter()
        over_lake = detect(store.engine, lake=str(tmp_path / "lake"))
        lake_seconds = time.perf_counter() - started
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"detect over {result.events:,} events: store {store_seconds:.1f} s "
        f"({result.events / store_seconds:,.0f}/s), lake {lake_seconds:.1f} s "
        f"({result.events / lake_seconds:,.0f}/s): lake / store {store_seconds / lake_seconds:.2f}"
    )
    assert [(a.agent, a.severity, a.score) for a in over_lake] == [
        (a.agent, a.severity, a.score) for a in over_store
    ]
