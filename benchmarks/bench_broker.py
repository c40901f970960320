"""Benchmarks of the access broker.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_broker.py -s``.

1. In-process decisions per second: authorize (facts from the store, Cedar) + mask +
   durable ledger append with group commit, from ``THREADS`` threads. Baseline in the same
   run: a bare ``cedarpy.is_authorized`` call of the same request (same policy set,
   entities and context, ticket included), plus a plain insert of the same access rows in
   transactions of the same size.
2. Over HTTP on loopback: ``vigile serve`` in a subprocess, an open-loop load generator at
   ``RATE`` requests per second for ``SECONDS`` seconds with at most ``IN_FLIGHT``
   requests outstanding (bounded); p50 and p99 latency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cedarpy
import pytest
from sqlalchemy import insert

from tests.serving import serve
from vigile.broker import Broker, LocalTokens, Notifier, Principal
from vigile.model import Access, Action, Agent, Contact, Customer, Reason, TicketEvent, TicketStep
from vigile.policy import RequestFacts, justification
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import write_transaction
from vigile.store.rows import to_row

pytestmark = pytest.mark.bench

AGENTS, CUSTOMERS = 200, 2_000
THREADS = int(os.environ.get("VIGILE_BENCH_THREADS", "32"))
DECISIONS = int(os.environ.get("VIGILE_BENCH_DECISIONS", "20000"))
RATE = int(os.environ.get("VIGILE_BENCH_RATE", "1000"))
SECONDS, IN_FLIGHT = 5, 64
NOW = datetime.now(UTC)


def _world() -> list[object]:
    records: list[object] = [Agent(id=f"a-{n}", tier=2, team=f"t-{n % 7}") for n in range(AGENTS)]
    for n in range(CUSTOMERS):
        customer = f"c-{n}"
        records.append(Customer(id=customer, name=f"Customer {n}", tier="smb"))
        records.append(
            Contact(
                id=f"k-{n}", customer=customer, email=f"x{n}@c{n}.example", phone="+1 202 555 0100"
            )
        )
        opened = NOW - timedelta(hours=2)
        records.append(
            TicketEvent(
                id=f"T-{n}/o",
                time=opened,
                ticket=f"T-{n}",
                event=TicketStep.OPENED,
                customer=customer,
            )
        )
        records.append(
            TicketEvent(
                id=f"T-{n}/a",
                time=opened,
                ticket=f"T-{n}",
                event=TicketStep.ASSIGNED,
                agent=f"a-{n % AGENTS}",
            )
        )
    return records


def _settings(folder: Path) -> Settings:
    return Settings(
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "ledger.key"),
        broker_token_key=str(folder / "broker.key"),
        broker_customers_per_hour=10**9,
        broker_reveals_per_hour=10**9,
    )


def _run_decisions(broker: Broker, threads: int = THREADS) -> tuple[float, float]:
    """Decisions per second, and CPU seconds (all threads) per decision."""
    per_thread = DECISIONS // threads

    def work(offset: int) -> None:
        for n in range(per_thread):
            index = (offset * per_thread + n) % CUSTOMERS
            agent = f"a-{index % AGENTS}"
            who = Principal(
                agent=agent,
                session=f"s-{agent}",
                roles=frozenset({"agent"}),
                mfa="totp",
                ip="127.0.0.1",
            )
            broker.view_list(
                who,
                f"c-{index}",
                "contacts",
                ticket=f"T-{index}",
                reason="customer_initiated_support",
            )

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done = per_thread * threads
    return done / (time.perf_counter() - start), (time.process_time() - cpu) / done


def _request_path_alone(broker: Broker) -> tuple[float, float]:
    """The same decisions from one thread with recording switched off: what the Python
    request path (facts, Cedar, masking, the event built) costs on its own, the ceiling
    of one interpreter whatever the ledger does. Never done outside this measurement."""
    broker._record = lambda records: None  # type: ignore[method-assign]
    try:
        return _run_decisions(broker, threads=1)
    finally:
        del broker._record


def _bare_cedar(broker: Broker, count: int) -> float:
    """Seconds per bare cedarpy call: the request the broker evaluates for a decision of
    ``_run_decisions`` (its ticket as the context carries it), on the same policies and
    entities."""
    with broker.facts.reading() as read:
        ticket = read.ticket_as_of("T-1", NOW)
    facts = RequestFacts(
        now=NOW, customer="c-1", reason="customer_initiated_support", ticket=ticket
    )
    request = {
        "principal": {"type": "Agent", "id": "a-1"},
        "action": {"type": "Action", "id": "contact.view"},
        "resource": {"type": "Customer", "id": "c-1"},
        "context": justification(facts),
    }
    policies, entities = broker.policy.policy_set, broker.policy.entities.handle
    assert cedarpy.is_authorized(request, policies, entities).allowed  # the broker's path
    start = time.perf_counter()
    for _ in range(count):
        cedarpy.is_authorized(request, policies, entities)
    return (time.perf_counter() - start) / count


def _plain_insert(store: Store, count: int, group: int) -> float:
    """Seconds per access row inserted plainly (no ledger), same durability and groups."""
    rows = [
        to_row(
            Access(
                id=f"plain-{n}",
                time=NOW,
                agent="a-1",
                session="s",
                action=Action.CONTACT_VIEW,
                outcome="allowed",
                customer="c-1",
                reason=Reason.CUSTOMER_INITIATED_SUPPORT,
            ),
            seq=10**9 + n,
        )
        for n in range(count)
    ]
    start = time.perf_counter()
    for first in range(0, count, group):
        with write_transaction(store.engine) as conn:
            conn.execute(insert(t.accesses), rows[first : first + group])
    return (time.perf_counter() - start) / count


def test_in_process_decisions(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with Store.open(settings, create=True) as store:
        Recorder(store).record(_world())  # type: ignore[arg-type]
        broker = Broker(store, settings, notifier=Notifier([]))
        rate, cpu = _run_decisions(broker)
        commits = broker.committer.commits
        alone, alone_cpu = _request_path_alone(broker)
        cedar = _bare_cedar(broker, 5_000)
        group = max(1, DECISIONS // max(commits, 1))
        plain = _plain_insert(store, 5_000, group)
        broker.close()
    per_decision = 1 / rate
    print(
        f"\nbroker: {rate:,.0f} decisions/s ({THREADS} threads, {commits} commits, "
        f"~{group}/commit); "
        f"bare cedarpy {cedar * 1e6:.0f} us + plain insert {plain * 1e6:.0f} us = "
        f"{(cedar + plain) * 1e6:.0f} us; broker {per_decision * 1e6:.0f} us per decision "
        f"= {per_decision / (cedar + plain):.1f}x; CPU (all threads) {cpu * 1e6:.0f} us per "
        f"decision; request path alone (no recording, 1 thread): {alone:,.0f}/s, "
        f"{alone_cpu * 1e6:.0f} us CPU per decision"
    )


class _Connection:
    """One keep-alive HTTP/1.1 connection, spoken directly: the load generator must cost
    far less than the server it measures (httpx costs about a millisecond a request)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, target: str, headers: bytes) -> int:
        self.writer.write(f"GET {target} HTTP/1.1\r\n".encode() + headers + b"\r\n")
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


async def _load(
    port: int, token: str, path: str, seconds: float = SECONDS
) -> tuple[list[float], float]:
    """Open loop: request ``n`` is sent at ``n / RATE`` s (or as soon as one of the
    ``IN_FLIGHT`` connections is free); latencies from sending to the whole answer, and
    the rate achieved."""
    headers = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n".encode()
    free: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(IN_FLIGHT):
        free.put_nowait(_Connection(*await asyncio.open_connection("127.0.0.1", port)))
    latencies: list[float] = []

    async def one(n: int) -> None:
        index = n % CUSTOMERS
        target = path.format(index=index)
        connection = await free.get()
        start = time.perf_counter()
        try:
            status = await asyncio.wait_for(connection.get(target, headers), 30)
            ok = status in (200, 403)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
            ok = False
            connection = _Connection(*await asyncio.open_connection("127.0.0.1", port))
        free.put_nowait(connection)
        # A failed request counts as infinitely slow: it never hides in the percentiles.
        latencies.append(time.perf_counter() - start if ok else float("inf"))

    tasks = []
    begin = time.perf_counter()
    for n in range(int(RATE * seconds)):
        await asyncio.sleep(max(0.0, begin + n / RATE - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    achieved = len(latencies) / (time.perf_counter() - begin)
    while not free.empty():
        free.get_nowait().writer.close()
    return latencies, achieved


def _percentiles(latencies: list[float]) -> tuple[float, float, int]:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return statistics.median(ordered), p99, sum(1 for x in ordered if x == float("inf"))


def _commit_latency(folder: Path, count: int = 200) -> tuple[float, float]:
    """p50 and p99 of one durable SQLite commit on this disk (WAL, synchronous=FULL): the
    floor of any answer that waits for its access to be recorded."""
    import sqlite3  # noqa: PLC0415

    conn = sqlite3.connect(folder / "fsync.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    times = []
    for n in range(count):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?)", (n,))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(count * 0.99) - 1]


def test_http_latency(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with Store.open(settings, create=True) as store:
        Recorder(store).record(_world())  # type: ignore[arg-type]
    token = LocalTokens(settings).issue(
        "a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )
    unlimited = {
        "VIGILE_BROKER_CUSTOMERS_PER_HOUR": "1000000000",
        "VIGILE_BROKER_REVEALS_PER_HOUR": "1000000000",
    }
    contacts = "/v1/customers/c-{index}/contacts?ticket=T-{index}&reason=customer_initiated_support"
    with serve(settings, tmp_path / "serve.log", unlimited) as server:
        # Warm up (the session's sign-in, worker threads, held connections), then measure.
        asyncio.run(_load(server.port, token, contacts, seconds=1))
        health = _percentiles(asyncio.run(_load(server.port, token, "/health"))[0])
        latencies, achieved = asyncio.run(_load(server.port, token, contacts))
    p50, p99, failed = _percentiles(latencies)
    commit = _commit_latency(tmp_path)
    print(
        f"\nHTTP contacts at {RATE} req/s for {SECONDS} s ({achieved:,.0f} req/s achieved, "
        f"at most {IN_FLIGHT} in flight): p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, "
        f"{failed} failed of {len(latencies)}; same load on /health: p50 "
        f"{health[0] * 1e3:.1f} ms, p99 {health[1] * 1e3:.1f} ms; one durable SQLite commit "
        f"here: p50 {commit[0] * 1e3:.1f} ms, p99 {commit[1] * 1e3:.1f} ms"
    )
