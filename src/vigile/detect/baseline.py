"""Behavioural baselines: how much of each thing an agent, and its team, usually does in an
hour, estimated robustly, and how surprising an hour is against them (Poisson tails).

Rates are the mean of an agent's hours after dropping the top tenth (a trimmed mean, so
the weeks an attacker used the account move the baseline little), never below the median
nor a floor. An agent with less than ``min_history`` active hours is judged against its
team's rate instead: a new hire is not the yardstick of themself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson  # type: ignore[import-untyped]

__all__ = [
    "COUNT_SIGNALS",
    "DAY_FLOOR",
    "DAY_SIGNALS",
    "HOUR_FLOOR",
    "Baselines",
    "fit_baselines",
    "surprise",
]

Floats = npt.NDArray[np.float64]

#: Count features judged against baselines, with their weight in an hour's score.
COUNT_SIGNALS: Mapping[str, float] = {
    "unjustified_customers": 1.0,
    "other_ticket_customers": 0.8,
    "closed_ticket_customers": 0.5,
    "not_assigned_customers": 0.5,
    "sensitive_unjustified_customers": 0.6,
    "unjustified_reveals": 0.4,
    "new_unjustified_customers": 0.4,
    "new_team_customers": 0.3,
    "off_shift_customers": 0.5,
    "customers": 0.3,
    "searches": 0.3,
    "search_results": 0.2,
    "search_initials": 0.4,
    "denied": 0.3,
    "failed_signins": 0.3,
}

#: Count features also judged per day: low-and-slow abuse (a few customers a day) is
#: invisible hour by hour.
DAY_SIGNALS: Mapping[str, float] = {
    name: COUNT_SIGNALS[name]
    for name in (
        "unjustified_customers",
        "other_ticket_customers",
        "closed_ticket_customers",
        "not_assigned_customers",
        "sensitive_unjustified_customers",
        "unjustified_reveals",
        "new_team_customers",
        "customers",
    )
}

# An hourly rate below one in fifty hours is not estimable from weeks of data (a daily
# rate below one in twenty days): rates never go below the floor.
HOUR_FLOOR = 0.02
DAY_FLOOR = 0.05
_TRIM = 0.9


@dataclass(frozen=True, kw_only=True, slots=True)
class Baselines:
    """Hourly rates per agent and per team for every count signal."""

    agent_rates: Mapping[str, Mapping[str, float]]
    team_rates: Mapping[str, Mapping[str, float]]
    history: Mapping[str, int]
    min_history: int
    floor: float = HOUR_FLOOR

    def rate(self, agent: str, team: str, feature: str) -> float:
        """The rate ``agent`` is held to for ``feature``."""
        team_rate = self.team_rates.get(team, {}).get(feature, self.floor)
        if self.history.get(agent, 0) < self.min_history:
            return max(team_rate, self.floor)
        return max(self.agent_rates[agent][feature], self.floor)

    def rates(self, agents: list[str], teams: list[str], feature: str) -> Floats:
        """Rates of one feature for rows of (agent, team): one lookup per distinct pair."""
        pairs = np.array([f"{a}\x00{t}" for a, t in zip(agents, teams, strict=True)], dtype=object)
        if pairs.size == 0:
            return np.zeros(0)
        uniq, inverse = np.unique(pairs, return_inverse=True)
        values = [self.rate(*_split(str(pair)), feature) for pair in uniq]
        return np.asarray(values, dtype=np.float64)[inverse]


def _split(pair: str) -> tuple[str, str]:
    agent, _, team = pair.partition("\x00")
    return agent, team


def _robust_rate(values: Floats) -> float:
    if values.size == 0:
        return 0.0
    cut = np.quantile(values, _TRIM)
    kept = values[values <= cut]
    return float(max(kept.mean() if kept.size else 0.0, np.median(values)))


def _rates_by(keys: list[str], columns: Mapping[str, Floats]) -> dict[str, dict[str, float]]:
    order = np.argsort(np.array(keys, dtype=object), kind="stable")
    ordered = np.array(keys, dtype=object)[order]
    uniq, starts = np.unique(ordered, return_index=True)
    bounds = [*starts[1:], len(ordered)]
    rates: dict[str, dict[str, float]] = {}
    for key, lo, hi in zip(uniq, starts, bounds, strict=True):
        rows = order[lo:hi]
        rates[str(key)] = {f: _robust_rate(col[rows]) for f, col in columns.items()}
    return rates


def fit_baselines(
    agents: list[str],
    teams: list[str],
    columns: Mapping[str, Floats],
    *,
    min_history: int,
    floor: float = HOUR_FLOOR,
) -> Baselines:
    """Baselines from feature rows (one row per agent and active window)."""
    history: dict[str, int] = {}
    for agent in agents:
        history[agent] = history.get(agent, 0) + 1
    counted = {f: columns[f] for f in COUNT_SIGNALS}
    return Baselines(
        agent_rates=_rates_by(agents, counted),
        team_rates=_rates_by(teams, counted),
        history=history,
        min_history=min_history,
        floor=floor,
    )


def surprise(observed: Floats, rate: Floats) -> Floats:
    """``-log10 P(X >= observed)`` for ``X ~ Poisson(rate)``: 0 for nothing unusual, 2 for
    one hour in a hundred, capped at 12."""
    tail = poisson.sf(observed - 1, rate)
    bits = -np.log10(np.clip(tail, 1e-12, 1.0))
    return np.where(observed > rate, bits, 0.0)
