"""The support tools driven by the SDK's own client, in process: every call is the
broker's request (decided, masked, recorded with the tool and the conversation), and
bad input is a clear MCP error, recorded as a denied request, nothing revealed."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult

from tests.ai_agents.conftest import BOB_EMAIL, accesses, audits, token
from vigile.broker import Broker
from vigile.mcp import MAX_ARGUMENT_BYTES, TOOLS, UNAUTHENTICATED, SupportServer
from vigile.settings import Settings
from vigile.transparency import Transparency
from vigile.transparency.export import entry_json

SUPPORT = "customer_initiated_support"


def _answer(
    server: SupportServer, tool: str, arguments: dict[str, Any]
) -> CallToolResult | MCPError:
    async def go() -> CallToolResult | MCPError:
        async with Client(server.server) as client:
            try:
                return await client.call_tool(tool, arguments)
            except MCPError as error:
                return error

    return anyio.run(go)


def _call(server: SupportServer, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    answer = _answer(server, tool, arguments)
    assert isinstance(answer, CallToolResult), answer
    return answer


def _error(server: SupportServer, tool: str, arguments: dict[str, Any]) -> MCPError:
    answer = _answer(server, tool, arguments)
    assert isinstance(answer, MCPError), answer
    return answer


@pytest.fixture
def server(broker: Broker, mcp_settings: Settings) -> SupportServer:
    return SupportServer(broker, agent="ai-1", token=token(mcp_settings, "ai-1"))


def test_the_tools_listed_are_the_catalogue_with_strict_schemas(server: SupportServer) -> None:
    async def go() -> list[Any]:
        async with Client(server.server) as client:
            return (await client.list_tools()).tools

    listed = anyio.run(go)
    assert [tool.name for tool in listed] == list(TOOLS)
    for tool in listed:
        assert tool.input_schema["additionalProperties"] is False
        assert tool.description
    reveal = next(tool for tool in listed if tool.name == "reveal_field")
    assert "break_glass" not in json.dumps(reveal.input_schema)  # no break-glass for AI
    assert set(reveal.input_schema["required"]) >= {"customer", "object", "field", "ticket"}


def test_my_tickets_lists_the_open_tickets_assigned_to_the_agent(server: SupportServer) -> None:
    result = _call(server, "my_tickets", {})
    assert not result.is_error
    assert [t["id"] for t in result.structured_content["tickets"]] == ["T-1", "T-gov"]
    assert result.structured_content["tickets"][0]["customer"] == "c-1"


def test_the_customer_page_is_masked_and_each_read_recorded_with_the_conversation(
    server: SupportServer, broker: Broker
) -> None:
    page = _call(
        server,
        "customer_page",
        {"customer": "c-1", "ticket": "T-1", "conversation": "cv-9", "on_behalf_of": "queue-eu"},
    )
    assert not page.is_error
    body = page.structured_content
    assert body["customer"]["name"] == "Example Shop"
    assert BOB_EMAIL not in json.dumps(body)  # masked
    assert body["contacts"][0]["id"] == "k-1"
    recorded = accesses(broker.store)
    assert [row["action"] for row in recorded] == [
        "customer.view",
        "contact.view",
        "account.view",
        "subscription.view",
    ]
    for row in recorded:
        assert row["agent"] == "ai-1"
        assert row["outcome"] == "allowed"
        assert row["ticket"] == "T-1"
        via = json.loads(row["extra"])["via"]
        assert via == {
            "channel": "mcp",
            "tool": "customer_page",
            "conversation": "cv-9",
            "on_behalf_of": "queue-eu",
        }


def test_reveal_with_the_conversations_ticket_gives_the_field_recorded(
    server: SupportServer, broker: Broker
) -> None:
    arguments = {"customer": "c-1", "object": "k-1", "field": "contact.email", "ticket": "T-1"}
    result = _call(server, "reveal_field", arguments)
    assert not result.is_error
    assert result.structured_content["value"] == BOB_EMAIL
    (row,) = accesses(broker.store)
    assert (row["action"], row["outcome"], row["object"]) == ("contact.reveal", "allowed", "k-1")


def test_a_ticket_of_another_customer_is_a_tool_error_recorded_as_denied(
    server: SupportServer, broker: Broker
) -> None:
    arguments = {"customer": "c-2", "object": "k-2", "field": "contact.email", "ticket": "T-1"}
    result = _call(server, "reveal_field", arguments)
    assert result.is_error
    error = result.structured_content["error"]
    assert error["status"] == 403
    assert "denied" in error["message"]
    assert "eve@second.example" not in json.dumps(result.model_dump())
    (row,) = accesses(broker.store)
    assert (row["outcome"], row["customer"], row["agent"]) == ("denied", "c-2", "ai-1")


def test_search_names_only_and_grant_request_pending(server: SupportServer) -> None:
    found = _call(server, "search_customers", {"query": "shop"})
    assert {hit["id"] for hit in found.structured_content["customers"]} == {"c-1", "c-2"}
    assert set(found.structured_content["customers"][0]) == {"id", "name"}
    grant = _call(
        server,
        "request_grant",
        {"customer": "c-2", "classes": ["contact"], "duration_seconds": 3600, "reason": SUPPORT},
    )
    assert not grant.is_error
    assert grant.structured_content["status"] == "pending"


_K1 = {"customer": "c-1", "object": "k-1"}
BAD_INPUT = [
    pytest.param("reveal_field", {**_K1, "field": "contact.email"}, id="missing-ticket"),
    pytest.param(
        "reveal_field", {**_K1, "field": "contact.password", "ticket": "T-1"}, id="unknown-field"
    ),
    pytest.param(
        "reveal_field",
        {**_K1, "field": "contact.email", "ticket": "T-1", "reason": "break_glass"},
        id="break-glass",
    ),
    pytest.param(
        "customer_page", {"customer": "c-1", "ticket": "T-1", "sneaky": True}, id="extra-argument"
    ),
    pytest.param("customer_page", {"customer": ["c-1"], "ticket": "T-1"}, id="wrong-type"),
    pytest.param("customer_page", {"customer": "c-1", "ticket": "T" * 201}, id="too-long"),
]


@pytest.mark.parametrize(("tool", "arguments"), BAD_INPUT)
def test_malformed_arguments_are_invalid_params_recorded_as_denied(
    server: SupportServer, broker: Broker, tool: str, arguments: dict[str, Any]
) -> None:
    error = _error(server, tool, arguments)
    assert error.code == INVALID_PARAMS
    assert error.message.startswith("invalid arguments: ")
    (row,) = accesses(broker.store)
    assert row["outcome"] == "denied"
    assert row["agent"] == "ai-1"
    assert row["deny_reason"].startswith("invalid arguments: ")
    assert json.loads(row["extra"])["via"]["tool"] == tool


def test_oversized_arguments_are_refused_unparsed_and_recorded(
    server: SupportServer, broker: Broker
) -> None:
    arguments = {"customer": "c-1", "ticket": "T-1", "conversation": "x" * MAX_ARGUMENT_BYTES}
    error = _error(server, "customer_page", arguments)
    assert error.code == INVALID_PARAMS
    assert "larger than" in error.message
    (row,) = accesses(broker.store)
    assert (row["outcome"], row["customer"]) == ("denied", "c-1")


def test_an_unknown_tool_is_invalid_params_recorded_as_an_audit_event(
    server: SupportServer, broker: Broker
) -> None:
    error = _error(server, "export_everything", {"customer": "c-1"})
    assert error.code == INVALID_PARAMS
    assert "unknown tool" in error.message
    assert accesses(broker.store) == []
    (event,) = audits(broker.store, "mcp.call.refused")
    assert event["actor"] == "ai-1"
    assert event["details"]["tool"] == "?"


def test_a_token_of_another_agent_is_refused_and_recorded(
    broker: Broker, mcp_settings: Settings
) -> None:
    server = SupportServer(broker, agent="ai-1", token=token(mcp_settings, "ai-2"))
    error = _error(server, "customer_page", {"customer": "c-1", "ticket": "T-1"})
    assert error.code == UNAUTHENTICATED
    assert "ai-2" in error.message
    (row,) = accesses(broker.store)
    assert (row["agent"], row["outcome"]) == ("ai-2", "denied")


def test_an_invalid_token_runs_no_tool(broker: Broker) -> None:
    server = SupportServer(broker, agent="ai-1", token="not-a-token")
    error = _error(server, "customer_page", {"customer": "c-1", "ticket": "T-1"})
    assert error.code == UNAUTHENTICATED
    assert accesses(broker.store) == []


def test_a_suspended_agent_is_stopped_at_the_next_call(
    server: SupportServer, broker: Broker
) -> None:
    assert not _call(server, "my_tickets", {}).is_error
    broker.suspend("ai-1", "prompt injection suspected")
    error = _error(server, "customer_page", {"customer": "c-1", "ticket": "T-1"})
    assert error.code == UNAUTHENTICATED
    assert "revoked" in error.message


def test_the_customer_sees_an_ai_agent_of_its_team_in_its_access_log_with_the_proof(
    server: SupportServer, broker: Broker
) -> None:
    _call(server, "customer_page", {"customer": "c-1", "ticket": "T-1", "conversation": "cv-1"})
    broker.committer.close()  # everything queued is recorded (the ledger included)
    listing = Transparency(broker.store).accesses("c-1")
    assert len(listing.entries) == 4
    for entry in listing.entries:
        assert entry.agent == "ai-1"
        assert entry.agent_kind == "AI agent of team emea"
        assert entry.proof.bundle is not None  # proven against the signed checkpoint
    assert entry_json(listing.entries[0])["agent"]["kind"] == "AI agent of team emea"
