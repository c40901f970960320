"""Fixtures of the serving tests: a store with the broker tests' small organisation, and
its settings (an integration credential included)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.broker.conftest import DIRECTORY
from vigile.model import TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

INTEGRATION = "vgit_limits-credential"


@pytest.fixture
def limited(tmp_path: Path) -> Settings:
    return Settings(
        db=str(tmp_path / "vigile.db"),
        ledger_key=str(tmp_path / "ledger.key"),
        broker_token_key=str(tmp_path / "broker.key"),
        broker_integration_token=hashlib.sha256(INTEGRATION.encode()).hexdigest(),
    )


@pytest.fixture
def directory_store(limited: Settings) -> Iterator[Store]:
    now = datetime.now(UTC)
    steps = [
        TicketEvent(
            id="T-lim/o",
            time=now - timedelta(hours=1),
            ticket="T-lim",
            event=TicketStep.OPENED,
            customer="c-1",
        ),
        TicketEvent(
            id="T-lim/a",
            time=now - timedelta(minutes=50),
            ticket="T-lim",
            event=TicketStep.ASSIGNED,
            agent="a-1",
        ),
    ]
    with Store.open(limited, create=True) as opened:
        Recorder(opened).record([*DIRECTORY, *steps])
        yield opened
