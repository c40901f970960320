"""Batch detection over everything the store holds: features, baselines, model, rules,
risk, alerts. :func:`detect` is what ``vigile detect`` runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Engine

from vigile.detect.alerts import Alert, agent_risks, explain
from vigile.detect.baseline import DAY_FLOOR, DAY_SIGNALS, Baselines, fit_baselines
from vigile.detect.features import FeatureEngine, FeatureParams, evidence_ids
from vigile.detect.model import AnomalyModel
from vigile.detect.risk import (
    RiskPolicy,
    ScoredHours,
    combine,
    relative_vectors,
    score_hours,
)
from vigile.detect.scoring import score_over_time, widen
from vigile.detect.source import DAY_US, HOUR_US, read_directory, read_events

__all__ = [
    "DetectionConfig",
    "alerts_from",
    "detect",
    "fit",
    "fit_days",
    "open_features",
    "score_days",
]

_EVIDENCE_CAP = 2_000  # ids per alert: enough to scope a response, small enough to print


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectionConfig:
    """Everything that shapes a detection run."""

    params: FeatureParams = field(default_factory=FeatureParams)
    policy: RiskPolicy = field(default_factory=RiskPolicy)
    use_model: bool = True
    seed: int = 0


def open_features(engine: Engine, params: FeatureParams) -> tuple[FeatureEngine, Mapping[str, str]]:
    """A feature engine loaded with the store's directory, and each agent's time zone."""
    agents, customers, shifts = read_directory(engine)
    zones = {agent: zone for agent, (zone, _) in shifts.items()}
    return FeatureEngine(agents=agents, customers=customers, shifts=shifts, params=params), zones


def fit_days(days: pa.Table, config: DetectionConfig) -> Baselines:
    """Daily baselines (an agent needs a week of active days to be its own yardstick)."""
    return fit_baselines(
        days.column("agent").to_pylist(),
        days.column("team").to_pylist(),
        _numeric(days),
        min_history=max(config.policy.min_history // 6, 5),
        floor=DAY_FLOOR,
    )


def _numeric(rows: pa.Table) -> dict[str, Any]:
    return {
        name: np.asarray(rows.column(name).to_numpy(), dtype=np.float64)
        for name in rows.column_names
        if pa.types.is_integer(rows.schema.field(name).type)
    }


def fit(hours: pa.Table, config: DetectionConfig) -> tuple[Baselines, AnomalyModel | None]:
    """Baselines and model from hourly feature rows."""
    baselines = fit_baselines(
        hours.column("agent").to_pylist(),
        hours.column("team").to_pylist(),
        _numeric(hours),
        min_history=config.policy.min_history,
    )
    model = None
    if config.use_model and hours.num_rows >= 256:
        model = AnomalyModel.fit(relative_vectors(hours, baselines), seed=config.seed)
    return baselines, model


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
    features, zones = open_features(engine, config.params)
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


def score_days(days: pa.Table, baselines: Baselines, policy: RiskPolicy) -> ScoredHours:
    """Score agent-days on the daily signals only (flags and model count per hour)."""
    return score_hours(days, baselines, policy=policy, signals=DAY_SIGNALS, flags={})
