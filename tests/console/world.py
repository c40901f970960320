"""A small support organisation for the console's tests, dated around the real clock
(the console runs on it), with one console account per role."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vigile.console import totp
from vigile.console.accounts import ConsoleAccounts
from vigile.model import Account, Agent, Contact, Customer, Subscription, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.store import Store

PASSWORD = "correct horse battery"
BOB_EMAIL, BOB_PHONE = "bob.billing@shop.example", "+33 1 23 45 67 89"
ANN_EMAIL = "ann@ministry.example"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    secret: str | None
    used: list[int] = field(default_factory=list)  # steps already spent (no replay)

    def code(self) -> str:
        """A code the console accepts now: the current step's, or the next one's (one step
        of drift is allowed) when this one was used; waits only when both were."""
        if not self.secret:
            return ""
        while True:
            step = int(time.time()) // totp.STEP_S
            for candidate in (step, step + 1):
                if not self.used or candidate > self.used[-1]:
                    self.used.append(candidate)
                    at = datetime.fromtimestamp(candidate * totp.STEP_S, UTC)
                    return totp.totp(self.secret, at)
            time.sleep(1)


def _step(ticket: str, event: TicketStep, at: datetime, **more: str) -> TicketEvent:
    return TicketEvent(
        id=f"{ticket}/{event}/{at.isoformat()}", time=at, ticket=ticket, event=event, **more
    )  # type: ignore[arg-type]


def directory(now: datetime) -> list[Any]:
    start = now - timedelta(hours=2)
    return [
        Agent(id="a-1", tier=2, team="emea"),
        Agent(id="a-2", tier=1, team="emea"),
        Agent(id="sup-1", tier=3, team="leads"),
        Customer(id="c-1", name="Example Shop", tier="smb", country="FR"),
        Customer(id="c-2", name="Second Shop", tier="smb", country="DE"),
        Customer(id="c-gov", name="Ministry of Examples", tier="government", country="US"),
        Contact(
            id="k-1", customer="c-1", role="billing", name="Bob", email=BOB_EMAIL, phone=BOB_PHONE
        ),
        Contact(
            id="k-gov",
            customer="c-gov",
            role="billing",
            name="Ann",
            email=ANN_EMAIL,
            phone="+1 202 555 0100",
        ),
        Account(
            id="u-1",
            customer="c-1",
            username="shop-admin",
            email="admin@shop.example",
            status="active",
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
        _step("T-1", TicketStep.OPENED, start, customer="c-1", category="billing"),
        _step("T-1", TicketStep.ASSIGNED, start + timedelta(minutes=5), agent="a-1"),
        _step("T-gov", TicketStep.OPENED, start, customer="c-gov", category="billing"),
        _step("T-gov", TicketStep.ASSIGNED, start + timedelta(minutes=5), agent="a-1"),
    ]


def populate(store: Store, now: datetime | None = None) -> dict[str, Login]:
    """The organisation, and console accounts: ``agent`` (a-1), ``supervisor``
    (sup-1), ``analyst``, ``customer`` (c-1) and ``approver`` (c-gov, lockbox)."""
    Recorder(store).record(directory(now or datetime.now(UTC)))
    accounts = ConsoleAccounts(store)
    logins = {}
    for name, role, subject in (
        ("agent", "agent", "a-1"),
        ("supervisor", "supervisor", "sup-1"),
        ("analyst", "analyst", "sam"),
        ("customer", "customer", "c-1"),
        ("approver", "customer", "c-gov"),
    ):
        account = accounts.add(name, role=role, subject=subject, password=PASSWORD)
        logins[name] = Login(name, PASSWORD, account.totp_secret)
    return logins
