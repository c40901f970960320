"""Measure detection on the shapes organisation (``shapes.py``) over several seeds: honest
agents at high per shape, each attack's severity, and minutes from the attacker's first
event to high in streaming (as ``vigile eval`` replays, in steps of 2,000 events).

``python3 -m tests.detect.heldout.measure --seed 21 --seed 22`` prints a table and, with
``--json FILE``, writes the figures. Slow (a minute or two a seed): a tool for tuning and
for docs/detection.md, not a test; ``test_shapes.py`` asserts the targets batch-wise.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.detect.heldout.shapes import ATTACKS, SHAPES, build
from vigile.detect.evaluate import EvalConfig, replay
from vigile.detect.risk import RiskPolicy
from vigile.ingest import ingest_file
from vigile.settings import Settings
from vigile.store import Store


@dataclass(frozen=True, kw_only=True, slots=True)
class SeedResult:
    """One seed: peak risk per agent, agents at high, minutes to high per attack."""

    seed: int
    truth: dict[str, Any]
    peak: dict[str, float]
    high: frozenset[str]
    minutes: dict[str, float]


def run_seed(seed: int, folder: Path) -> SeedResult:
    world, truth = build(seed)
    log = world.log.write(folder / "shapes.jsonl")
    settings = Settings(db=str(folder / "vigile.db"), ledger_key=str(folder / "ledger.key"))
    store = Store.open(settings, create=True)
    try:
        ingest_file(store, log, parallel=False)
        plain = truth.as_json()
        attacks = [
            {"agent": agent, "window": {"start": plain["starts"][name]}}
            for name, agent in plain["attacks"].items()
        ]
        peak, high, minutes = replay(store, {"attacks": attacks}, EvalConfig())
    finally:
        store.close()
    return SeedResult(seed=seed, truth=plain, peak=peak, high=frozenset(high), minutes=minutes)


def severity(score: float) -> str:
    level = RiskPolicy().severity(score)
    return level.value if level is not None else "none"


def table(results: list[SeedResult]) -> dict[str, Any]:
    """Per shape: honest agents, at high, share; per attack: severity and minutes."""
    shapes: dict[str, dict[str, Any]] = {}
    for shape in SHAPES:
        agents = [(r, a) for r in results for a in r.truth["shapes"].get(shape, [])]
        flagged = [f"{a}@{r.seed}" for r, a in agents if a in r.high]
        shapes[shape] = {
            "agents": len(agents), "high": len(flagged), "flagged": flagged,
            "max_score": round(max((r.peak.get(a, 0.0) for r, a in agents), default=0.0), 1),
        }  # fmt: skip
    honest = len(
        {f"{a}@{r.seed}" for r in results for ids in r.truth["shapes"].values() for a in ids}
    )
    flagged_all = {x for s in shapes.values() for x in s["flagged"]}
    attacks = {
        name: [
            {
                "seed": r.seed,
                "severity": severity(r.peak.get(r.truth["attacks"][name], 0.0)),
                "score": round(r.peak.get(r.truth["attacks"][name], 0.0), 1),
                "minutes_to_high": round(r.minutes[r.truth["attacks"][name]], 1)
                if r.truth["attacks"][name] in r.minutes else None,
            }
            for r in results
        ]
        for name in ATTACKS
    }  # fmt: skip
    return {
        "seeds": [r.seed for r in results],
        "honest_agents": honest,
        "honest_high": len(flagged_all),
        "honest_high_pct": round(100 * len(flagged_all) / honest, 2) if honest else 0.0,
        "shapes": shapes,
        "attacks": attacks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for seed in args.seed:
        with tempfile.TemporaryDirectory(prefix=f"shapes-{seed}-") as folder:
            results.append(run_seed(seed, Path(folder)))
            print(f"seed {seed} done", flush=True)
    figures = table(results)
    for shape, row in figures["shapes"].items():
        print(f"{shape:12} {row['high']:3}/{row['agents']:<4} max {row['max_score']:6} "
              f"{' '.join(row['flagged'])}")  # fmt: skip
    print(f"honest at high: {figures['honest_high']}/{figures['honest_agents']} "
          f"({figures['honest_high_pct']}%)")  # fmt: skip
    for name, rows in figures["attacks"].items():
        print(f"{name:20} " + "  ".join(
            f"{x['seed']}:{x['severity']}({x['score']}, {x['minutes_to_high']} min)" for x in rows
        ))  # fmt: skip
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
