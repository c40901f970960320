"""A small support organisation with AI agents, in a fresh store, on the real clock (the
stdio server runs in a process of its own); tokens of the broker's local issuer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.broker.conftest import accesses, audits
from vigile.broker import Broker, LocalTokens
from vigile.mcp import TOOLS, ToolPins
from vigile.model import Account, Agent, Contact, Customer, Subscription, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["ANN_EMAIL", "BOB_EMAIL", "NOW", "accesses", "audits", "token"]

NOW = datetime.now(UTC)
BOB_EMAIL = "bob.billing@shop.example"


def _steps(ticket: str, customer: str, agent: str) -> list[TicketEvent]:
    opened, assigned = NOW - timedelta(hours=1), NOW - timedelta(minutes=50)
    return [
        TicketEvent(
            id=f"{ticket}/o", time=opened, ticket=ticket, event=TicketStep.OPENED, customer=customer
        ),
        TicketEvent(
            id=f"{ticket}/a", time=assigned, ticket=ticket, event=TicketStep.ASSIGNED, agent=agent
        ),
    ]


AI = {"ai": {"model": "example-model-1", "supervisor": "sup-1"}}
ANN_EMAIL = "ann@ministry.example"
DIRECTORY: list[Any] = [
    Agent(id="ai-1", team="emea", extra=AI),
    Agent(id="ai-2", team="emea", extra=AI),
    Agent(id="a-1", tier=2, team="emea"),
    Agent(id="sup-1", tier=3, team="leads"),
    Customer(id="c-1", name="Example Shop", tier="smb", country="FR"),
    Customer(id="c-2", name="Second Shop", tier="smb"),
    Customer(id="c-gov", name="Ministry of Examples", tier="government"),
    Contact(id="k-1", customer="c-1", role="billing", name="Bob", email=BOB_EMAIL, phone="+33 1"),
    Contact(id="k-2", customer="c-2", role="billing", name="Eve", email="eve@second.example"),
    Contact(id="k-gov", customer="c-gov", role="billing", name="Ann", email=ANN_EMAIL, phone="+1"),
    Account(id="u-1", customer="c-1", username="shop-admin", email="admin@shop.example"),
    Subscription(
        id="s-1", customer="c-1", service="storage", plan="pro", seats=5, monthly_amount=120.0
    ),
    *_steps("T-1", "c-1", "ai-1"),
    *_steps("T-2", "c-2", "a-1"),
    *_steps("T-gov", "c-gov", "ai-1"),
]


@pytest.fixture
def mcp_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, broker_token_key=str(tmp_path / "broker.key"))


@pytest.fixture
def directory_store(store: Store) -> Store:
    Recorder(store).record(DIRECTORY)
    return store


@pytest.fixture
def broker(directory_store: Store, mcp_settings: Settings) -> Iterator[Broker]:
    """The broker, with the tools' definitions approved (pinned) as they are."""
    opened = Broker(directory_store, mcp_settings)
    ToolPins(opened).approve(TOOLS.values(), actor="sup-1")
    yield opened
    opened.close()


def token(settings: Settings, agent: str, *roles: str) -> str:
    """A local token of ``agent`` (a second factor: the agent runtime's own sign-in)."""
    return LocalTokens(settings).issue(
        agent, roles=frozenset(roles or ("agent",)), mfa="totp", now=datetime.now(UTC)
    )
