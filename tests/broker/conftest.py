"""A small support organisation in a fresh store, a broker over it with a clock the
tests move, and helpers to read back what was recorded."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from vigile.broker import Broker, Notice, Notifier, Principal
from vigile.model import Account, Agent, Contact, Customer, Subscription, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ANN_EMAIL, ANN_PHONE = "ann@ministry.example", "+1 202 555 0100"
BOB_EMAIL = "bob.billing@shop.example"


class Clock:
    """A clock the tests move."""

    def __init__(self) -> None:
        self.now = START + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Captured:
    """A notification channel that keeps what it is sent."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)


def _step(ticket: str, event: TicketStep, at: datetime, **more: str) -> TicketEvent:
    return TicketEvent(
        id=f"{ticket}/{event}/{at.isoformat()}", time=at, ticket=ticket, event=event, **more
    )  # type: ignore[arg-type]


DIRECTORY: list[Any] = [
    Agent(id="a-1", tier=2, team="emea"),
    Agent(id="a-2", tier=1, team="emea"),
    Agent(id="a-3", tier=2, team="vip"),
    Agent(id="sup-1", tier=3, team="leads"),
    Customer(id="c-1", name="Example Shop", tier="smb", country="FR"),
    Customer(id="c-2", name="Second Shop", tier="smb"),
    Customer(id="c-3", name="Third Shop", tier="smb"),
    Customer(id="c-gov", name="Ministry of Examples", tier="government", country="US"),
    Contact(
        id="k-1",
        customer="c-1",
        role="billing",
        name="Bob",
        email=BOB_EMAIL,
        phone="+33 1 23 45 67 89",
    ),
    Contact(
        id="k-gov", customer="c-gov", role="billing", name="Ann", email=ANN_EMAIL, phone=ANN_PHONE
    ),
    Account(
        id="u-1", customer="c-1", username="shop-admin", email="admin@shop.example", status="active"
    ),
    Subscription(
        id="s-1",
        customer="c-1",
        service="storage",
        plan="pro",
        seats=5,
        monthly_amount=120.0,
        currency="EUR",
    ),
    _step("T-1", TicketStep.OPENED, START, customer="c-1"),
    _step("T-1", TicketStep.ASSIGNED, START + timedelta(minutes=5), agent="a-1"),
    _step("T-1", TicketStep.CLOSED, START + timedelta(hours=3)),
    _step("T-gov", TicketStep.OPENED, START, customer="c-gov"),
    _step("T-gov", TicketStep.ASSIGNED, START + timedelta(minutes=5), agent="a-2"),
    _step("T-2", TicketStep.OPENED, START, customer="c-2"),
    _step("T-2", TicketStep.ASSIGNED, START + timedelta(minutes=5), agent="a-1"),
    _step("T-3", TicketStep.OPENED, START, customer="c-3"),
    _step("T-3", TicketStep.ASSIGNED, START + timedelta(minutes=5), agent="a-1"),
]


@pytest.fixture
def broker_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, broker_token_key=str(tmp_path / "broker.key"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def broker(
    store: Store, broker_settings: Settings, clock: Clock, captured: Captured
) -> Iterator[Broker]:
    Recorder(store).record(DIRECTORY)
    opened = Broker(store, broker_settings, clock=clock, notifier=Notifier([captured]))
    yield opened
    opened.close()


def principal(agent: str, *roles: str, mfa: str | None = "totp") -> Principal:
    return Principal(
        agent=agent,
        session=f"s-{agent}",
        roles=frozenset(roles or ("agent",)),
        mfa=mfa,
        ip="198.51.100.7",
    )


def accesses(store: Store) -> list[dict[str, Any]]:
    with connect(store.engine) as conn:
        rows = conn.execute(select(t.accesses).order_by(t.accesses.c.seq)).mappings().all()
    return [dict(row) for row in rows]


def audits(store: Store, action: str | None = None) -> list[dict[str, Any]]:
    query = select(t.audit_events).order_by(t.audit_events.c.seq)
    if action:
        query = query.where(t.audit_events.c.action == action)
    with connect(store.engine) as conn:
        rows = conn.execute(query).mappings().all()
    return [dict(row) | {"details": json.loads(row["details"])} for row in rows]


def ledger_size(store: Store) -> int:
    with connect(store.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(t.ledger_entries)).scalar_one())
