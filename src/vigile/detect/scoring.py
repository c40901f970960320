"""Scoring over time: each period (a week by default) is judged against baselines and a
model fitted only on earlier periods, leaving out the windows already found suspicious.

So an account taken over mid-month is compared with its owner's habits before the
takeover, not with a history the attacker has already filled, and the batch result over
stored history is the one a streaming detector reaches event by event. The first period
is the warm-up: it is learnt from, never alerted on (the minimum history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]

from vigile.detect.baseline import (
    COUNT_SIGNALS,
    DAY_FLOOR,
    DAY_SIGNALS,
    HOUR_FLOOR,
    Baselines,
    fit_baselines,
)
from vigile.detect.model import AnomalyModel
from vigile.detect.risk import FLAG_SIGNALS, RiskPolicy, ScoredHours, relative_vectors, score_hours
from vigile.detect.source import DAY_US, HOUR_US

__all__ = ["Fitted", "fit_period", "period_of", "score_over_time", "score_rows", "widen"]

Floats = npt.NDArray[np.float64]
_PARTS = (*COUNT_SIGNALS, *FLAG_SIGNALS, "model", "rules")


@dataclass(frozen=True, kw_only=True, slots=True)
class Fitted:
    """What one period is judged against."""

    hours: Baselines
    days: Baselines
    model: AnomalyModel | None


def widen(rows: pa.Table, width: int) -> pa.Table:
    """Feature rows with their window width in ``width_us``."""
    return rows.append_column("width_us", pa.array([width] * rows.num_rows, pa.int64()))


def period_of(
    buckets: npt.NDArray[np.int64], origin_us: int, period_us: int
) -> npt.NDArray[np.int64]:
    """The period index of each window start, counted from the day of ``origin_us``."""
    start = origin_us - origin_us % DAY_US
    return np.asarray((buckets - start) // period_us, dtype=np.int64)


def _numeric(rows: pa.Table) -> dict[str, Floats]:
    return {
        name: np.asarray(rows.column(name).to_numpy(), dtype=np.float64)
        for name in rows.column_names
        if pa.types.is_integer(rows.schema.field(name).type)
    }


def _baselines(rows: pa.Table, *, min_history: int, floor: float) -> Baselines:
    return fit_baselines(
        rows.column("agent").to_pylist(),
        rows.column("team").to_pylist(),
        _numeric(rows),
        min_history=min_history,
        floor=floor,
    )


def fit_period(history: pa.Table, policy: RiskPolicy, *, use_model: bool, seed: int) -> Fitted:
    """Baselines (hourly and daily) and model from earlier, unsuspicious windows."""
    widths = np.asarray(history.column("width_us").to_numpy())
    hours = history.filter(pa.array(widths == HOUR_US))
    days = history.filter(pa.array(widths == DAY_US))
    hourly = _baselines(hours, min_history=policy.min_history, floor=HOUR_FLOOR)
    daily = _baselines(days, min_history=max(policy.min_history // 6, 5), floor=DAY_FLOOR)
    model = None
    if use_model and hours.num_rows >= 256:
        model = AnomalyModel.fit(relative_vectors(hours, hourly), seed=seed)
    return Fitted(hours=hourly, days=daily, model=model)


def score_rows(
    rows: pa.Table, fitted: Fitted, policy: RiskPolicy
) -> tuple[Floats, dict[str, Floats]]:
    """Scores and parts of hour and day rows (``width_us`` says which)."""
    widths = np.asarray(rows.column("width_us").to_numpy())
    score = np.zeros(rows.num_rows)
    parts = {name: np.zeros(rows.num_rows) for name in _PARTS}
    for width in (HOUR_US, DAY_US):
        where = np.flatnonzero(widths == width)
        if where.size == 0:
            continue
        subset = rows.take(pa.array(where))
        if width == HOUR_US:
            scored = score_hours(subset, fitted.hours, policy=policy, model=fitted.model)
        else:
            scored = score_hours(
                subset, fitted.days, policy=policy, signals=DAY_SIGNALS, flags={},
                rule_points=np.zeros(subset.num_rows),
            )  # fmt: skip
        score[where] = scored.score
        for name, values in scored.parts.items():
            parts[name][where] = values
    return score, parts


def score_over_time(
    rows: pa.Table, policy: RiskPolicy, *, origin_us: int, use_model: bool = True, seed: int = 0
) -> ScoredHours:
    """Score every hour and day row, period after period (batch)."""
    buckets = np.asarray(rows.column("bucket_us").to_numpy(), dtype=np.int64)
    periods = period_of(buckets, origin_us, policy.period_us)
    score = np.zeros(rows.num_rows)
    parts = {name: np.zeros(rows.num_rows) for name in _PARTS}
    learnt = np.zeros(rows.num_rows, dtype=bool)
    start = origin_us - origin_us % DAY_US
    for period in np.unique(periods):
        current = periods == period
        # A sliding history (as streaming retains): each refit costs the same, not more
        # every week, and old habits stop weighing on today's.
        boundary = start + int(period) * policy.period_us
        recent = learnt & (buckets >= boundary - policy.history_us)
        if period > 0 and recent.any():
            history = rows.filter(pa.array(recent))
            fitted = fit_period(history, policy, use_model=use_model, seed=seed)
            where = np.flatnonzero(current)
            got, got_parts = score_rows(rows.take(pa.array(where)), fitted, policy)
            score[where] = got
            for name, values in got_parts.items():
                parts[name][where] = values
        learnt |= current & (score < policy.evidence_hour)
    return ScoredHours(rows=rows, score=score, parts=parts)
