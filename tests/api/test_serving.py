"""``vigile serve`` as deployed: a real uvicorn in a subprocess, on loopback, driven over
sockets. What only a real server shows: its memory under a huge body, a body that
trickles in, the bound on connections, and whose ``X-Forwarded-For`` it believes.

Before: a 300 MB body to ``/health`` took the server from 338 MB to 1.2 GB; fifty
bodies that never finished stayed open indefinitely; connections were unbounded; and
uvicorn believed ``X-Forwarded-For`` from any local process (127.0.0.1), which recorded
``203.0.113.77`` as a sign-in's address.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.serving import Server, serve
from vigile.broker import LocalTokens
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


@contextmanager
def serving(settings: Settings, **extra: str) -> Iterator[Server]:
    """``vigile serve`` over the settings' store, with ``VIGILE_*`` overrides by setting
    name; its log beside the store's key."""
    env = {f"VIGILE_{name.upper()}": value for name, value in extra.items()}
    with serve(settings, Path(settings.ledger_key).parent / "serve.log", env) as server:
        yield server


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


def _signed_in_from(served: Server, store: Store, settings: Settings, agent: str) -> str:
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
