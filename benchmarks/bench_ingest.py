"""Benchmark of `vigile ingest` into the embedded SQLite store.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_ingest.py -s``. The input is
a simulated organisation (``VIGILE_BENCH_AGENTS`` agents x ``VIGILE_BENCH_DAYS`` days,
default 2,000 x 9, about a million events). Two baselines are measured in the same run on
the same file, so the ratios stay meaningful on a shared, noisy machine:

- *parse*: ``orjson.loads`` of every line, nothing else (the floor of any Python reader);
- *insert*: ``sqlite3.executemany`` of the same rows, already built, into the same schema
  with the same indexes and durability (the floor of any writer).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from vigile.activitylog.reader import ActivityLogReader
from vigile.model.times import from_micros
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store, open_engine
from vigile.store.rows import COLUMNS, to_values

pytestmark = pytest.mark.bench

AGENTS = int(os.environ.get("VIGILE_BENCH_AGENTS", "2000"))
DAYS = int(os.environ.get("VIGILE_BENCH_DAYS", "9"))


@pytest.fixture(scope="module")
def activity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    # nobelium needs the second half of May; a shorter run simulates a quiet month.
    scenario = "nobelium" if DAYS >= 29 else "baseline"
    config = SimulationConfig(
        scenario=scenario, seed=1, days=DAYS, agents=AGENTS, customers=AGENTS * 10
    )
    return simulate(config, out).path


def _parse_only(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as lines:
        for line in lines:
            orjson.loads(line)
    return time.perf_counter() - start


def _insert_only(path: Path, db: Path) -> tuple[float, int]:
    """executemany of prebuilt rows into a migrated store, same pragmas as the store's."""
    open_engine(str(db), create=True).dispose()
    rows: dict[str, list[tuple[object, ...]]] = {}
    seq = 0
    for chunk in ActivityLogReader(path).decoded_chunks(prepare=to_values):
        for table, values in chunk.records:
            if table in ("accesses", "signins", "ticket_events"):
                seq += 1
                rows.setdefault(table, []).append((seq, *values[1:]))
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "cache_size=-262144"):
        conn.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    conn.execute("BEGIN")
    for table, batch in rows.items():
        marks = ", ".join("?" * len(COLUMNS[table]))
        for i in range(0, len(batch), 5000):
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", batch[i : i + 5000])
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start, seq


_INGEST = """
import json, sys
from pathlib import Path
from vigile.ingest import ingest_file
from vigile.settings import Settings
from vigile.store import Store, open_engine
settings = Settings(db=sys.argv[2], ledger_key=sys.argv[3])
summary = ingest_file(Store(open_engine(settings.db, create=True), settings), Path(sys.argv[1]))
status = Path("/proc/self/status").read_text().splitlines()
peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(json.dumps({"events": summary.events_stored, "seconds": summary.seconds, "kib": peak}))
"""


def test_ingest_rate(activity: Path, tmp_path: Path) -> None:
    """Ingest in a process of its own, so its peak memory is its own."""
    db, key = tmp_path / "bench.db", tmp_path / "bench.key"
    done = subprocess.run(
        [sys.executable, "-c", _INGEST, str(activity), str(db), str(key)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = orjson.loads(done.stdout)
    seconds, peak = result["seconds"], result["kib"] / 1024
    parse = _parse_only(activity)
    insert, events = _insert_only(activity, tmp_path / "floor.db")
    assert result["events"] == events
    rate = events / seconds
    print(
        f"\ningest: {events:,} events ({activity.stat().st_size / 1e6:,.0f} MB) in "
        f"{seconds:.1f} s = {rate:,.0f} events/s; peak RSS {peak:,.0f} MiB (writer process)\n"
        f"  baseline parse only: {events / parse:,.0f} lines/s "
        f"(ingest takes {seconds / parse:.2f}x)\n"
        f"  baseline insert only: {events / insert:,.0f} rows/s "
        f"(ingest takes {seconds / insert:.2f}x)"
    )
    _report_queries(db)
    assert rate >= 100_000, f"ingest {rate:,.0f} events/s is below the 100,000/s goal"


def _report_queries(db: Path) -> None:
    """The three questions every later part asks, on the store just filled."""
    settings = Settings(db=str(db), ledger_key=str(db.with_suffix(".key")))
    with Store.open(settings) as store, store.engine.connect() as conn:
        agent, customer, session, start = conn.execute(
            text(
                "SELECT agent, customer, session, time_us FROM accesses WHERE seq >= "
                "(SELECT max(seq) / 2 FROM accesses) ORDER BY seq LIMIT 1"
            )
        ).one()
        since = from_micros(start)
        timings = {
            "agent, one week": lambda: store.events_of_agent(
                agent, since, since + timedelta(days=7)
            ),
            "customer, all time": lambda: store.events_of_customer(customer),
            "session": lambda: store.events_of_session(session),
        }
        for label, query in timings.items():
            started = time.perf_counter()
            found = query()
            elapsed = (time.perf_counter() - started) * 1000
            print(f"  query {label}: {len(found):,} events in {elapsed:.1f} ms")


def test_reader_memory_is_constant(activity: Path) -> None:
    """Peak memory of a process that reads the whole file, against one that reads 1%."""

    def peak(lines: int) -> float:
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
        script = (
            "import itertools, sys; from pathlib import Path; "
            "from vigile.activitylog import ActivityLogReader; "
            f"sum(1 for _ in itertools.islice(ActivityLogReader(Path(sys.argv[1])), {lines})); "
            "status = Path('/proc/self/status').read_text().splitlines(); "
            "print(next(line.split()[1] for line in status if line.startswith('VmHWM')))"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(activity)],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout) / 1024

    small, whole = peak(10_000), peak(10**9)
    print(f"\nreader peak RSS: {small:,.0f} MiB after 10,000 lines, {whole:,.0f} MiB after all")
    assert whole <= small * 1.5
