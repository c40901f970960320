"""``vigile serve`` as deployed: a real uvicorn in a subprocess, on loopback, driven over
sockets. What only a real server shows: its memory under a huge body, a body that
trickles in, the bound on connections, and whose ``X-Forwarded-For`` it believes.

Before: a 300 MB body to ``/health`` took the server from 338 MB to 1.2 GB; fifty
bodies that never finished stayed open indefinitely; connections were unbounded; and
uvicorn believed ``X-Forwarded-For`` from any local process (127.0.0.1), which recorded
``203.0.113.77`` as a sign-in's address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from vigile.broker import LocalTokens
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


class Served:
    """A ``vigile serve`` subprocess on a free loopback port."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def peak_rss(self) -> int:
        """The process's peak resident memory so far (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc")

    def connection(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(settings: Settings, **extra: str) -> Iterator[Served]:
    """``vigile serve`` over the settings' store, with ``VIGILE_*`` overrides."""
    env = {
        **os.environ,
        "VIGILE_DB": settings.db,
        "VIGILE_LEDGER_KEY": settings.ledger_key,
        "VIGILE_BROKER_TOKEN_KEY": settings.broker_token_key,
        **{f"VIGILE_{name.upper()}": value for name, value in extra.items()},
    }
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vigile", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    served = Served(process, port)
    try:
        _wait_until_up(served)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            errors = served.process.stderr.read() if served.process.stderr else b""
            pytest.fail(f"vigile serve stopped: {errors.decode(errors='replace')}")
        try:
            if httpx.get(f"{served.url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("vigile serve did not answer within a minute")


def _answer(conn: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (or ``timeout`` passes)."""
    conn.settimeout(timeout)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def _stream(conn: socket.socket, total: int) -> None:
    """``total`` bytes of body in chunked encoding, until sent or the server hangs up."""
    chunk = b" " * (64 * 1024)
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    try:
        for _ in range(total // len(chunk)):
            conn.sendall(framed)
        conn.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_a_huge_body_leaves_the_servers_memory_alone(
    limited: Settings, directory_store: Store
) -> None:
    with serving(limited) as served:
        baseline = served.peak_rss()
        # Streamed (chunked, no length): 300 MB offered, refused past 1 MiB.
        with served.connection() as conn:
            conn.sendall(
                b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            _stream(conn, 300 * MIB)
            assert _answer(conn, timeout=30).startswith(b"HTTP/1.1 413 ")
        grown = served.peak_rss() - baseline
        print(f"peak RSS {baseline / MIB:.0f} MiB, then +{grown / MIB:.1f} MiB")
        assert grown < 32 * MIB
        # Announced: refused at once, the body never read.
        with served.connection() as conn:
            conn.sendall(
                b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 314572800\r\n\r\n"
            )
            assert _answer(conn, timeout=10).startswith(b"HTTP/1.1 413 ")
        assert httpx.get(f"{served.url}/health").status_code == 200


def test_a_body_that_trickles_in_is_refused_at_the_deadline(
    limited: Settings,
    directory_store: Store,
) -> None:
    with serving(limited, serve_body_seconds="2") as served, served.connection() as conn:
        began = time.monotonic()
        conn.sendall(
            b"POST /v1/signin-check HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        conn.settimeout(0.5)
        answer = b""
        while not answer and time.monotonic() - began < 8:  # a byte a second
            conn.sendall(b" ")
            try:
                answer = conn.recv(65536)
            except TimeoutError:
                time.sleep(0.5)
        answer += _answer(conn, timeout=5)  # and then the server hangs up
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b'"code":"request_timeout"' in answer
        assert time.monotonic() - began < 5


def test_connections_beyond_the_bound_are_answered_503(
    limited: Settings,
    directory_store: Store,
) -> None:
    with serving(limited, serve_max_connections="3") as served:
        held = [served.connection() for _ in range(3)]
        try:
            time.sleep(0.5)  # accepted by the server
            with httpx.Client() as client:
                assert client.get(f"{served.url}/health").status_code == 503
            for conn in held:
                conn.close()
            time.sleep(0.5)
            assert httpx.get(f"{served.url}/health").status_code == 200
        finally:
            for conn in held:
                conn.close()


def _signed_in_from(served: Served, store: Store, settings: Settings, agent: str) -> str:
    token = LocalTokens(settings).issue(
        agent, roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )
    answer = httpx.get(
        f"{served.url}/v1/customers",
        params={"q": "Example"},
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.77"},
    )
    assert answer.status_code == 200, answer.text
    with connect(store.engine) as conn:
        ips = conn.execute(select(t.signins.c.ip).where(t.signins.c.agent == agent)).scalars()
        accessed = conn.execute(
            select(t.accesses.c.ip).where(t.accesses.c.agent == agent)
        ).scalars()
        (ip,) = set(ips) | set(accessed)
    return str(ip)


def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    limited: Settings,
    directory_store: Store,
) -> None:
    with serving(limited) as served:
        assert _signed_in_from(served, directory_store, limited, "a-1") == "127.0.0.1"
    with serving(limited, serve_trusted_proxies="127.0.0.1") as served:
        assert _signed_in_from(served, directory_store, limited, "a-2") == "203.0.113.77"
