"""Benchmarks of the ledger kept in the store.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_ledger.py -s``.

1. Durable appends per second with group commit: events recorded with their queued leaves
   (``EventWriter``: ``seq``, canonical JSON, leaf hash, ``ledger_leaves``) in transactions
   of ``GROUP`` events, ``synchronous=FULL`` on SQLite; then the integrator alone over
   those already-stored events (tree nodes, checkpoints every 10,000, batches of
   ``VIGILE_INTEGRATION_BATCH``). Baseline in the same run: a plain insert of the same
   rows, same transactions, same durability. On PostgreSQL too when ``VIGILE_TEST_PG`` is
   set.
2. Inclusion proofs read from the node table at 10^6 and 10^7 entries
   (``VIGILE_BENCH_PROOF_SIZES`` to change them): the median over random leaves.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from vigile.activitylog import decode
from vigile.ledger.compact import CompactRange, inclusion_proof
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.leaves import LeafQueue
from vigile.ledger.service import Ledger
from vigile.ledger.sql import SqlNodes
from vigile.record import EventWriter, Prepared
from vigile.settings import Settings
from vigile.store import Store
from vigile.store.rows import COLUMNS, to_values
from vigile.store.writes import bulk_insert

pytestmark = pytest.mark.bench

EVENTS = 100_000
GROUP = 1_000
PROOF_SIZES = [
    int(n) for n in os.environ.get("VIGILE_BENCH_PROOF_SIZES", "1000000,10000000").split(",")
]


def _time(n: int) -> str:
    day, hour, minute, second = 1 + n // 86_400 % 28, n // 3600 % 24, n // 60 % 60, n % 60
    return f"2021-05-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def _events(count: int) -> list[Prepared]:
    rng = random.Random(9162)
    records = []
    for n in range(count):
        records.append(
            (
                *to_values(
                    decode(
                        {
                            "kind": "access",
                            "time": _time(n),
                            "id": f"bench-{n}",
                            "agent": f"a-{rng.randrange(2000):04d}",
                            "session": f"s-{n // 50}",
                            "ip": "198.51.100.23",
                            "action": "contact.view",
                            "customer": f"c-{rng.randrange(20000):05d}",
                            "object": f"k-{rng.randrange(60000):05d}",
                            "fields": ["contact.name", "contact.role"],
                            "masked_fields": ["contact.email", "contact.phone"],
                            "ticket": f"T-{rng.randrange(10**6)}",
                            "reason": "customer_initiated_support",
                            "outcome": "allowed",
                        }
                    )
                ),
                None,  # recorded live: the leaf hash is computed in the writer
            )
        )
    return records


@pytest.fixture(scope="module")
def events() -> list[Prepared]:
    return _events(EVENTS)


def _engines() -> list[str]:
    return ["SQLite", "PostgreSQL"] if os.environ.get("VIGILE_TEST_PG") else ["SQLite"]


@contextmanager
def _fresh_store(engine: str, tmp: Path) -> Iterator[Store]:
    """An empty store on ``engine``: a new SQLite file or a new PostgreSQL database,
    dropped afterwards."""
    label = uuid.uuid4().hex[:8]
    admin = os.environ.get("VIGILE_TEST_PG", "")
    if engine == "SQLite":
        url = str(tmp / f"{label}.db")
    else:
        _admin_sql(admin, f'CREATE DATABASE "vigile_bench_{label}"')
        url = make_url(admin).set(database=f"vigile_bench_{label}").render_as_string(False)
    settings = Settings(db=url, ledger_key=str(tmp / f"{label}.key"))
    try:
        with Store.open(settings, create=True) as store:
            yield store
    finally:
        if engine != "SQLite":
            _admin_sql(admin, f'DROP DATABASE IF EXISTS "vigile_bench_{label}" WITH (FORCE)')


def _admin_sql(admin: str, statement: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _plain_insert(store: Store, events: list[Prepared]) -> float:
    """The same rows, same groups and durability, with the writer's own bulk insert
    (COPY on PostgreSQL), no dedup, no ledger."""
    columns = COLUMNS["accesses"]
    start = time.perf_counter()
    for first in range(0, len(events), GROUP):
        with store.engine.begin() as conn:
            rows = [
                (first + i, *v[1:]) for i, (_, v, _) in enumerate(events[first : first + GROUP])
            ]
            bulk_insert(conn, "accesses", columns, rows)
    return time.perf_counter() - start


def _ledger_appends(store: Store, events: list[Prepared]) -> float:
    start = time.perf_counter()
    for first in range(0, len(events), GROUP):
        with store.engine.begin() as conn:
            writer = EventWriter(conn, LeafQueue(conn, time_us=time.time_ns() // 1000))
            writer.write(events[first : first + GROUP])
    return time.perf_counter() - start


def _integration(store: Store) -> float:
    ledger = Ledger(store.engine, store.settings)
    start = time.perf_counter()
    done = ledger.integrate()
    elapsed = time.perf_counter() - start
    assert sum(batch.entries for batch in done) == EVENTS
    return elapsed


@pytest.mark.parametrize("engine", _engines())
def test_durable_appends(engine: str, events: list[Prepared], tmp_path: Path) -> None:
    with _fresh_store(engine, tmp_path) as store:
        plain = _plain_insert(store, events)
    with _fresh_store(engine, tmp_path) as store:
        appended = _ledger_appends(store, events)
        integrated = _integration(store)
    rate, plain_rate = len(events) / appended, len(events) / plain
    integration_rate = len(events) / integrated
    print(
        f"\n{engine}: {rate:,.0f} durable appends/s with queued leaves (groups of "
        f"{GROUP:,}); plain insert {plain_rate:,.0f} rows/s; ratio {rate / plain_rate:.2f}; "
        f"the integrator alone over them: {integration_rate:,.0f} entries/s (ratio to the "
        f"plain insert {integration_rate / plain_rate:.2f})"
    )
    assert rate >= 10_000, f"{engine}: {rate:,.0f} appends/s is below 10,000/s"
    assert rate >= plain_rate / 2, f"{engine}: appends are slower than half a plain insert"


def _build_tree(store: Store, size: int) -> None:
    """Fill ledger_entries with a tree of ``size`` random leaves (no events: proofs only)."""
    rng = random.Random(size)
    tree = CompactRange()
    with store.engine.begin() as conn:
        nodes = SqlNodes(conn)
        batch: list[tuple[int, bytes]] = []
        for index in range(size):
            completed = tree.append(leaf_hash(rng.randbytes(16)))
            batch.append((index, b"".join(node.hash for node in completed)))
            if len(batch) >= 50_000:
                nodes.write(batch)
                batch = []
        nodes.write(batch)


@pytest.mark.parametrize("size", PROOF_SIZES)
def test_inclusion_proof_latency(size: int, tmp_path: Path) -> None:
    with _fresh_store("SQLite", tmp_path) as store:
        started = time.perf_counter()
        _build_tree(store, size)
        built = time.perf_counter() - started
        timings, hashes = _time_proofs(store, size)
    median = statistics.median(timings) * 1000
    print(
        f"\ninclusion proof at {size:,} entries: median {median:.3f} ms, p99 "
        f"{sorted(timings)[int(len(timings) * 0.99)] * 1000:.3f} ms, {hashes} hashes "
        f"(tree built in {built:.0f} s)"
    )
    assert median <= 1.0


def _time_proofs(store: Store, size: int) -> tuple[list[float], int]:
    rng = random.Random(1)
    timings, hashes = [], 0
    with store.engine.connect() as conn:
        nodes = SqlNodes(conn)
        for _ in range(200):
            index = rng.randrange(size)
            start = time.perf_counter()
            hashes = len(inclusion_proof(nodes, index, size))
            timings.append(time.perf_counter() - start)
    return timings, hashes
