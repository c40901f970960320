"""Batch detection over everything the store holds: features, baselines, model, rules,
risk, alerts. :func:`detect` is what ``vigile detect`` runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import Engine

from vigile.detect.alerts import Alert, agent_risks, explain
from vigile.detect.features import FeatureEngine, FeatureParams, evidence_ids
from vigile.detect.risk import (
    RiskPolicy,
    ScoredHours,
)
from vigile.detect.rules import RULE_PACKS, Rule, load_rules
from vigile.detect.scoring import score_over_time, widen
from vigile.detect.source import DAY_US, HOUR_US, read_directory, read_events

__all__ = [
    "DetectionConfig",
    "alerts_from",
    "detect",
    "open_features",
]

_EVIDENCE_CAP = 2_000  # ids per alert: enough to scope a response, small enough to print


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectionConfig:
    """Everything that shapes a detection run."""

    params: FeatureParams = field(default_factory=FeatureParams)
    policy: RiskPolicy = field(default_factory=RiskPolicy)
    rules: tuple[Rule, ...] = field(default_factory=lambda: tuple(load_rules(RULE_PACKS.values())))
    use_model: bool = True
    seed: int = 0


def open_features(
    engine: Engine, config: DetectionConfig
) -> tuple[FeatureEngine, Mapping[str, str]]:
    """A feature engine loaded with the store's directory, and each agent's time zone."""
    agents, customers, shifts = read_directory(engine)
    zones = {agent: zone for agent, (zone, _) in shifts.items()}
    features = FeatureEngine(
        agents=agents, customers=customers, shifts=shifts, params=config.params,
        rules=config.rules,
    )  # fmt: skip
    return features, zones


def alerts_from(
    scored: ScoredHours,
    features: FeatureEngine,
    zones: Mapping[str, str],
    policy: RiskPolicy,
) -> list[Alert]:
    """Alerts of every agent whose risk reaches a severity, most severe first."""
    risks = [r for r in agent_risks(scored, policy) if policy.severity(r.risk) is not None]
    buckets, widths = scored.rows.column("bucket_us"), scored.rows.column("width_us")
    flagged = [
        (r.agent, buckets[int(i)].as_py(), widths[int(i)].as_py()) for r in risks for i in r.rows
    ]
    evidence = evidence_ids(features, flagged)
    first, last = scored.column("first_us"), scored.column("last_us")
    alerts = []
    for risk in risks:
        severity = policy.severity(risk.risk)
        assert severity is not None
        alerts.append(
            Alert(
                agent=risk.agent,
                severity=severity,
                score=risk.risk,
                first_us=int(first[risk.rows].min()),
                last_us=int(last[risk.rows].max()),
                reasons=explain(scored, risk, zones.get(risk.agent, "UTC")),
                evidence=tuple(evidence.get(risk.agent, [])[:_EVIDENCE_CAP]),
            )
        )
    return sorted(alerts, key=lambda a: (-a.severity.rank, -a.score, a.agent))


def detect(engine: Engine, config: DetectionConfig | None = None) -> list[Alert]:
    """Alerts over every event in the store (batch)."""
    config = config or DetectionConfig()
    features, zones = open_features(engine, config)
    try:
        features.absorb(read_events(engine))
        rows = pa.concat_tables([
            widen(features.features(HOUR_US, 0), HOUR_US),
            widen(features.features(DAY_US, 0), DAY_US),
        ])  # fmt: skip
        scored = score_over_time(
            rows, config.policy, origin_us=features.origin_us,
            use_model=config.use_model, seed=config.seed,
        )  # fmt: skip
        return alerts_from(scored, features, zones, config.policy)
    finally:
        features.close()
