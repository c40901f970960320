"""Evaluation: the simulator's scenarios over several seeds, replayed through streaming
detection, scored against each simulation's truth.

Per scenario: compromised agents caught (high or critical), false-alarm agents (honest
agents at high or above) per 1,000 agent-weeks, minutes from the attacker's first event to
the first high alert (the end of the window in which the risk crossed, so an upper
bound), and recall at a 1% false-alarm rate (the threshold that flags at most 1% of the
honest agents, pooled over the seeds).

With ``vendors`` (``vigile eval --as okta,zendesk,salesforce``), each simulation is also
written as those vendors' logs and the directory file (:mod:`vigile.simulate.vendors`),
imported and ingested into a store of its own through the sources' adapters, and replayed
the same way: the figures of the native log and of the vendors' logs of the same seeds,
side by side, say what the vendors' logs lose for detection.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from vigile.detect.risk import Severity
from vigile.detect.service import DetectionConfig
from vigile.detect.source import read_directory
from vigile.detect.stream import StreamingDetector
from vigile.ingest import ingest_file
from vigile.model.times import parse_rfc3339, to_micros
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, SimulationResult, simulate
from vigile.simulate.vendors import write_vendor_logs
from vigile.sources import import_directory, source_named
from vigile.store import Store

__all__ = ["EvalConfig", "Run", "ScenarioResult", "evaluate", "summarise"]


@dataclass(frozen=True, kw_only=True, slots=True)
class EvalConfig:
    """Which simulations to run and how to replay them."""

    scenarios: tuple[str, ...] = (
        "baseline", "nobelium", "bribed_insider", "session_hijack", "search_sweep",
    )  # fmt: skip
    seeds: tuple[int, ...] = (1, 2, 3)
    agents: int = 40
    days: int = 31
    batch_events: int = 2_000
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    vendors: tuple[str, ...] = ()  # also replay the vendors' logs of each simulation
    ai_agents: int = 0  # AI agents in each simulation (a scenario may need more)


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One simulation replayed: peak risk per agent, who reached high, and when."""

    scenario: str
    seed: int
    agents: int
    days: int
    compromised: frozenset[str]
    agent_ids: tuple[str, ...]
    peak: dict[str, float]
    high: frozenset[str]
    minutes_to_high: dict[str, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class ScenarioResult:
    """The figures of one scenario over its seeds, from the native log or (``log``
    naming them) the vendors' logs."""

    scenario: str
    log: str = "native"
    runs: int
    compromised: int
    caught: int
    false_alarm_agents: int
    agent_weeks: float
    false_alarms_per_1000_agent_weeks: float
    minutes_to_high: tuple[float, ...]
    recall_at_1pct: float | None

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--format json``."""
        return {
            "scenario": self.scenario,
            "log": self.log,
            "runs": self.runs,
            "compromised": self.compromised,
            "caught": self.caught,
            "false_alarm_agents": self.false_alarm_agents,
            "agent_weeks": round(self.agent_weeks, 1),
            "false_alarms_per_1000_agent_weeks": round(self.false_alarms_per_1000_agent_weeks, 2),
            "minutes_to_high": [round(m, 1) for m in self.minutes_to_high],
            "median_minutes_to_high": round(statistics.median(self.minutes_to_high), 1)
            if self.minutes_to_high else None,
            "recall_at_1pct_false_alarms": self.recall_at_1pct,
        }  # fmt: skip


def _simulate(folder: Path, scenario: str, seed: int, config: EvalConfig) -> SimulationResult:
    sim = SimulationConfig(scenario=scenario, seed=seed, agents=config.agents, days=config.days,
                           ai_agents=config.ai_agents)  # fmt: skip
    return simulate(sim, folder, workers=1)


def _store(folder: Path, name: str) -> Store:
    settings = Settings(db=str(folder / f"{name}.db"), ledger_key=str(folder / "ledger.key"))
    return Store.open(settings, create=True)


def _load(store: Store, result: SimulationResult, vendors: tuple[str, ...]) -> None:
    """Ingest the native log, or (``vendors``) the directory file and the vendors' logs
    as ``vigile directory import`` and ``vigile ingest --from`` do."""
    if not vendors:
        ingest_file(store, result.path, parallel=False)
        return
    files = write_vendor_logs(result.path, result.path.parent, vendors)
    import_directory(store, files.directory)
    for vendor, path in files.files:  # day by day, as logs pulled daily come in
        ingest_file(store, path, parallel=False, source=source_named(vendor))


def replay(
    store: Store, truth: dict[str, Any], config: EvalConfig
) -> tuple[dict[str, float], set[str], dict[str, float]]:
    """Stream every event; peak risk per agent, agents at high, minutes to high."""
    starts = {
        a["agent"]: to_micros(parse_rfc3339(a["window"]["start"]))
        for a in truth["attacks"] if a["window"]["start"]
    }  # fmt: skip
    detector = StreamingDetector(
        store.engine, config.detection, batch_events=config.batch_events, record=False
    )
    peak: dict[str, float] = {}
    minutes: dict[str, float] = {}
    try:
        for step in detector.run():
            for alert in step.alerts:
                peak[alert.agent] = max(peak.get(alert.agent, 0.0), alert.score)
                if alert.severity.rank >= Severity.HIGH.rank and alert.agent not in minutes:
                    crossed = detector.crossing(alert.agent, Severity.HIGH) or step.latest_us
                    start = starts.get(alert.agent, crossed)
                    minutes[alert.agent] = (crossed - start) / 60e6
    finally:
        detector.close()
    return peak, set(minutes), minutes


def run_one(
    folder: Path,
    scenario: str,
    seed: int,
    config: EvalConfig,
    *,
    vendors: tuple[str, ...] = (),
    simulated: SimulationResult | None = None,
) -> Run:
    """Simulate (unless ``simulated`` is given), store and replay one scenario and seed:
    its native log, or ``vendors``' logs of it."""
    result = simulated or _simulate(folder, scenario, seed, config)
    truth = orjson.loads(result.truth_path.read_bytes())
    store = _store(folder, "-".join(vendors) or "vigile")
    try:
        _load(store, result, vendors)
        agent_ids = tuple(read_directory(store.engine)[0].column("agent").to_pylist())
        peak, high, minutes = replay(store, truth, config)
    finally:
        store.close()
    compromised = frozenset(truth["compromised_agents"])
    return Run(
        scenario=scenario, seed=seed, agents=len(agent_ids), days=config.days,
        compromised=compromised, agent_ids=agent_ids, peak=peak, high=frozenset(high),
        minutes_to_high={a: m for a, m in minutes.items() if a in compromised},
    )  # fmt: skip


def _recall_at(runs: list[Run], rate: float) -> float | None:
    honest = [r.peak.get(a, 0.0) for r in runs for a in r.agent_ids if a not in r.compromised]
    bad = [r.peak.get(a, 0.0) for r in runs for a in r.compromised]
    if not bad or not honest:
        return None
    threshold = float(np.quantile(np.array(honest), 1 - rate))
    return sum(score > threshold for score in bad) / len(bad)


def summarise(scenario: str, runs: list[Run], *, log: str = "native") -> ScenarioResult:
    """The figures of a scenario from its runs."""
    honest_weeks = sum((r.agents - len(r.compromised)) * r.days / 7 for r in runs)
    false_alarms = sum(len(r.high - r.compromised) for r in runs)
    return ScenarioResult(
        scenario=scenario,
        log=log,
        runs=len(runs),
        compromised=sum(len(r.compromised) for r in runs),
        caught=sum(len(r.high & r.compromised) for r in runs),
        false_alarm_agents=false_alarms,
        agent_weeks=honest_weeks,
        false_alarms_per_1000_agent_weeks=1000 * false_alarms / honest_weeks if honest_weeks else 0,
        minutes_to_high=tuple(m for r in runs for m in r.minutes_to_high.values()),
        recall_at_1pct=_recall_at(runs, 0.01),
    )


def evaluate(
    config: EvalConfig, workdir: Path, *, progress: Callable[[str], None] | None = None
) -> list[ScenarioResult]:
    """Every scenario over every seed; simulations are written under ``workdir``.

    With ``config.vendors``, each scenario's native result is followed by the result of
    the vendors' logs of the same simulations."""
    results = []
    for scenario in config.scenarios:
        runs, vendor_runs = [], []
        for seed in config.seeds:
            if progress is not None:
                progress(f"{scenario} seed {seed}")
            folder = workdir / f"{scenario}-{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            simulated = _simulate(folder, scenario, seed, config)
            runs.append(run_one(folder, scenario, seed, config, simulated=simulated))
            if config.vendors:
                if progress is not None:
                    progress(f"{scenario} seed {seed} as {','.join(config.vendors)}")
                vendor_runs.append(
                    run_one(
                        folder, scenario, seed, config, vendors=config.vendors, simulated=simulated
                    )
                )
        results.append(summarise(scenario, runs))
        if config.vendors:
            results.append(summarise(scenario, vendor_runs, log=",".join(config.vendors)))
    return results
