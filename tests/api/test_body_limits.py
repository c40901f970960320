"""Request bodies are bounded per route, while they stream, before anything reads them.

Before, the NUL filter read every body whole, on every path, before routing and
authentication: one unauthenticated ``POST /health`` of 300 MB took the server from
338 MB to 1.2 GB, and a body that never finished held its request open for ever. The
ticket feed parsed its body before checking its credential. These tests call the app
directly (raw ASGI: they see exactly what was pulled from the client); ``test_serving``
runs a real ``vigile serve``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.api.conftest import INTEGRATION
from vigile.api import create_app
from vigile.api.limits import RouteLimits, body_limits
from vigile.broker import LocalTokens
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx, which works unchanged.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

SUPPORT = "customer_initiated_support"
KIB = 1024


def _app(store: Store, settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings, store=store)
    yield app
    app.state.broker.close()


@pytest.fixture
def app(directory_store: Store, limited: Settings) -> Iterator[FastAPI]:
    yield from _app(directory_store, limited)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _agent(settings: Settings) -> dict[str, str]:
    token = LocalTokens(settings).issue(
        "a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )
    return {"Authorization": f"Bearer {token}"}


def _recorded(store: Store) -> tuple[int, int]:
    """Sign-ins and accesses recorded so far."""
    with connect(store.engine) as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.signins, t.accesses)
        )


def _padded(document: Any, size: int) -> bytes:
    """``document`` as JSON of exactly ``size`` bytes (spaces after it: still valid)."""
    text = json.dumps(document).encode()
    return text + b" " * (size - len(text))


@dataclasses.dataclass
class Exchange:
    """What a raw ASGI call answered, and how much of the body the app pulled."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    pulled: int  # body messages the app asked for


def _call(
    app: FastAPI,
    path: str,
    chunks: list[bytes],
    *,
    headers: dict[str, str] | None = None,
    stall: bool = False,
) -> Exchange:
    """``POST path`` sending ``chunks`` as the body's messages (then, with ``stall``,
    nothing more, never finishing). Without a ``Content-Length`` the body streams, as a
    chunked one does."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled == len(chunks):
            if stall or not chunks:
                await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        pulled += 1
        more = stall or pulled < len(chunks)
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answered = {k.decode(): v.decode() for k, v in start["headers"]}
    return Exchange(start["status"], answered, json.loads(body), pulled)


def _refused(exchange: Exchange, status: int) -> str:
    """The one error shape, the request id, and the connection closed after it."""
    assert exchange.status == status, exchange.body
    error = exchange.body["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert exchange.headers["x-request-id"] == error["request_id"]
    assert exchange.headers["connection"] == "close"
    return str(error["message"])


def test_a_body_announced_too_large_is_refused_before_a_byte_is_read(app: FastAPI) -> None:
    # 300 MB announced: before, the NUL filter read it all before /health said 405.
    announced = {"Content-Length": str(300_000_000), "Content-Type": "application/json"}
    exchange = _call(app, "/health", [b"x" * KIB] * 4, headers=announced)
    message = _refused(exchange, 413)
    assert exchange.body["error"]["code"] == "content_too_large"
    assert "1,048,576 bytes" in message
    assert exchange.pulled == 0


def test_a_streamed_body_is_refused_as_soon_as_it_passes_its_routes_limit(
    app: FastAPI,
) -> None:
    # No Content-Length (chunked): counted as it arrives. Sign-in takes 16 KiB.
    spaces = [b" " * KIB] * 64
    exchange = _call(app, "/v1/signin-check", spaces, headers={"Content-Type": "application/json"})
    assert "16,384 bytes" in _refused(exchange, 413)
    assert exchange.pulled == 17  # the first kibibyte past the limit, and no more


def test_each_route_has_its_limit(client: TestClient) -> None:
    ok = _padded({"username": "someone"}, 16 * KIB)
    json_type = {"Content-Type": "application/json"}
    assert client.post("/v1/signin-check", content=ok, headers=json_type).status_code == 200
    refused = client.post("/v1/signin-check", content=ok + b" ", headers=json_type)
    assert refused.status_code == 413, refused.text
    login = client.post("/console/login", content=b"username=x&" + b"a" * 16 * KIB)
    assert login.status_code == 413
    # The ticket feed takes more than the default (1 MiB): 10,000 records.
    record = {"kind": "ticket", "time": "2026-11-29T07:00:00Z", "ticket": "T-9"}
    big = _padded([record | {"event": "opened", "customer": "c-1"}], 3 * 1024 * KIB)
    fed = client.post(
        "/v1/integrations/tickets",
        content=big,
        headers={"Authorization": f"Bearer {INTEGRATION}", "Content-Type": "application/json"},
    )
    assert fed.json() == {"accepted": 1, "duplicates": []}


def test_a_refused_request_for_data_records_nothing(
    client: TestClient, directory_store: Store, limited: Settings
) -> None:
    # Before: the reveal (extra fields are ignored) was read, answered and recorded.
    reveal = {"object": "k-1", "field": "contact.email", "ticket": "T-lim", "reason": SUPPORT}
    before = _recorded(directory_store)
    refused = client.post(
        "/v1/customers/c-1/reveal",
        content=_padded(reveal | {"pad": "x"}, 2 * 1024 * KIB),
        headers={**_agent(limited), "Content-Type": "application/json"},
    )
    assert refused.status_code == 413, refused.text
    assert _recorded(directory_store) == before


def test_the_limits_and_the_deadline_are_settings(
    directory_store: Store, limited: Settings
) -> None:
    tight = dataclasses.replace(
        limited, serve_body_bytes=1_000, serve_signin_body_bytes=100, serve_body_seconds=0.2
    )
    assert body_limits(tight).of("/v1/signin-check") == 100
    for app in _app(directory_store, tight):
        with TestClient(app) as test_client:
            refused = test_client.post("/v1/signin-check", json={"username": "u" * 100})
            assert refused.status_code == 413
            assert "(100 bytes)" in refused.json()["error"]["message"]
        # A body that stops arriving: 408 at the deadline (before: waited for ever).
        began = time.monotonic()
        exchange = _call(app, "/v1/signin-check", [b'{"user'], stall=True)
        assert "did not arrive in time" in _refused(exchange, 408)
        assert exchange.body["error"]["code"] == "request_timeout"
        assert time.monotonic() - began < 5


def test_the_ticket_feed_checks_its_credential_before_reading_its_body(app: FastAPI) -> None:
    # Before, FastAPI parsed the body (up to its limit) before the credential was checked.
    announced = {"Content-Length": "1024", "Content-Type": "application/json"}
    exchange = _call(app, "/v1/integrations/tickets", [b" " * KIB], headers=announced)
    assert exchange.status == 401
    assert exchange.pulled == 0


def test_the_ticket_feed_refuses_its_own_way_past_its_limit(
    directory_store: Store, limited: Settings
) -> None:
    # Its body is read by the route, after the credential: the refusal goes through the
    # app's handlers, and is the same answer.
    tight = dataclasses.replace(limited, serve_tickets_body_bytes=4 * KIB)
    credential = {"Authorization": f"Bearer {INTEGRATION}", "Content-Type": "application/json"}
    for app in _app(directory_store, tight):
        exchange = _call(app, "/v1/integrations/tickets", [b" " * KIB] * 8, headers=credential)
        assert "(4,096 bytes)" in _refused(exchange, 413)
        assert exchange.pulled == 5


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\xff\xfe[", "body.0: JSON decode error"),
        (b"[" * 100_000 + b"]" * 100_000, "body.0: JSON decode error"),
        (b'{"kind": "ticket"}', "body: Input should be a valid list"),
        (b"[1]", "body.0: Input should be a valid dictionary"),
    ],
    ids=["not-utf-8", "nested-too-deep", "an-object", "not-objects"],
)
def test_the_ticket_feed_refuses_a_body_that_is_no_list_of_records(
    client: TestClient, body: bytes, why: str
) -> None:
    credential = {"Authorization": f"Bearer {INTEGRATION}", "Content-Type": "application/json"}
    refused = client.post("/v1/integrations/tickets", content=body, headers=credential)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"].startswith(why)


def test_the_nul_filter_reads_a_body_in_chunks_within_the_limit(app: FastAPI) -> None:
    chunks = [b'{"username": "a\\u', b"0000", b'"}']
    exchange = _call(app, "/v1/signin-check", chunks, headers={"Content-Type": "application/json"})
    assert exchange.status == 422
    assert exchange.body["error"]["message"] == "body: a NUL character is not allowed"
    assert exchange.pulled == 3


def test_route_limits_match_by_prefix_the_longest_first() -> None:
    limits = RouteLimits(default=10, by_prefix={"/a": 1, "/a/b": 2, "/c/": 3})
    assert [limits.of(path) for path in ("/a", "/a/x", "/a/b/y", "/ab", "/c/d", "/c")] == [
        1,
        1,
        2,
        10,
        3,
        10,
    ]
