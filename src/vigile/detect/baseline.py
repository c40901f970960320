"""Behavioural baselines: how much of each thing an agent, and its team, usually does in an
hour, estimated robustly, and how surprising an hour is against them (Poisson tails).

Rates are the mean of an agent's hours after dropping the top tenth (a trimmed mean, so
the weeks an attacker used the account move the baseline little), never below the median
nor a floor. An agent with less than ``min_history`` active hours is judged against its
team's rate instead: a new hire is not the yardstick of themself. Volume is also judged
against the team's rate, whatever the agent's history. A share (denied
requests among all, government and enterprise customers among all) is held to the ratio of
the agent's two rates, and judged by a binomial tail: the more requests, the less a share
may stray from it by chance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
from scipy.stats import binom, poisson  # type: ignore[import-untyped]

__all__ = [
    "BASELINE_COLUMNS",
    "COUNT_SIGNALS",
    "DAY_FLOOR",
    "DAY_SIGNALS",
    "HABIT_SIGNALS",
    "HOUR_FLOOR",
    "RATIO_FLOOR",
    "RATIO_SIGNALS",
    "TEAM_SIGNALS",
    "Baselines",
    "Habits",
    "Ratio",
    "fit_baselines",
    "hourly_habits",
    "learn_habits",
    "share_surprise",
    "surprise",
    "trimmed_rates",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: Count features judged against baselines, with their weight in an hour's score.
COUNT_SIGNALS: Mapping[str, float] = {
    "unjustified_customers": 1.0,
    "other_ticket_customers": 0.8,
    "closed_ticket_customers": 0.5,
    "not_assigned_customers": 0.5,
    "sensitive_unjustified_customers": 0.6,
    "unjustified_reveals": 0.4,
    "sensitive_reveals": 1.0,
    "new_unjustified_customers": 0.4,
    "new_team_customers": 0.3,
    "off_shift_customers": 0.5,
    "customers": 0.3,
    "searches": 0.3,
    "search_results": 0.2,
    "search_initials": 0.4,
    "sequential_requests": 0.4,
    "concurrent_sessions": 0.5,
    "failed_signins": 0.3,
}


@dataclass(frozen=True, slots=True)
class Ratio:
    """A share of one count in another (``part`` of ``whole``), with its weight."""

    part: str
    whole: str
    weight: float


#: Shares judged against the agent's usual share (binomial tails): ten denials in ten
#: requests is not what ten denials in five hundred is; an hour of government and
#: enterprise customers only is not what one of them among twenty is.
RATIO_SIGNALS: Mapping[str, Ratio] = {
    "denied_ratio": Ratio("denied", "accesses", 0.3),
    "sensitive_share": Ratio("sensitive_customers", "customers", 0.3),
}

#: Volume judged against the agent's team too (an agent's own habit may have grown with
#: the abuse, or be a heavy user's): the team's hourly rate, whatever the agent's history.
TEAM_SIGNALS: Mapping[str, float] = {"customers": 0.3, "accesses": 0.2}

#: The count features baselines are fitted for: the signals, the team's and the ratios'
#: counts.
BASELINE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *COUNT_SIGNALS,
            *TEAM_SIGNALS,
            *(n for r in RATIO_SIGNALS.values() for n in (r.part, r.whole)),
        ]
    )
)

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
        "sensitive_reveals",
        "new_team_customers",
        "customers",
    )
}

# An hourly rate below one in fifty hours is not estimable from weeks of data (a daily
# rate below one in twenty days): rates never go below the floor.
HOUR_FLOOR = 0.02
DAY_FLOOR = 0.05
# A usual share below one in a hundred is held to one in a hundred (an agent never
# denied in weeks is still denied now and then).
RATIO_FLOOR = 0.01
_TRIM = 0.9
_HISTOGRAM_CELLS = 1 << 23  # groups x distinct counts, beyond which a sort is cheaper


@dataclass(frozen=True, kw_only=True, slots=True)
class Baselines:
    """Hourly rates per agent and per team for every count signal."""

    agent_rates: Mapping[str, Mapping[str, float]]
    team_rates: Mapping[str, Mapping[str, float]]
    history: Mapping[str, int]
    min_history: int
    floor: float = HOUR_FLOOR
    habits: Habits | None = None

    def rate(self, agent: str, team: str, feature: str) -> float:
        """The rate ``agent`` is held to for ``feature``: its own (its team's while its
        history is short), never below a stable habit's daily amount (:class:`Habits`)."""
        team_rate = self.team_rates.get(team, {}).get(feature, self.floor)
        if self.history.get(agent, 0) < self.min_history:
            found = max(team_rate, self.floor)
        else:
            found = max(self.agent_rates[agent][feature], self.floor)
        if self.habits is not None:
            found = max(found, self.habits.amount(agent, team, feature))
        return found

    def team_rate(self, team: str, feature: str) -> float:
        """The rate of ``team`` for ``feature`` (never below the floor)."""
        return max(self.team_rates.get(team, {}).get(feature, self.floor), self.floor)

    def share(self, agent: str, team: str, ratio: Ratio) -> float:
        """The share of ``ratio.part`` in ``ratio.whole`` ``agent`` is held to: the ratio of
        its rates, between :data:`RATIO_FLOOR` and 1."""
        whole = self.rate(agent, team, ratio.whole)
        found = self.rate(agent, team, ratio.part) / whole if whole > 0 else 1.0
        return min(max(found, RATIO_FLOOR), 1.0)

    def rates(
        self, agents: Sequence[str] | pa.Array, teams: Sequence[str] | pa.Array, feature: str
    ) -> Floats:
        """Rates of one feature for rows of (agent, team)."""
        return self.lookup(agents, teams).rates(feature)

    def lookup(
        self, agents: Sequence[str] | pa.Array, teams: Sequence[str] | pa.Array
    ) -> RateLookup:
        """Rates for many rows, resolved once per distinct (agent, team)."""
        return RateLookup(self, agents, teams)


class RateLookup:
    """The rows' distinct (agent, team) pairs, found once, for every feature's rates."""

    def __init__(
        self,
        baselines: Baselines,
        agents: Sequence[str] | pa.Array,
        teams: Sequence[str] | pa.Array,
    ) -> None:
        self._baselines = baselines
        agent_codes, agent_names = _encode(agents)
        team_codes, team_names = _encode(teams)
        pairs = agent_codes * max(len(team_names), 1) + team_codes
        self._pairs: list[tuple[str, str]] = []
        self._inverse = np.zeros(0, dtype=np.int64)
        if pairs.size:
            uniq, self._inverse = np.unique(pairs, return_inverse=True)
            width = max(len(team_names), 1)
            self._pairs = [(agent_names[p // width], team_names[p % width]) for p in uniq.tolist()]

    def rates(self, feature: str) -> Floats:
        """One rate per row."""
        return self._per_row(lambda agent, team: self._baselines.rate(agent, team, feature))

    def team_rates(self, feature: str) -> Floats:
        """The team's rate per row."""
        return self._per_row(lambda _, team: self._baselines.team_rate(team, feature))

    def shares(self, ratio: Ratio) -> Floats:
        """One usual share per row."""
        return self._per_row(lambda agent, team: self._baselines.share(agent, team, ratio))

    def _per_row(self, value: Callable[[str, str], float]) -> Floats:
        """``value(agent, team)`` of each row, computed once per distinct pair."""
        if not self._pairs:
            return np.zeros(0)
        values = [value(agent, team) for agent, team in self._pairs]
        found: Floats = np.asarray(values, dtype=np.float64)[self._inverse]
        return found


def _encode(keys: Sequence[str] | pa.Array) -> tuple[Ints, list[str]]:
    """Each key's index in the list of distinct keys (Arrow's dictionary encoding)."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    elif not isinstance(keys, pa.Array):
        keys = pa.array(keys, pa.string())
    encoded = keys.dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, [str(name) for name in encoded.dictionary.to_pylist()]


def _rates_by(
    keys: Sequence[str] | pa.Array, columns: Mapping[str, Floats]
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Per key and feature: the mean after dropping values above the 90th percentile,
    never below the median (:func:`trimmed_rates`); and how many rows each key has."""
    codes, names = _encode(keys)
    rates = {
        feature: trimmed_rates(codes, len(names), values) for feature, values in columns.items()
    }
    sizes = np.bincount(codes, minlength=len(names)).tolist()
    per_key = {
        name: {feature: float(found[i]) for feature, found in rates.items()}
        for i, name in enumerate(names)
    }
    return per_key, dict(zip(names, sizes, strict=True))


def trimmed_rates(codes: Ints, groups: int, values: Floats, trim: float = _TRIM) -> Floats:
    """Per group (``codes`` in ``[0, groups)``): the mean of the values at or below the
    group's ``trim`` quantile, never below its median; quantiles interpolated as DuckDB's
    ``quantile_cont`` (and numpy's default) do. 0 for an empty group.

    Values are counts (small non-negative integers): a histogram per group replaces a sort
    per group and feature; other values take a sort (same result)."""
    counts = values.astype(np.int64)
    if counts.size == 0:
        return np.zeros(groups)
    if counts.min() < 0 or not np.array_equal(counts, values):
        return _sorted_rates(codes, groups, values, trim)
    top = int(counts.max()) + 1
    if groups * top > _HISTOGRAM_CELLS:
        return _sorted_rates(codes, groups, values, trim)
    hist = np.bincount(codes * top + counts, minlength=groups * top).reshape(groups, top)
    below = np.cumsum(hist, axis=1)  # values at or below each count
    sizes = below[:, -1]

    def at(rank: Ints) -> Ints:  # the value of the given rank (0-based) in each group
        found: Ints = (below <= rank[:, None]).sum(axis=1)
        return found

    median, cut = (_interpolate(at, sizes, q) for q in (0.5, trim))
    kept = np.arange(top)[None, :] <= np.floor(cut)[:, None]
    total = (hist * np.arange(top)[None, :] * kept).sum(axis=1)
    kept_n = (hist * kept).sum(axis=1)
    mean = np.divide(total, kept_n, out=np.zeros(groups), where=kept_n > 0)
    found: Floats = np.where(sizes > 0, np.maximum(mean, median), 0.0)
    return found


def _sorted_rates(codes: Ints, groups: int, values: Floats, trim: float) -> Floats:
    order = np.lexsort((values, codes))
    ordered = values[order]
    sizes = np.bincount(codes, minlength=groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def at(rank: Ints) -> Floats:
        found: Floats = ordered[np.minimum(starts + rank, max(ordered.size - 1, 0))]
        return found

    median, cut = (_interpolate(at, sizes, q) for q in (0.5, trim))
    group_of = codes[order]
    kept = ordered <= cut[group_of]
    total = np.bincount(group_of, weights=np.where(kept, ordered, 0.0), minlength=groups)
    kept_n = np.bincount(group_of, weights=kept.astype(np.float64), minlength=groups)
    mean = np.divide(total, kept_n, out=np.zeros(groups), where=kept_n > 0)
    found: Floats = np.where(sizes > 0, np.maximum(mean, median), 0.0)
    return found


def _interpolate(at: Callable[[Ints], Any], sizes: Ints, q: float) -> Floats:
    """``quantile_cont``: the values of ranks ``floor(h)`` and ``ceil(h)``, ``h = (n-1)q``,
    linearly interpolated."""
    position = np.maximum(sizes - 1, 0) * q
    low = np.floor(position).astype(np.int64)
    high = np.ceil(position).astype(np.int64)
    lo = np.asarray(at(low), dtype=np.float64)
    hi = np.asarray(at(high), dtype=np.float64)
    found: Floats = lo + (hi - lo) * (position - low)
    return found


def fit_baselines(
    agents: Sequence[str] | pa.Array,
    teams: Sequence[str] | pa.Array,
    columns: Mapping[str, Floats],
    *,
    min_history: int,
    floor: float = HOUR_FLOOR,
) -> Baselines:
    """Baselines from feature rows (one row per agent and active window)."""
    counted = {f: columns[f] for f in BASELINE_COLUMNS}
    agent_rates, history = _rates_by(agents, counted)
    team_rates, _ = _rates_by(teams, counted)
    return Baselines(
        agent_rates=agent_rates,
        team_rates=team_rates,
        history=history,
        min_history=min_history,
        floor=floor,
    )


#: The misuse signals an honest workflow can show every day (reviews without tickets,
#: sibling accounts under one ticket, a lead's reviews): learnt as habits. Context
#: (volume, new customers, sweeps, off shift) is not: it only adds to misuse, and a
#: habit of it would slow the first hour of a sweep (new customers every day are the
#: norm of any team).
HABIT_SIGNALS: tuple[str, ...] = (
    "unjustified_customers", "other_ticket_customers", "closed_ticket_customers",
    "not_assigned_customers", "sensitive_unjustified_customers", "unjustified_reveals",
    "sensitive_reveals", "new_unjustified_customers",
)  # fmt: skip
#: A habit is shown on at least this share of the active days of every week of history.
HABIT_SHARE = 0.6
#: ... over at least this many active days (a first week's).
HABIT_MIN_DAYS = 4
_WEEK_US = 7 * 86_400_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Habits:
    """Stable habits: what an agent, or its whole team, has done on most working days of
    every week since its history began, and how much of it a day.

    A habit raises the rate the agent is held to, day and hour, to the habit's usual
    amount (:func:`hourly_habits`: in an hour, the mean over the hours it was shown): a
    billing-assurance team reviewing a dozen accounts a day without tickets does it in
    an hour or two, which against an hourly rate of the other hours is an alarm every day. The
    same behaviour appearing suddenly is no habit: a week without it (an insider's first
    week) rules it out, and so does a week of history where it was rare. A team's habit
    (most of the team's agent-days, every week) counts for each member, new hires too.
    What exceeds the habit's amount is judged as before."""

    agents: Mapping[str, Mapping[str, float]]
    teams: Mapping[str, Mapping[str, float]]

    def amount(self, agent: str, team: str, feature: str) -> float:
        """The habitual daily amount of ``feature`` for ``agent`` (0 without a habit)."""
        return max(
            self.agents.get(agent, {}).get(feature, 0.0),
            self.teams.get(team, {}).get(feature, 0.0),
        )


def learn_habits(
    agents: Sequence[str] | pa.Array,
    teams: Sequence[str] | pa.Array,
    buckets: Ints,
    columns: Mapping[str, Floats],
) -> Habits:
    """Habits from day rows (one per agent and active day): per agent and per team, the
    signals shown on at least :data:`HABIT_SHARE` of the active days of every week of the
    history (weeks with fewer than two active days are not judged), over at least
    :data:`HABIT_MIN_DAYS` days; the amount is the mean over the days it was shown."""
    if buckets.size == 0:
        return Habits(agents={}, teams={})
    weeks = (buckets - buckets.min()) // _WEEK_US
    return Habits(
        agents=_habits_by(agents, weeks, columns), teams=_habits_by(teams, weeks, columns)
    )


def hourly_habits(
    habits: Habits,
    agents: Sequence[str] | pa.Array,
    teams: Sequence[str] | pa.Array,
    columns: Mapping[str, Floats],
) -> Habits:
    """The same habits with their amount in an hour (hour rows: one per agent and active
    hour): the mean over the hours each was shown. A lead's daily review done in one
    burst keeps its dozen; three lookups a day spread over the shift become one an hour,
    so the first hour of a sweep still stands out against them."""
    return Habits(
        agents=_hour_amounts(habits.agents, agents, columns),
        teams=_hour_amounts(habits.teams, teams, columns),
    )


def _hour_amounts(
    daily: Mapping[str, Mapping[str, float]],
    keys: Sequence[str] | pa.Array,
    columns: Mapping[str, Floats],
) -> dict[str, dict[str, float]]:
    if not daily:
        return {}
    codes, names = _encode(keys)
    index = {name: i for i, name in enumerate(names)}
    found: dict[str, dict[str, float]] = {}
    for feature in {f for amounts in daily.values() for f in amounts}:
        values = columns[feature]
        shown = values > 0
        total = np.bincount(codes, weights=np.where(shown, values, 0.0), minlength=len(names))
        hours = np.bincount(codes, weights=shown.astype(np.float64), minlength=len(names))
        for key, amounts in daily.items():
            i = index.get(key)
            if feature in amounts and i is not None and hours[i] > 0:
                found.setdefault(key, {})[feature] = float(total[i] / hours[i])
    return found


def _habits_by(
    keys: Sequence[str] | pa.Array, weeks: Ints, columns: Mapping[str, Floats]
) -> dict[str, dict[str, float]]:
    codes, names = _encode(keys)
    groups, width = len(names), int(weeks.max()) + 1
    cells = codes * width + weeks
    days = np.bincount(cells, minlength=groups * width).reshape(groups, width)
    total_days = days.sum(axis=1)
    judged = days >= 2
    found: dict[str, dict[str, float]] = {}
    for feature, values in columns.items():
        shown = (values > 0).astype(np.float64)
        shown_days = np.bincount(cells, weights=shown, minlength=groups * width).reshape(
            groups, width
        )
        share = np.divide(shown_days, days, out=np.zeros_like(shown_days), where=days > 0)
        habit = (
            np.all(~judged | (share >= HABIT_SHARE), axis=1)
            & judged.any(axis=1)
            & (total_days >= HABIT_MIN_DAYS)
        )
        if not habit.any():
            continue
        amount = np.bincount(codes, weights=values * shown, minlength=groups) / np.maximum(
            shown_days.sum(axis=1), 1
        )
        for i in np.flatnonzero(habit).tolist():
            found.setdefault(names[i], {})[feature] = float(amount[i])
    return found


def surprise(observed: Floats, rate: Floats) -> Floats:
    """``-log10 P(X >= observed)`` for ``X ~ Poisson(rate)``: 0 for nothing unusual, 2 for
    one hour in a hundred, capped at 12."""
    tail = poisson.sf(observed - 1, rate)
    bits = -np.log10(np.clip(tail, 1e-12, 1.0))
    return np.where(observed > rate, bits, 0.0)


def share_surprise(part: Floats, whole: Floats, share: Floats) -> Floats:
    """``-log10 P(X >= part)`` for ``X ~ Binomial(whole, share)``: how unlikely that many
    of ``whole`` requests are, say, denied for an agent whose usual share is ``share``;
    0 at or below the usual share, capped at 12."""
    tail = binom.sf(part - 1, whole, share)
    bits = -np.log10(np.clip(tail, 1e-12, 1.0))
    return np.where((whole > 0) & (part > whole * share), bits, 0.0)
