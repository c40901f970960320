"""Risk-based alerting: every agent-hour gets a score from baselines, clear-cut signals,
rule hits and the model; an agent's risk is the most its scores sum to within any window
(a day by default), mapped to a severity.

One busy hour is not an incident, a day of unusual hours is: summing over a window lets
many weak signals (off shift, new device, no ticket) add up, while the per-signal
allowance keeps ordinary hour-to-hour noise from adding up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]

from vigile.detect.anomaly_model import AnomalyModel
from vigile.detect.baseline import (
    COUNT_SIGNALS,
    RATIO_SIGNALS,
    TEAM_SIGNALS,
    Baselines,
    Ratio,
    share_surprise,
    surprise,
)
from vigile.detect.source import DAY_US, HOUR_US

__all__ = [
    "FLAG_SIGNALS",
    "MISUSE_SIGNALS",
    "CarriedRisk",
    "RiskPolicy",
    "ScoredHours",
    "Severity",
    "combine",
    "relative_vectors",
    "score_hours",
    "team_part",
]

Floats = npt.NDArray[np.float64]

#: Features that count whenever present, with their points (per hour, not per event).
FLAG_SIGNALS: Mapping[str, float] = {
    "new_countries": 5.0,
    "new_devices": 4.0,
    "new_addresses": 1.0,
    "impossible_travel": 6.0,
}
# Exports, break-glass and a session used from another address are Sigma rules of the
# shipped pack (vigile/detect/sigma): their points come through ``rule_points``.


#: Signals of misuse or of someone else at the keyboard. The rest (volume, searches, off
#: shift, new customers, denials, the model) is context: it can raise a score that misuse
#: started, never make one alone, because busy honest agents have plenty of context.
MISUSE_SIGNALS: frozenset[str] = frozenset(
    {
        "unjustified_customers", "other_ticket_customers", "closed_ticket_customers",
        "not_assigned_customers", "sensitive_unjustified_customers", "unjustified_reveals",
        "sensitive_reveals", "new_unjustified_customers", "concurrent_sessions", "rules",
        *FLAG_SIGNALS,
    }
)  # fmt: skip


class Severity(StrEnum):
    """How urgent an alert is, from its risk."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(Severity).index(self)


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskPolicy:
    """How scores add up to risk and risk to severity."""

    window_us: int = DAY_US
    period_us: int = 7 * DAY_US  # baselines and model are refitted every period...
    history_us: int = 35 * DAY_US  # ... on at most this much earlier history
    long_window_us: int = 7 * DAY_US  # low and slow: a week of small excesses...
    long_factor: float = 0.5  # ... counts half
    allowance: float = 1.0  # surprise (in log10 units) ignored per signal and hour
    model_points: float = 6.0
    context_ratio: float = 1.0  # context adds at most this times the misuse...
    context_floor: float = 1.0  # ... or this much when there is no misuse
    evidence_hour: float = 3.0  # an hour scoring at least this is evidence
    min_history: int = 40  # active hours before an agent is its own baseline
    habits: bool = True  # stable habits per agent and team raise the rates (baseline.Habits)
    thresholds: Mapping[Severity, float] = field(
        default_factory=lambda: {
            Severity.CRITICAL: 80.0,
            Severity.HIGH: 40.0,
            Severity.MEDIUM: 20.0,
            Severity.LOW: 10.0,
        }
    )

    def severity(self, risk: float) -> Severity | None:
        """The severity of a risk, or None below the lowest level."""
        for level in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
            if risk >= self.thresholds[level]:
                return level
        return None


_EARLIEST = -(2**63)


@dataclass(frozen=True, kw_only=True, slots=True)
class CarriedRisk:
    """What rows no longer held add to each agent's risk (batch detection drops the old
    rows that are neither evidence nor needed by a window still to be summed).

    ``peaks``: per agent, the highest windowed risk of the windows ending before
    ``until_us`` and the bucket of the earliest window reaching it (where that window
    ends, as :attr:`~vigile.detect.alerts.AgentRisk.peak_us`). ``prefix``: per agent, the
    running sum of its scores, in time order, before ``held_from_us``, from which the
    rows still held continue the sum (so their window sums are the very floats a sum
    over every row gives). Rows before ``held_from_us`` take no part in the sums."""

    until_us: int = _EARLIEST
    held_from_us: int = _EARLIEST
    peaks: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    prefix: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoredHours:
    """Feature rows with their score and each part of it (for the reasons), and what
    the rows no longer held add to each agent's risk."""

    rows: pa.Table
    score: Floats
    parts: Mapping[str, Floats]
    carried: CarriedRisk = field(default_factory=CarriedRisk)
    _columns: dict[str, Floats] = field(default_factory=dict, repr=False, compare=False)

    def column(self, name: str) -> Floats:
        """A numeric feature column as floats (converted once: the reasons of every alert
        read the same columns)."""
        found = self._columns.get(name)
        if found is None:
            found = np.asarray(
                self.rows.column(name).to_numpy(zero_copy_only=False), dtype=np.float64
            )
            self._columns[name] = found
        return found

    def ints(self, name: str) -> npt.NDArray[np.int64]:
        """An integer column (times, widths) as integers, converted once."""
        key = f"int:{name}"
        found = self._columns.get(key)
        if found is None:
            found = np.asarray(
                self.rows.column(name).to_numpy(zero_copy_only=False), dtype=np.int64
            )
            self._columns[key] = found
        return found  # type: ignore[return-value]


def _columns(rows: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    return rows.column("agent"), rows.column("team")


def team_part(feature: str) -> str:
    """The name of a feature's score part against the team's rate."""
    return f"{feature}_vs_team"


def relative_vectors(rows: pa.Table, baselines: Baselines) -> Floats:
    """Each row as how far each count sits above the agent's rate (log ratio), volume above
    the team's, each share from the agent's usual share, plus flags."""
    lookup = baselines.lookup(*_columns(rows))
    parts = []
    for feature in COUNT_SIGNALS:
        observed = np.asarray(rows.column(feature).to_numpy(), dtype=np.float64)
        rate = lookup.rates(feature)
        parts.append(np.log1p(observed) - np.log1p(rate))
    for feature in TEAM_SIGNALS:
        observed = np.asarray(rows.column(feature).to_numpy(), dtype=np.float64)
        parts.append(np.log1p(observed) - np.log1p(lookup.team_rates(feature)))
    for feature, ratio in RATIO_SIGNALS.items():
        observed = np.asarray(rows.column(feature).to_numpy(), dtype=np.float64)
        parts.append(observed - lookup.shares(ratio))
    for feature in FLAG_SIGNALS:
        parts.append(np.minimum(np.asarray(rows.column(feature).to_numpy(), dtype=np.float64), 3))
    return np.column_stack(parts) if parts else np.zeros((rows.num_rows, 0))


def score_hours(
    rows: pa.Table,
    baselines: Baselines,
    *,
    policy: RiskPolicy,
    model: AnomalyModel | None = None,
    rule_points: Floats | None = None,
    signals: Mapping[str, float] = COUNT_SIGNALS,
    ratios: Mapping[str, Ratio] = RATIO_SIGNALS,
    team: Mapping[str, float] = TEAM_SIGNALS,
    flags: Mapping[str, float] = FLAG_SIGNALS,
) -> ScoredHours:
    """Score each agent-window: baseline surprises beyond the allowance, flags, rules, model."""
    lookup = baselines.lookup(*_columns(rows))
    parts: dict[str, Floats] = {}

    def counts(name: str) -> Floats:
        return np.asarray(rows.column(name).to_numpy(), dtype=np.float64)

    for feature, weight in signals.items():
        bits = surprise(counts(feature), lookup.rates(feature))
        parts[feature] = weight * np.maximum(bits - policy.allowance, 0.0)
    for feature, weight in team.items():
        bits = surprise(counts(feature), lookup.team_rates(feature))
        parts[team_part(feature)] = weight * np.maximum(bits - policy.allowance, 0.0)
    for feature, ratio in ratios.items():
        bits = share_surprise(counts(ratio.part), counts(ratio.whole), lookup.shares(ratio))
        parts[feature] = ratio.weight * np.maximum(bits - policy.allowance, 0.0)
    for feature, points in flags.items():
        present = np.asarray(rows.column(feature).to_numpy(), dtype=np.float64) > 0
        parts[feature] = np.where(present, points, 0.0)
    if model is not None:
        parts["model"] = policy.model_points * model.points(relative_vectors(rows, baselines))
    if rule_points is None and "rule_points" in rows.column_names:
        rule_points = np.asarray(rows.column("rule_points").to_numpy(), dtype=np.float64)
    if rule_points is not None:
        parts["rules"] = rule_points
    return ScoredHours(rows=rows, score=_total(parts, rows.num_rows, policy), parts=parts)


def _total(parts: Mapping[str, Floats], size: int, policy: RiskPolicy) -> Floats:
    misuse, context = np.zeros(size), np.zeros(size)
    for name, values in parts.items():
        if name in MISUSE_SIGNALS:
            misuse += values
        else:
            context += values
    bound = np.maximum(misuse * policy.context_ratio, policy.context_floor)
    return misuse + np.minimum(context, bound)


def combine(hours: ScoredHours, days: ScoredHours) -> ScoredHours:
    """Hour and day rows in one scored table, with their width in ``width_us``."""

    def widened(part: ScoredHours, width: int) -> pa.Table:
        return part.rows.append_column(
            "width_us", pa.array([width] * part.rows.num_rows, pa.int64())
        )

    rows = pa.concat_tables([widened(hours, HOUR_US), widened(days, DAY_US)])
    names = set(hours.parts) | set(days.parts)
    parts = {
        name: np.concatenate([
            hours.parts.get(name, np.zeros(hours.rows.num_rows)),
            days.parts.get(name, np.zeros(days.rows.num_rows)),
        ])
        for name in names
    }  # fmt: skip
    return ScoredHours(rows=rows, score=np.concatenate([hours.score, days.score]), parts=parts)
