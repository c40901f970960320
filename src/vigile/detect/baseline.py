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

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
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
        """Rates of one feature for rows of (agent, team)."""
        return self.lookup(agents, teams).rates(feature)

    def lookup(self, agents: list[str], teams: list[str]) -> RateLookup:
        """Rates for many rows, resolved once per distinct (agent, team)."""
        return RateLookup(self, agents, teams)


class RateLookup:
    """The rows' distinct (agent, team) pairs, found once, for every feature's rates."""

    def __init__(self, baselines: Baselines, agents: list[str], teams: list[str]) -> None:
        self._baselines = baselines
        pairs = np.array([f"{a}\x00{t}" for a, t in zip(agents, teams, strict=True)], dtype=object)
        self._pairs: list[tuple[str, str, str]] = []
        self._inverse = np.zeros(0, dtype=np.int64)
        if pairs.size:
            uniq, self._inverse = np.unique(pairs, return_inverse=True)
            self._pairs = [str(pair).partition("\x00") for pair in uniq]

    def rates(self, feature: str) -> Floats:
        """One rate per row."""
        if not self._pairs:
            return np.zeros(0)
        values = [self._baselines.rate(agent, team, feature) for agent, _, team in self._pairs]
        found: Floats = np.asarray(values, dtype=np.float64)[self._inverse]
        return found


def _rates_by(keys: list[str], columns: Mapping[str, Floats]) -> dict[str, dict[str, float]]:
    """Per key and feature: the mean after dropping values above the 90th percentile,
    never below the median (one DuckDB query, not a loop per agent)."""
    if not keys:
        return {}
    names = list(columns)
    table = pa.table({"k": pa.array(keys, pa.string()), **{n: columns[n] for n in names}})
    # Median and cut from one quantile aggregate (one sort per key and feature, not two).
    cuts = ", ".join(f"quantile_cont({n}, [0.5, {_TRIM}]) AS q_{n}" for n in names)
    rates = ", ".join(
        f"greatest(coalesce(avg(CASE WHEN t.{n} <= q.q_{n}[2] THEN t.{n} END), 0), "
        f"any_value(q.q_{n}[1])) AS {n}"
        for n in names
    )
    db = duckdb.connect()
    db.register("t", table)
    query = (
        f"WITH q AS (SELECT k, {cuts} FROM t GROUP BY k) "  # noqa: S608 - our feature names
        f"SELECT t.k, {rates} FROM t JOIN q ON q.k = t.k GROUP BY t.k"
    )
    rows = db.sql(query).fetchall()
    db.close()
    return {row[0]: dict(zip(names, (float(v) for v in row[1:]), strict=True)) for row in rows}


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
