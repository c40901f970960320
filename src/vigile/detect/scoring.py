"""Scoring over time: each period (a week by default) is judged against baselines and a
model fitted only on earlier periods, leaving out the windows already found suspicious.

So an account taken over mid-month is compared with its owner's habits before the
takeover, not with a history the attacker has already filled, and the batch result over
stored history is the one a streaming detector reaches event by event. The first period
is the warm-up: it is learnt from, never alerted on (the minimum history).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]

from vigile.detect.alerts import carry_risks
from vigile.detect.anomaly_model import AnomalyModel
from vigile.detect.baseline import (
    BASELINE_COLUMNS,
    COUNT_SIGNALS,
    DAY_FLOOR,
    DAY_SIGNALS,
    HABIT_SIGNALS,
    HOUR_FLOOR,
    RATIO_SIGNALS,
    TEAM_SIGNALS,
    Baselines,
    Habits,
    fit_baselines,
    hourly_habits,
    learn_habits,
)
from vigile.detect.errors import DetectError
from vigile.detect.risk import (
    FLAG_SIGNALS,
    CarriedRisk,
    RiskPolicy,
    ScoredHours,
    relative_vectors,
    score_hours,
    team_part,
)
from vigile.detect.source import DAY_US, HOUR_US

__all__ = [
    "Fitted",
    "PeriodScorer",
    "Retired",
    "fit_period",
    "period_of",
    "score_over_time",
    "score_rows",
    "widen",
]

Floats = npt.NDArray[np.float64]
_PARTS = (
    *COUNT_SIGNALS, *RATIO_SIGNALS, *map(team_part, TEAM_SIGNALS), *FLAG_SIGNALS, "model",
    "rules",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Fitted:
    """What one period is judged against."""

    hours: Baselines
    days: Baselines
    model: AnomalyModel | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Retired:
    """How far scoring periods are retired, and the agent-days (``agent``, ``day_us``) of
    the rows they still hold: the events before ``until_us`` on any other agent-day can
    no longer be an alert's evidence, nor count in its reasons."""

    until_us: int
    days: pa.Table


def widen(rows: pa.Table, width: int) -> pa.Table:
    """Feature rows with their window width in ``width_us``."""
    return rows.append_column("width_us", pa.array([width] * rows.num_rows, pa.int64()))


def period_of(
    buckets: npt.NDArray[np.int64], origin_us: int, period_us: int
) -> npt.NDArray[np.int64]:
    """The period index of each window start, counted from the day of ``origin_us``."""
    start = origin_us - origin_us % DAY_US
    return np.asarray((buckets - start) // period_us, dtype=np.int64)


def _numeric(rows: pa.Table, names: Iterable[str]) -> dict[str, Floats]:
    return {name: np.asarray(rows.column(name).to_numpy(), dtype=np.float64) for name in names}


def _baselines(
    rows: pa.Table, *, min_history: int, floor: float, habits: Habits | None = None
) -> Baselines:
    fitted = fit_baselines(
        rows.column("agent"),
        rows.column("team"),
        _numeric(rows, BASELINE_COLUMNS),
        min_history=min_history,
        floor=floor,
    )
    return replace(fitted, habits=habits)


def _habits(days: pa.Table) -> Habits:
    """Stable habits from the history's day rows."""
    return learn_habits(
        days.column("agent"),
        days.column("team"),
        np.asarray(days.column("bucket_us").to_numpy(), dtype=np.int64),
        _numeric(days, HABIT_SIGNALS),
    )


def fit_period(history: pa.Table, policy: RiskPolicy, *, use_model: bool, seed: int) -> Fitted:
    """Baselines (hourly and daily) and model from earlier, unsuspicious windows."""
    widths = np.asarray(history.column("width_us").to_numpy())
    hours = history.filter(pa.array(widths == HOUR_US))
    days = history.filter(pa.array(widths == DAY_US))
    habits = _habits(days) if policy.habits else None
    per_hour = (
        hourly_habits(
            habits, hours.column("agent"), hours.column("team"), _numeric(hours, HABIT_SIGNALS)
        )
        if habits is not None
        else None
    )
    hourly = _baselines(hours, min_history=policy.min_history, floor=HOUR_FLOOR, habits=per_hour)
    daily = _baselines(
        days, min_history=max(policy.min_history // 6, 5), floor=DAY_FLOOR, habits=habits
    )
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
                subset, fitted.days, policy=policy, signals=DAY_SIGNALS, ratios={}, team={},
                flags={},
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
    scorer = PeriodScorer(policy, origin_us=origin_us, use_model=use_model, seed=seed)
    scorer.add(rows)
    return scorer.finish()


_ORDER = [("width_us", "ascending"), ("agent", "ascending"), ("bucket_us", "ascending")]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Period:
    """One period's rows (in :data:`_ORDER`), scored, and which of them are learnt from."""

    rows: pa.Table
    buckets: npt.NDArray[np.int64]
    score: Floats
    parts: dict[str, Floats]
    learnt: npt.NDArray[np.bool_]
    retired: bool = False

    def retire(self, evidence_hour: float, held_from_us: int = -(2**63)) -> _Period:
        """What alerts still need once no refit learns from the period: the rows that
        scored from ``held_from_us`` on (an agent's peak risk is a sum of scores; a row
        scoring 0 never raises a window's sum above an earlier row's; the windows ending
        before are folded into :class:`~vigile.detect.risk.CarriedRisk`), the evidence
        and the day rows of days holding evidence (the reasons count them)."""
        agents = self.rows.column("agent").combine_chunks().dictionary_encode()
        codes = np.asarray(agents.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        days = self.buckets // DAY_US
        key = codes * (int(days.max(initial=0)) + 1) + days
        widths = np.asarray(self.rows.column("width_us").to_numpy(), dtype=np.int64)
        evidence_days = np.isin(key, key[self.score >= evidence_hour])
        keep = (
            ((self.score > 0) & (self.buckets >= held_from_us))
            | (self.score >= evidence_hour)
            | ((widths == DAY_US) & evidence_days)
        )
        return _Period(
            rows=self.rows.filter(pa.array(keep)), buckets=self.buckets[keep],
            score=self.score[keep], parts={n: v[keep] for n, v in self.parts.items()},
            learnt=np.zeros(int(keep.sum()), dtype=bool), retired=True,
        )  # fmt: skip


class PeriodScorer:
    """Scores feature rows period by period as they arrive (batch detection hands over the
    rows of each batch's complete days, so a period is scored while later batches are
    still being computed).

    Period ``p`` is judged against baselines and a model fitted on the earlier periods'
    unsuspicious windows (score under ``evidence_hour``) from the ``history_us`` before
    it; the first period is the warm-up (score 0). The result does not depend on how the
    rows were split: history is put in one order (width, agent, window) before fitting.

    ``retire``: periods no later refit learns from keep only what alerts need
    (:meth:`_Period.retire`): the evidence, the day rows of evidence days, and the rows
    that scored within the longer risk window before the retired periods' end; each
    agent's risk over the windows ending earlier is carried
    (:func:`~vigile.detect.alerts.carry_risks`). So memory holds the history window and
    the evidence, not all history; the alerts are the same, the rows fewer."""

    def __init__(
        self,
        policy: RiskPolicy,
        *,
        origin_us: int,
        use_model: bool = True,
        seed: int = 0,
        retire: bool = False,
    ) -> None:
        self.policy = policy
        self.retire = retire
        self.use_model = use_model
        self.seed = seed
        self._origin_us = origin_us
        self._start = origin_us - origin_us % DAY_US
        self._pending: list[pa.Table] = []
        self._periods: dict[int, _Period] = {}
        self._next = 0  # periods before it are scored
        self._schema: pa.Schema | None = None
        self._carried = CarriedRisk()
        self._retired_until = self._start

    def add(self, rows: pa.Table, complete_us: int | None = None) -> Retired | None:
        """Take feature rows (with ``width_us``); every window before ``complete_us`` has
        arrived (None: not known yet), so the periods ending by then are scored now.
        Returns what is newly retired, if anything (with ``retire``)."""
        self._schema = self._schema if self._schema is not None else rows.schema
        if rows.num_rows:
            self._pending.append(rows)
        if complete_us is not None:
            last = (complete_us - self._start) // self.policy.period_us  # first incomplete
            self._score_until(int(last))
        return self._newly_retired()

    def _newly_retired(self) -> Retired | None:
        retired = {key: p for key, p in self._periods.items() if p.retired}
        if not retired:
            return None
        until = self._start + (max(retired) + 1) * self.policy.period_us
        if until <= self._retired_until:
            return None
        self._retired_until = until
        days = pa.concat_tables(
            pa.table({"agent": p.rows.column("agent"), "day_us": p.buckets - p.buckets % DAY_US})
            for p in retired.values()
        )
        return Retired(until_us=until, days=days.group_by(["agent", "day_us"]).aggregate([]))

    def finish(self) -> ScoredHours:
        """Score what is left; every row, period after period."""
        if self._pending:
            rows = pa.concat_tables(self._pending)
            buckets = np.asarray(rows.column("bucket_us").to_numpy(), dtype=np.int64)
            self._score_until(
                int(period_of(buckets, self._origin_us, self.policy.period_us).max()) + 1
            )
        periods = [self._periods[p] for p in sorted(self._periods)]
        if not periods:
            empty = self._schema.empty_table() if self._schema is not None else pa.table({})
            return ScoredHours(
                rows=empty, score=np.zeros(0), parts={n: np.zeros(0) for n in _PARTS},
                carried=self._carried,
            )  # fmt: skip
        parts = {name: np.concatenate([p.parts[name] for p in periods]) for name in _PARTS}
        return ScoredHours(
            rows=pa.concat_tables([p.rows for p in periods]),
            score=np.concatenate([p.score for p in periods]),
            parts=parts,
            carried=self._carried,
        )

    def _score_until(self, last: int) -> None:
        if self._pending and last > self._next:
            rows = pa.concat_tables(self._pending)
            buckets = np.asarray(rows.column("bucket_us").to_numpy(), dtype=np.int64)
            periods = period_of(buckets, self._origin_us, self.policy.period_us)
            if periods.min() < self._next:
                raise DetectError("feature rows of a period already scored")
            for period in np.unique(periods[periods < last]).tolist():
                self._score(rows.filter(pa.array(periods == period)).sort_by(_ORDER), period)
            later = periods >= last
            self._pending = [rows.filter(pa.array(later))] if later.any() else []
        self._next = max(self._next, last)

    def _score(self, rows: pa.Table, period: int) -> None:
        policy = self.policy
        buckets = np.asarray(rows.column("bucket_us").to_numpy(), dtype=np.int64)
        score = np.zeros(rows.num_rows)
        parts = {name: np.zeros(rows.num_rows) for name in _PARTS}
        # A sliding history (as streaming retains): each refit costs the same, not more
        # every week, and old habits stop weighing on today's.
        boundary = self._start + period * policy.period_us
        history = self._history(boundary - policy.history_us, boundary)
        if period > 0 and history is not None:
            fitted = fit_period(history, policy, use_model=self.use_model, seed=self.seed)
            score, got = score_rows(rows, fitted, policy)
            parts.update(got)
        self._periods[period] = _Period(
            rows=rows, buckets=buckets, score=score, parts=parts,
            learnt=score < policy.evidence_hour,
        )  # fmt: skip
        if self.retire:
            # Later periods learn from windows after their boundary minus the history.
            horizon = boundary + policy.period_us - policy.history_us
            for key, old in self._periods.items():
                end = self._start + (key + 1) * policy.period_us
                if not old.retired and end <= horizon:
                    self._periods[key] = old.retire(policy.evidence_hour)
            self._carry()

    def _carry(self) -> None:
        """Fold the windows ending before the retired periods' end into the carried risk,
        then drop the retired rows no window still to be summed reaches (the evidence and
        the day rows of evidence days stay)."""
        retired = {k: p for k, p in sorted(self._periods.items()) if p.retired}
        if not retired:
            return
        until = self._start + (max(retired) + 1) * self.policy.period_us
        if until <= self._carried.until_us:
            return
        held = ScoredHours(
            rows=pa.concat_tables([p.rows for p in retired.values()]),
            score=np.concatenate([p.score for p in retired.values()]),
            parts={}, carried=self._carried,
        )  # fmt: skip
        self._carried = carry_risks(held, self.policy, until)
        for key, old in retired.items():
            self._periods[key] = old.retire(self.policy.evidence_hour, self._carried.held_from_us)

    def _history(self, since_us: int, until_us: int) -> pa.Table | None:
        learnt = [
            p.rows.filter(pa.array(p.learnt & (p.buckets >= since_us) & (p.buckets < until_us)))
            for p in self._periods.values()
            if not p.retired
        ]
        learnt = [t for t in learnt if t.num_rows]
        if not learnt:
            return None
        return pa.concat_tables(learnt).sort_by(_ORDER)
