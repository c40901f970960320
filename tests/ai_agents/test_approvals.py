"""AI agents are held to stricter defaults than people, through the MCP tools: no payment
field in clear, and a government customer's contacts only with the supervising human's
approval of that exact call: bound to the agent, the tool, the arguments' digest and the
policy version, honoured once, never for another call."""

from __future__ import annotations

import json
import warnings
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from tests.ai_agents.conftest import ANN_EMAIL, accesses, audits, token
from vigile.api import create_app
from vigile.broker import Broker, Forbidden, Principal
from vigile.broker import operations as ops
from vigile.mcp import TOOLS, SupportServer, ToolPins
from vigile.mcp.tools import SUPERVISED_TIERS
from vigile.policy import PolicyEngine
from vigile.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

SUPERVISED = "ai-agent-sensitive-contacts-need-supervisor-approval"
EMAIL = {"customer": "c-gov", "object": "k-gov", "field": "contact.email", "ticket": "T-gov"}
SUPERVISOR = Principal(
    agent="sup-1", session="s-sup", roles=frozenset({"supervisor"}), mfa="totp", ip="10.0.0.1"
)


def _call(server: SupportServer, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async def go() -> CallToolResult:
        async with Client(server.server) as client:
            return await client.call_tool(tool, arguments)

    try:
        return anyio.run(go)
    except MCPError as error:  # pragma: no cover - a failure's message
        raise AssertionError(error.message) from error


@pytest.fixture
def server(broker: Broker, mcp_settings: Settings) -> SupportServer:
    return SupportServer(broker, token=token(mcp_settings, "ai-1"))


def _pending(result: CallToolResult) -> str:
    assert result.is_error
    error = result.structured_content["error"]
    assert SUPERVISED in error["policies"]
    assert error["approval"]["status"] == "pending"
    assert error["approval"]["supervisor"] == "sup-1"
    assert ANN_EMAIL not in json.dumps(result.model_dump())
    return str(error["approval"]["id"])


def test_a_payment_field_is_never_revealed_to_an_ai_agent(server: SupportServer) -> None:
    arguments = {"customer": "c-1", "object": "s-1", "field": "subscription.monthly_amount"}
    result = _call(server, "reveal_field", {**arguments, "ticket": "T-1"})
    assert result.is_error
    assert "ai-agent-no-payment-fields" in result.structured_content["error"]["policies"]
    assert "120" not in json.dumps(result.structured_content)


def test_the_supervisors_approval_opens_that_exact_call_once(
    server: SupportServer, broker: Broker
) -> None:
    approval = _pending(_call(server, "reveal_field", EMAIL))
    # asked again before the decision: the same approval, not a second one
    assert _pending(_call(server, "reveal_field", EMAIL)) == approval
    assert [a.id for a in ops.approvals_for(broker, SUPERVISOR)] == [approval]
    ops.decide_call(broker, SUPERVISOR, approval, approve=True)

    # another call (the phone, not the email) is not approved by it
    phone = _call(server, "reveal_field", {**EMAIL, "field": "contact.phone"})
    assert _pending(phone) != approval
    # the exact call (in another conversation: the same call) is
    allowed = _call(server, "reveal_field", {**EMAIL, "conversation": "cv-2"})
    assert not allowed.is_error
    assert allowed.structured_content["value"] == ANN_EMAIL
    # and only once: replayed, it is denied and asks again
    assert _pending(_call(server, "reveal_field", EMAIL)) != approval

    steps = [event["action"] for event in audits(broker.store) if event["subject"] == approval]
    assert steps == ["approval.requested", "approval.approved", "approval.used"]
    outcomes = [row["outcome"] for row in accesses(broker.store)]
    assert outcomes == ["denied", "denied", "denied", "allowed", "denied"]


def test_an_approval_is_not_honoured_for_another_agent(
    broker: Broker, mcp_settings: Settings, server: SupportServer
) -> None:
    approval = _pending(_call(server, "reveal_field", EMAIL))
    ops.decide_call(broker, SUPERVISOR, approval, approve=True)
    other = SupportServer(broker, token=token(mcp_settings, "ai-2"))
    result = _call(other, "reveal_field", EMAIL)
    assert result.is_error  # ai-2's own call: its ticket is not even assigned to it
    assert broker.approvals.get(approval).status.value == "approved"  # still unused


def test_an_approval_given_under_other_policies_is_not_honoured(
    server: SupportServer, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval = _pending(_call(server, "reveal_field", EMAIL))
    ops.decide_call(broker, SUPERVISOR, approval, approve=True)
    monkeypatch.setattr(type(broker.policy), "version", property(lambda _: "changed"))
    assert _pending(_call(server, "reveal_field", EMAIL)) != approval


def test_only_the_agents_own_supervisor_decides(server: SupportServer, broker: Broker) -> None:
    approval = _pending(_call(server, "reveal_field", EMAIL))
    stranger = Principal(
        agent="a-1", session="s-a1", roles=frozenset({"supervisor"}), mfa="totp", ip="10.0.0.2"
    )
    with pytest.raises(Forbidden, match="sup-1"):
        ops.decide_call(broker, stranger, approval, approve=True)
    denied = ops.decide_call(broker, SUPERVISOR, approval, approve=False)
    assert denied.status.value == "denied"
    assert _pending(_call(server, "reveal_field", EMAIL)) != approval


def test_an_ai_agent_has_lower_velocity_limits_than_a_person(
    server: SupportServer, broker: Broker
) -> None:
    limit = broker.settings.broker_ai_reveals_per_hour
    assert limit < broker.settings.broker_reveals_per_hour
    arguments = {"customer": "c-1", "object": "k-1", "field": "contact.email", "ticket": "T-1"}
    for _ in range(limit):
        assert not _call(server, "reveal_field", arguments).is_error
    over = _call(server, "reveal_field", arguments)
    assert over.is_error
    assert "velocity-limit" in over.structured_content["error"]["policies"]
    (breach,) = audits(broker.store, "velocity.breach")
    assert breach["details"]["per_hour"] == limit


def test_the_supervised_tiers_are_those_the_default_policy_names() -> None:
    policy = next(p.text for p in PolicyEngine.load().policies if p.name == SUPERVISED)
    named = {tier for tier in ("government", "enterprise", "smb") if f'"{tier}"' in policy}
    assert named == SUPERVISED_TIERS


def test_the_supervisor_approves_over_the_http_api(
    directory_store: Any, mcp_settings: Settings
) -> None:
    app = create_app(mcp_settings, store=directory_store)
    with TestClient(app) as http:
        broker: Broker = app.state.broker
        ToolPins(broker).approve(TOOLS.values(), actor="sup-1")
        server = SupportServer(broker, token=token(mcp_settings, "ai-1"))
        approval = _pending(_call(server, "reveal_field", EMAIL))
        supervisor = {"Authorization": f"Bearer {token(mcp_settings, 'sup-1', 'supervisor')}"}
        stranger = {"Authorization": f"Bearer {token(mcp_settings, 'a-1', 'supervisor')}"}
        listed = http.get("/v1/approvals", headers=supervisor)
        assert [a["id"] for a in listed.json()] == [approval]
        assert listed.json()[0]["tool"] == "reveal_field"
        assert http.get("/v1/approvals", headers=stranger).json() == []
        refused = http.post(f"/v1/approvals/{approval}/approve", headers=stranger)
        assert refused.status_code == 403
        approved = http.post(f"/v1/approvals/{approval}/approve", headers=supervisor)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        again = http.post(f"/v1/approvals/{approval}/approve", headers=supervisor)
        assert again.status_code == 409
        assert _call(server, "reveal_field", EMAIL).structured_content["value"] == ANN_EMAIL
    app.state.broker.close()
