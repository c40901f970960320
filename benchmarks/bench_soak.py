"""Soak: a bounded loopback load at half the saturation, for ten minutes.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_soak.py -s``.

``vigile serve`` on the embedded store (SQLite) in a subprocess, asked for customers'
contacts by their tickets' assignees (one request in eleven by another agent, denied):

1. **Saturation**: ``IN_FLIGHT`` clients each sending its next request as soon as
   the last is answered, for ``PROBE_SECONDS``: the rate answered is the saturation.
   ``VIGILE_SOAK_SATURATION`` (requests/s) skips the measurement.
2. **Soak**: an open-loop load at half that rate for ``VIGILE_SOAK_SECONDS`` (600 by
   default), at most ``IN_FLIGHT`` outstanding. Each minute: the server process's RSS
   (highest of the minute, sampled every second), the p50 and p99 latency of the
   requests sent that minute (from when each was due, so queueing counts), and the
   requests answered.
3. **Checks**: no request failed; the accesses stored equal the requests answered (200
   and 403, every phase); the ledger verifies; RSS flat (the last minute within
   ``RSS_GROWTH`` of the first); p99 stable (the median p99 of the second half of the
   minutes within ``P99_DRIFT`` times that of the first half).

The load generator speaks HTTP/1.1 on raw keep-alive connections, as
``bench_broker.py`` does (httpx costs about as much per request as the server); it is
kept here rather than shared so each benchmark reads on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.serving import serve
from vigile.broker import LocalTokens
from vigile.ledger import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.verify_store import verify_ledger
from vigile.model import Agent, Contact, Customer, Record, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

pytestmark = pytest.mark.bench

SECONDS = float(os.environ.get("VIGILE_SOAK_SECONDS", "600"))
SATURATION = float(os.environ.get("VIGILE_SOAK_SATURATION", "0"))  # 0: measured
PROBE_SECONDS = 20
IN_FLIGHT = 64
AGENTS, CUSTOMERS = 50, 2_000
MINUTE = 60.0
RSS_GROWTH = 0.10
P99_DRIFT = 2.0
TIMEOUT = 30.0


def _world() -> list[Record]:
    """Agents, and customers with a contact and an open ticket each, assigned to agent
    ``n % AGENTS``."""
    opened = datetime.now(UTC) - timedelta(hours=1)
    records: list[Record] = [Agent(id=f"a-{n}", tier=2, team="t") for n in range(AGENTS)]
    for n in range(CUSTOMERS):
        ticket = f"T-{n}"
        records += [
            Customer(id=f"c-{n}", name=f"Customer {n}", tier="smb"),
            Contact(id=f"k-{n}", customer=f"c-{n}", email=f"x{n}@c{n}.example"),
            TicketEvent(
                id=f"{ticket}/o",
                time=opened,
                ticket=ticket,
                event=TicketStep.OPENED,
                customer=f"c-{n}",
            ),
            TicketEvent(
                id=f"{ticket}/a",
                time=opened,
                ticket=ticket,
                event=TicketStep.ASSIGNED,
                agent=f"a-{n % AGENTS}",
            ),
        ]
    return records


def _request(n: int, headers: list[bytes]) -> bytes:
    """Request ``n``: customer ``n % CUSTOMERS`` under its ticket, by its assignee, but
    one in eleven by the next agent (denied: the ticket is not theirs; eleven shares no
    factor with the numbers of agents and customers, so every agent asks both ways)."""
    customer = n % CUSTOMERS
    agent = (customer + (1 if n % 11 == 10 else 0)) % AGENTS
    target = (
        f"/v1/customers/c-{customer}/contacts?ticket=T-{customer}&reason=customer_initiated_support"
    )
    return f"GET {target} HTTP/1.1\r\n".encode() + headers[agent] + b"\r\n"


class _Connection:
    """One keep-alive HTTP/1.1 connection, spoken directly."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


@dataclass
class _Run:
    """What a load saw: per request, when it was due (seconds from the start), its
    latency from then, and its status (0: failed)."""

    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0
    due: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for s in self.status if s in (200, 403))

    @property
    def failed(self) -> int:
        return sum(1 for s in self.status if s not in (200, 403))


async def _open_loop(
    port: int, headers: list[bytes], rate: float, seconds: float, first: int
) -> _Run:
    """Request ``first + k`` is due at ``k / rate`` s and sent then, or as soon as one of
    the ``IN_FLIGHT`` connections is free."""
    free: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(IN_FLIGHT):
        free.put_nowait(await _Connection.open(port))
    run = _Run()

    async def one(k: int, due: float) -> None:
        connection = await free.get()
        try:
            status = await asyncio.wait_for(connection.send(_request(first + k, headers)), TIMEOUT)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
            status = 0
            connection.writer.close()
            connection = await _Connection.open(port)
        free.put_nowait(connection)
        run.due.append(due - run.started)
        run.latency.append(time.perf_counter() - due)
        run.status.append(status)

    tasks = []
    for k in range(int(rate * seconds)):
        due = run.started + k / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(k, due)))
    await asyncio.gather(*tasks)
    run.elapsed = time.perf_counter() - run.started
    while not free.empty():
        free.get_nowait().writer.close()
    return run


async def _closed_loop(port: int, headers: list[bytes], seconds: float) -> _Run:
    """``IN_FLIGHT`` clients, each sending its next request when the last is answered,
    for ``seconds``: the server's saturation at that concurrency."""
    run = _Run()
    numbers = itertools.count()

    async def client() -> None:
        connection = await _Connection.open(port)
        while (sent := time.perf_counter()) < run.started + seconds:
            try:
                request = _request(next(numbers), headers)
                status = await asyncio.wait_for(connection.send(request), TIMEOUT)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
                status = 0
                connection.writer.close()
                connection = await _Connection.open(port)
            run.due.append(sent - run.started)
            run.latency.append(time.perf_counter() - sent)
            run.status.append(status)
        connection.writer.close()

    await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    run.elapsed = time.perf_counter() - run.started
    return run


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _soak(
    port: int, headers: list[bytes], rate: float, pid: int, first: int
) -> tuple[_Run, list[float]]:
    """The soak's load, and the server's highest RSS (MiB) in each minute."""
    minutes = max(1, round(SECONDS / MINUTE))
    peaks = [0.0] * minutes
    load = asyncio.create_task(_open_loop(port, headers, rate, SECONDS, first))
    started = time.perf_counter()
    while not load.done():
        minute = min(int((time.perf_counter() - started) // MINUTE), minutes - 1)
        peaks[minute] = max(peaks[minute], _rss_mib(pid))
        await asyncio.sleep(1.0)
    return await load, peaks


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] if ordered else float("nan")


def _per_minute(run: _Run, minutes: int) -> list[tuple[int, float, float]]:
    """Per minute of due times: requests, p50, p99 (seconds; a failure counts as
    infinitely slow)."""
    buckets: list[list[float]] = [[] for _ in range(minutes)]
    for due, latency, status in zip(run.due, run.latency, run.status, strict=True):
        slow = latency if status in (200, 403) else float("inf")
        buckets[min(int(due // MINUTE), minutes - 1)].append(slow)
    return [(len(b), _percentile(b, 0.50), _percentile(b, 0.99)) for b in buckets]


def _settings(folder: Path) -> Settings:
    return Settings(
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "ledger.key"),
        broker_token_key=str(folder / "broker.key"),
    )


#: Fifty agents reach every customer many times over: no velocity limit in the way.
_UNLIMITED = {
    "VIGILE_BROKER_CUSTOMERS_PER_HOUR": "1000000000",
    "VIGILE_BROKER_REVEALS_PER_HOUR": "1000000000",
}


def _headers(settings: Settings) -> list[bytes]:
    tokens = LocalTokens(settings)
    now = datetime.now(UTC)
    return [
        f"Host: 127.0.0.1\r\nAuthorization: Bearer "
        f"{tokens.issue(f'a-{n}', roles=frozenset({'agent'}), mfa='totp', now=now)}\r\n".encode()
        for n in range(AGENTS)
    ]


def test_soak(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with Store.open(settings, create=True) as store:
        Recorder(store).record(_world())
    headers = _headers(settings)
    with serve(settings, tmp_path / "serve.log", _UNLIMITED) as server:
        probe = None
        saturation = SATURATION
        if not saturation:
            probe = asyncio.run(_closed_loop(server.port, headers, PROBE_SECONDS))
            saturation = probe.answered / probe.elapsed
        rate = saturation / 2
        print(
            f"\nsoak: saturation {saturation:,.0f} requests/s"
            f"{' (measured)' if probe else ' (given)'}; soaking at {rate:,.0f}/s for "
            f"{SECONDS:.0f} s, at most {IN_FLIGHT} in flight",
            flush=True,
        )
        first = len(probe.status) if probe else 0
        run, peaks = asyncio.run(_soak(server.port, headers, rate, server.process.pid, first))
    minutes = _per_minute(run, len(peaks))
    for number, ((count, p50, p99), rss) in enumerate(zip(minutes, peaks, strict=True)):
        span = MINUTE if number < len(minutes) - 1 else SECONDS - number * MINUTE
        print(
            f"  minute {number + 1:2d}: RSS {rss:6.1f} MiB, {count:6,} requests "
            f"({count / span:5.1f}/s), p50 {p50 * 1e3:6.1f} ms, p99 {p99 * 1e3:7.1f} ms"
        )
    answered = run.answered + (probe.answered if probe else 0)
    failed = run.failed + (probe.failed if probe else 0)
    with Store.open(settings) as store, connect(store.engine) as conn:
        accesses = conn.execute(select(func.count()).select_from(t.accesses)).scalar_one()
        started = time.perf_counter()
        report = verify_ledger(conn, load_verifier(public_key_path(settings)))
        verified = time.perf_counter() - started
    print(
        f"  answered {answered:,} (200 or 403), failed {failed:,}; accesses stored "
        f"{accesses:,}; ledger verified: {report.ok} ({report.entries:,} entries, "
        f"{verified:.0f} s)"
    )

    half = len(minutes) // 2
    first_p99 = statistics.median(p99 for _, _, p99 in minutes[: max(half, 1)])
    last_p99 = statistics.median(p99 for _, _, p99 in minutes[half:])
    print(
        f"  RSS {peaks[0]:.1f} -> {peaks[-1]:.1f} MiB ({peaks[-1] / peaks[0] - 1:+.1%}); "
        f"median p99 first half {first_p99 * 1e3:.1f} ms, second half {last_p99 * 1e3:.1f} ms"
    )
    assert failed == 0
    assert accesses == answered
    assert report.ok, report.problem
    assert peaks[-1] <= peaks[0] * (1 + RSS_GROWTH), "RSS not flat"
    assert last_p99 <= first_p99 * P99_DRIFT, "p99 drifts up"
