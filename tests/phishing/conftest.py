"""Shared fixtures: the hand-written incident's watch list, and a guard over it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigile.ingest import ingest_file
from vigile.phishing import Guard, ProviderDomains, WatchList, build_watchlist
from vigile.respond import Incidents, Scope
from vigile.settings import Settings
from vigile.store import Store

DATA = Path(__file__).parent / "data" / "incident.jsonl"
PROVIDER = ("vigile.example",)


@pytest.fixture(scope="session")
def watchlist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WatchList]:
    """The watch list of tests/phishing/data/incident.jsonl (SQLite: the list itself is
    tested on both engines in test_watchlist.py)."""
    folder = tmp_path_factory.mktemp("watchlist")
    settings = Settings(db=str(folder / "v.db"), ledger_key=str(folder / "ledger.key"))
    with Store.open(settings, create=True) as store:
        ingest_file(store, DATA)
        incidents = Incidents(store, clock=lambda: datetime(2021, 6, 1, tzinfo=UTC))
        scope = Scope(
            agents=("a-0017",),
            since=datetime(2021, 5, 20, tzinfo=UTC),
            until=datetime(2021, 5, 31, tzinfo=UTC),
        )
        incident = incidents.open(title="Takeover", scope=scope, actor="ana")
        yield build_watchlist(incidents, [incident.id])


@pytest.fixture(scope="session")
def guard(watchlist: WatchList) -> Guard:
    return Guard(provider=ProviderDomains.of(PROVIDER), names=("Vigile",), watchlist=watchlist)
