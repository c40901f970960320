"""Benchmarks of the access broker.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_broker.py -s``.

1. In-process decisions per second: authorize (facts from the store, Cedar) + mask +
   durable ledger append with group commit, from ``THREADS`` threads. Baseline in the same
   run: a bare ``cedarpy.is_authorized`` call on the same policy set and entities, plus a
   plain insert of the same access rows in transactions of the same size.
2. Over HTTP on loopback: ``vigile serve`` in a subprocess, an open-loop load generator at
   ``RATE`` requests per second for ``SECONDS`` seconds with at most ``IN_FLIGHT``
   requests outstanding (bounded); p50 and p99 latency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cedarpy
import pytest
from sqlalchemy import insert

from vigile.broker import Broker, LocalTokens, Notifier, Principal
from vigile.ingest.record import Recorder
from vigile.model import Access, Action, Agent, Contact, Customer, Reason, TicketEvent, TicketStep
from vigile.policy import RequestFacts, justification
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


def _run_decisions(broker: Broker) -> float:
    per_thread = DECISIONS // THREADS

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

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_thread * THREADS / (time.perf_counter() - start)


def _bare_cedar(broker: Broker, count: int) -> float:
    """Seconds per bare cedarpy call on the same policies and entities."""
    facts = RequestFacts(now=NOW, customer="c-1", reason="customer_initiated_support")
    request = {
        "principal": {"type": "Agent", "id": "a-1"},
        "action": {"type": "Action", "id": "contact.view"},
        "resource": {"type": "Customer", "id": "c-1"},
        "context": justification(facts),
    }
    policies, entities = broker.policy.policy_set, broker.policy.entities.handle
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
        rate = _run_decisions(broker)
        commits = broker.committer.commits
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
        f"= {per_decision / (cedar + plain):.1f}x"
    )


async def _load(url: str, headers: dict[str, str]) -> list[float]:
    import httpx  # noqa: PLC0415 - a test dependency, only here

    latencies: list[float] = []
    limit = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(n: int) -> None:
            async with limit:
                start = time.perf_counter()
                index = n % CUSTOMERS
                params = {"ticket": f"T-{index}", "reason": "customer_initiated_support"}
                try:
                    response = await client.get(
                        f"{url}/v1/customers/c-{index}/contacts", params=params, headers=headers
                    )
                    ok = response.status_code in (200, 403)
                except httpx.HTTPError:
                    ok = False
                # A failed request counts at the timeout: it never hides in the percentiles.
                latencies.append(time.perf_counter() - start if ok else float("inf"))

        tasks = []
        begin = time.perf_counter()
        for n in range(RATE * SECONDS):
            await asyncio.sleep(max(0.0, begin + n / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies


def test_http_latency(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with Store.open(settings, create=True) as store:
        Recorder(store).record(_world())  # type: ignore[arg-type]
    token = LocalTokens(settings).issue(
        "a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )
    env = {
        **os.environ,
        "VIGILE_DB": settings.db,
        "VIGILE_LEDGER_KEY": settings.ledger_key,
        "VIGILE_BROKER_TOKEN_KEY": settings.broker_token_key,
        "VIGILE_BROKER_CUSTOMERS_PER_HOUR": "1000000000",
        "VIGILE_BROKER_REVEALS_PER_HOUR": "1000000000",
    }
    port = 18_765
    server = subprocess.Popen(
        [sys.executable, "-m", "vigile", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        latencies = asyncio.run(
            _load(f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"})
        )
    finally:
        server.terminate()
        server.wait(10)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    failed = sum(1 for x in ordered if x == float("inf"))
    print(
        f"\nHTTP at {RATE} req/s for {SECONDS} s: p50 {p50 * 1e3:.1f} ms, "
        f"p99 {p99 * 1e3:.1f} ms, {failed} failed of {len(ordered)}"
    )


def _wait_for(url: str) -> None:
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")
