"""Small simulations read back as plain JSON, for the simulator's tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vigile.simulate import SimulationConfig, SimulationResult, simulate

SMALL = {"seed": 11, "days": 30, "agents": 20}


@dataclass(frozen=True, kw_only=True)
class Simulated:
    """A finished simulation: its result, records (header first) and truth."""

    config: SimulationConfig
    result: SimulationResult
    records: list[dict[str, Any]]
    truth: dict[str, Any]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]


def read_records(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as lines:
        return [orjson.loads(line) for line in lines]


def run(out: Path, **overrides: Any) -> Simulated:
    config = SimulationConfig(**{"scenario": "baseline", **SMALL, **overrides})
    result = simulate(config, out, workers=1)
    return Simulated(
        config=config,
        result=result,
        records=read_records(result.path),
        truth=orjson.loads(result.truth_path.read_bytes()),
    )
