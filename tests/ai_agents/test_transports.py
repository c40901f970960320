"""The server over its two transports, driven by the SDK's own client: streamable HTTP
(a bearer token per request, checked by the SDK's auth middleware through the broker)
and stdio (``vigile mcp`` in a process of its own, its token given at start)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from sqlalchemy import select

from tests.ai_agents.conftest import BOB_EMAIL, accesses, token
from vigile.broker import Broker
from vigile.mcp import TOOLS, SupportServer
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_url(broker: Broker) -> Iterator[str]:
    """``vigile mcp --transport http``'s app under uvicorn, in a thread."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    app = SupportServer(broker).http_app(url=url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(10)


async def _session(client: Client) -> dict[str, Any]:
    listed = await client.list_tools()
    page = await client.call_tool("customer_page", {"customer": "c-1", "ticket": "T-1"})
    reveal = await client.call_tool(
        "reveal_field",
        {"customer": "c-1", "object": "k-1", "field": "contact.email", "ticket": "T-1"},
    )
    return {"tools": [tool.name for tool in listed.tools], "page": page, "reveal": reveal}


def _check(answers: dict[str, Any], store: Store) -> None:
    assert "reveal_field" in answers["tools"]
    page: CallToolResult = answers["page"]
    assert not page.is_error
    assert BOB_EMAIL not in json.dumps(page.structured_content)
    assert answers["reveal"].structured_content["value"] == BOB_EMAIL
    recorded = accesses(store)
    assert [row["action"] for row in recorded][-1] == "contact.reveal"
    assert {row["agent"] for row in recorded} == {"ai-1"}
    assert {json.loads(row["extra"])["via"]["channel"] for row in recorded} == {"mcp"}


def test_streamable_http_with_the_agents_bearer_token(
    http_url: str, broker: Broker, mcp_settings: Settings
) -> None:
    headers = {"Authorization": f"Bearer {token(mcp_settings, 'ai-1')}"}

    async def go() -> dict[str, Any]:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(http_url, http_client=http)) as client,
        ):
            return await _session(client)

    _check(anyio.run(go), broker.store)
    (signin,) = [row for row in _signins(broker.store) if row["agent"] == "ai-1"]
    assert signin["ip"] == "127.0.0.1"


@pytest.mark.parametrize("credential", [None, "Bearer not-a-token", "Basic YWk6MQ=="])
def test_streamable_http_without_a_valid_token_is_401(
    http_url: str, broker: Broker, credential: str | None
) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    if credential:
        headers["Authorization"] = credential
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    answer = httpx.post(http_url, json=body, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "resource_metadata=" in answer.headers["www-authenticate"]
    assert accesses(broker.store) == []


def test_streamable_http_publishes_its_protected_resource_metadata(http_url: str) -> None:
    base = http_url.removesuffix("/mcp")
    metadata = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert metadata["resource"] == http_url
    assert metadata["authorization_servers"]


def test_stdio_with_the_token_given_at_start(
    directory_store: Store, mcp_settings: Settings, tmp_path: Path
) -> None:
    issued = token(mcp_settings, "ai-1")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "VIGILE_DB": mcp_settings.db,
        "VIGILE_LEDGER_KEY": mcp_settings.ledger_key,
        "VIGILE_BROKER_TOKEN_KEY": mcp_settings.broker_token_key,
        "VIGILE_MCP_TOKEN": issued,
    }
    approved = subprocess.run(
        [sys.executable, "-m", "vigile", "mcp", "--approve-tools", "--by", "sup-1"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert approved.stdout.count("approved now") == len(TOOLS)
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "vigile", "mcp", "--agent", "ai-1"], env=env
    )

    async def go() -> dict[str, Any]:
        async with Client(parameters) as client:
            return await _session(client)

    _check(anyio.run(go), directory_store)


def _signins(store: Store) -> list[dict[str, Any]]:
    with connect(store.engine) as conn:
        return [dict(row) for row in conn.execute(select(t.signins)).mappings()]
