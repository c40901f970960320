"""Benchmark of the blast radius: one scope over a large store in at most a second.

Run with ``pytest -m bench benchmarks/bench_blast_radius.py -s``. A ``nobelium``
simulation (an account takeover) of about ``VIGILE_BENCH_EVENTS`` events (default 1M;
10M is the target size and takes far longer to build) is ingested into the embedded
store; then the blast radius of the attacker's whole scope (its agent and sessions), and
of the busiest agent over the whole period, is computed three times each, best time kept.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from vigile.respond import BlastRadius, Scope, blast_radius
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store
from vigile.store import tables as t

pytestmark = pytest.mark.bench

EVENTS = int(os.environ.get("VIGILE_BENCH_EVENTS", "1000000"))
DAYS = 30
EVENTS_PER_AGENT_DAY = 64  # measured on the simulator's default organisation
TARGET_SECONDS = 1.0


def _best(compute: Callable[[], BlastRadius]) -> tuple[float, BlastRadius]:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        radius = compute()
        timings.append(time.perf_counter() - started)
    return min(timings), radius


def _busiest(store: Store) -> str:
    from sqlalchemy import func, select  # noqa: PLC0415 - the benchmark's own query

    a = t.accesses
    query = select(a.c.agent).group_by(a.c.agent).order_by(func.count().desc()).limit(1)
    with store.engine.connect() as conn:
        return str(conn.execute(query).scalar_one())


def test_blast_radius_of_one_scope(tmp_path: Path) -> None:
    agents = max(10, EVENTS // (DAYS * EVENTS_PER_AGENT_DAY))
    config = SimulationConfig(scenario="nobelium", seed=3, days=DAYS, agents=agents)
    result = simulate(config, tmp_path / "sim")
    attack = json.loads(result.truth_path.read_text())["attacks"][0]
    settings = Settings(db=str(tmp_path / "bench.db"), ledger_key=str(tmp_path / "ledger.key"))
    with Store.open(settings, create=True) as store:
        started = time.perf_counter()
        store.ingest(result.path)
        ingest_seconds = time.perf_counter() - started
        scope = Scope(
            agents=(attack["agent"],),
            sessions=tuple(attack["sessions"]),
            since=datetime.fromisoformat(attack["window"]["start"]),
            until=datetime.fromisoformat(attack["window"]["end"]),
        )
        attacker_seconds, radius = _best(lambda: blast_radius(store, scope))
        busiest = Scope(
            agents=(_busiest(store),),
            since=datetime.fromisoformat("2021-05-01T00:00:00Z"),
            until=datetime.fromisoformat("2021-05-31T00:00:00Z"),
        )
        busy_seconds, busy = _best(lambda: blast_radius(store, busiest))
    print(
        f"\nblast radius over {result.events:,} events (ingest {ingest_seconds:.0f} s): "
        f"attacker {attacker_seconds * 1000:.0f} ms ({radius.summary.accesses:,} accesses, "
        f"{radius.summary.customers:,} customers); busiest agent {busy_seconds * 1000:.0f} ms "
        f"({busy.summary.accesses:,} accesses, {busy.summary.customers:,} customers)"
    )
    assert radius.summary.customers == len(
        set(attack["customers"]) | set(attack["customers_listed"])
    )
    assert max(attacker_seconds, busy_seconds) <= TARGET_SECONDS
