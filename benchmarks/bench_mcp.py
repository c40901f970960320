"""Benchmark of ``vigile mcp``: a tool call's overhead against the same request over the
HTTP API, in the same run.

``vigile serve`` and ``vigile mcp --transport http`` run as subprocesses on one store;
one client (``httpx``, one connection each, sequential requests) alternates blocks of
``POST /v1/customers/{id}/reveal`` and the ``reveal_field`` tool call (JSON-RPC
``tools/call`` over streamable HTTP, JSON responses, the session opened once), each the
broker's same request: the same decision, the same access event and ledger entry. The
figure is the ratio of the serving processes' CPU time per request (read from
``/proc``, median of the blocks; goal: at most 1.2 times), which the machine's other load
does not inflate as it does latencies; median latencies are printed beside it, and the
SDK's own client is measured too (its client-side cost included).

Run with ``pytest -m bench benchmarks/bench_mcp.py -s``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.mail.inbox import free_port
from tests.serving import serve, serve_environment
from vigile.broker import LocalTokens
from vigile.model import Agent, Contact, Customer, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

pytestmark = pytest.mark.bench

ROUNDS = int(os.environ.get("VIGILE_BENCH_MCP_ROUNDS", "6"))
BLOCK = 100  # requests of one kind in a row
NOW = datetime.now(UTC)
REVEAL = {"object": "k-1", "field": "contact.email", "ticket": "T-1"}
SUPPORT = "customer_initiated_support"
#: No velocity limit in the way: the same request, thousands of times.
LIMITS = {
    "VIGILE_BROKER_REVEALS_PER_HOUR": str(10**9),
    "VIGILE_BROKER_AI_REVEALS_PER_HOUR": str(10**9),
}


def _world() -> list[object]:
    opened = NOW - timedelta(hours=1)
    return [
        Agent(id="ai-1", team="emea", extra={"kind": "ai", "model": "m", "supervisor": "sup"}),
        Customer(id="c-1", name="Example Shop", tier="smb"),
        Contact(id="k-1", customer="c-1", email="bob@shop.example", phone="+1 202 555 0100"),
        TicketEvent(id="T-1/o", time=opened, ticket="T-1", event=TicketStep.OPENED, customer="c-1"),
        TicketEvent(id="T-1/a", time=opened, ticket="T-1", event=TicketStep.ASSIGNED, agent="ai-1"),
    ]


@contextmanager
def _mcp_server(settings: Settings, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    env = serve_environment(settings, LIMITS)
    approve = [sys.executable, "-m", "vigile", "mcp", "--approve-tools", "--by", "bench"]
    subprocess.run(approve, env=env, check=True, capture_output=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vigile", "mcp", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(call: Callable[[], None], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def _block(call: Callable[[], None], pid: int, cpu: list[float], count: int) -> list[float]:
    """``count`` calls; the serving process's CPU seconds per call appended to ``cpu``."""
    before = _cpu(pid)
    times = _timed(call, count)
    cpu.append((_cpu(pid) - before) / count)
    return times


def _mcp_session(http: httpx.Client, url: str) -> dict[str, str]:
    """Open a streamable-HTTP session (initialize, initialized); its headers."""
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
    opened = http.post(url, json=init)
    assert opened.status_code == 200, opened.text
    session = {
        "mcp-session-id": opened.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert http.post(url, json=done, headers=session).status_code == 202
    return session


def test_tool_call_overhead_against_the_http_api(tmp_path: Path) -> None:
    settings = Settings(
        db=str(tmp_path / "vigile.db"),
        ledger_key=str(tmp_path / "ledger.key"),
        broker_token_key=str(tmp_path / "broker.key"),
    )
    with Store.open(settings, create=True) as store:
        Recorder(store).record(_world())
    token = LocalTokens(settings).issue("ai-1", roles=frozenset({"agent"}), mfa="totp", now=NOW)
    auth = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
    }
    with (
        serve(settings, tmp_path / "serve.log", LIMITS) as api,
        _mcp_server(settings, tmp_path / "mcp.log") as (url, mcp_pid),
        httpx.Client(headers=auth, timeout=30) as http,
    ):
        session = _mcp_session(http, url)
        reveal_url = f"{api.url}/v1/customers/c-1/reveal"
        body = {**REVEAL, "reason": SUPPORT}
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "reveal_field", "arguments": {"customer": "c-1", **REVEAL}},
        }

        def over_api() -> None:
            answer = http.post(reveal_url, json=body)
            assert answer.status_code == 200, answer.text

        def over_mcp() -> None:
            answer = http.post(url, json=call, headers=session)
            assert answer.status_code == 200, answer.text
            assert '"isError":false' in answer.text.replace(" ", ""), answer.text

        _timed(over_api, 50)  # warm both up
        _timed(over_mcp, 50)
        api_times: list[float] = []
        mcp_times: list[float] = []
        api_cpu: list[float] = []
        mcp_cpu: list[float] = []
        for _ in range(ROUNDS):
            api_times += _block(over_api, api.process.pid, api_cpu, BLOCK)
            mcp_times += _block(over_mcp, mcp_pid, mcp_cpu, BLOCK)
        sdk = _sdk_client_median(url, token)

    api_median, mcp_median = statistics.median(api_times), statistics.median(mcp_times)
    api_cpu_each, mcp_cpu_each = statistics.median(api_cpu), statistics.median(mcp_cpu)
    ratio = mcp_cpu_each / api_cpu_each
    print(
        f"\nreveal over the HTTP API: median {api_median * 1e3:.2f} ms, "
        f"p90 {statistics.quantiles(api_times, n=10)[-1] * 1e3:.2f} ms ({len(api_times)} calls)"
        f"\nreveal_field over MCP (JSON-RPC over streamable HTTP): median "
        f"{mcp_median * 1e3:.2f} ms, p90 {statistics.quantiles(mcp_times, n=10)[-1] * 1e3:.2f} ms"
        f"\nlatency ratio MCP / HTTP API (medians): {mcp_median / api_median:.2f}x"
        f"\nserver CPU per request: HTTP API {api_cpu_each * 1e3:.2f} ms, MCP "
        f"{mcp_cpu_each * 1e3:.2f} ms: ratio {ratio:.2f}x (median of {ROUNDS} blocks)"
        f"\nreveal_field with the SDK's own client: median {sdk * 1e3:.2f} ms "
        f"({sdk / api_median:.2f}x the HTTP API)"
    )
    assert ratio <= 1.2, f"a tool call costs {ratio:.2f}x the server CPU of the HTTP API's"


def _sdk_client_median(url: str, token: str) -> float:
    async def go() -> float:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            times = []
            for _ in range(BLOCK):
                start = time.perf_counter()
                result = await client.call_tool("reveal_field", {"customer": "c-1", **REVEAL})
                times.append(time.perf_counter() - start)
                assert not result.is_error
            return statistics.median(times)

    return anyio.run(go)
