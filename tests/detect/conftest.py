"""Small simulations stored once per test session: detection reads them, never writes
events, so every test can share them (alerts go to per-test copies when written)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigile.ingest import ingest_file
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

# 40 agents over 31 days: every scenario fits (nobelium's second half of May included),
# and a baseline shows each kind of honest noise (travel, overtime, reviews, denials).
SMALL = {"days": 31, "agents": 40, "seed": 5}


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A simulation ingested into an SQLite store."""

    db: Path
    log: Path
    truth: dict[str, Any]

    def settings(self, folder: Path) -> Settings:
        """Settings of a private copy of the store in ``folder`` (tests may write alerts)."""
        copy = folder / "vigile.db"
        if not copy.exists():
            shutil.copy(self.db, copy)
        return Settings(db=str(copy), ledger_key=str(folder / "ledger.key"))


def _make(folder: Path, scenario: str) -> Stored:
    result = simulate(SimulationConfig(scenario=scenario, **SMALL), folder, workers=1)
    settings = Settings(db=str(folder / "vigile.db"), ledger_key=str(folder / "ledger.key"))
    with Store.open(settings, create=True) as store:
        ingest_file(store, result.path, parallel=False)
    return Stored(
        db=folder / "vigile.db", log=result.path, truth=orjson.loads(result.truth_path.read_bytes())
    )


@pytest.fixture(scope="session")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Stored]:
    """The small stored simulation of a scenario, made on first use."""
    made: dict[str, Stored] = {}

    def get(scenario: str) -> Stored:
        if scenario not in made:
            made[scenario] = _make(tmp_path_factory.mktemp(f"detect-{scenario}"), scenario)
        return made[scenario]

    return get
