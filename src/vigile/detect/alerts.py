"""Alerts: one per agent whose risk reaches a severity, with the reasons in plain language
and the events behind them.

An agent's risk is the most its hour scores sum to within the policy's window; its
evidence is every hour scoring at least ``evidence_hour``, so an alert about a two-week
harvest spans the two weeks, not only its worst day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from vigile.detect.baseline import RATIO_SIGNALS
from vigile.detect.risk import CarriedRisk, RiskPolicy, ScoredHours, Severity, team_part
from vigile.detect.source import DAY_US, HOUR_US
from vigile.model.times import format_rfc3339, from_micros

__all__ = [
    "AgentRisk",
    "Alert",
    "AlertStatus",
    "agent_risks",
    "carry_risks",
    "evidence_days",
    "explain",
    "first_crossing",
]

Ints = npt.NDArray[np.int64]


class AlertStatus(StrEnum):
    """Where an analyst stands on an alert."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    BENIGN = "closed_benign"
    MALICIOUS = "closed_malicious"

    @property
    def closed(self) -> bool:
        """Whether the analyst has concluded."""
        return self in (AlertStatus.BENIGN, AlertStatus.MALICIOUS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    """An agent that looks hijacked or abusive, why, and on which events."""

    agent: str
    severity: Severity
    score: float
    first_us: int
    last_us: int
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    status: AlertStatus = AlertStatus.OPEN
    id: int | None = None

    @property
    def first_seen(self) -> datetime:
        """Time of the earliest evidence."""
        return from_micros(self.first_us)

    @property
    def last_seen(self) -> datetime:
        """Time of the latest evidence."""
        return from_micros(self.last_us)

    def as_json(self) -> dict[str, Any]:
        """The alert in the shape of ``vigile detect --format json``."""
        return {
            "id": self.id,
            "agent": self.agent,
            "severity": self.severity.value,
            "score": round(self.score, 2),
            "first_seen": format_rfc3339(self.first_seen),
            "last_seen": format_rfc3339(self.last_seen),
            "status": self.status.value,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentRisk:
    """An agent's peak risk, when it peaked, and the rows of its evidence hours."""

    agent: str
    risk: float
    peak_us: int
    rows: Ints  # evidence rows
    all_rows: Ints  # every row of the agent, in time order


def _window_sums(
    times: Ints, scores: npt.NDArray[np.float64], window: int, start: float = 0.0
) -> Any:
    """Each row's window sum (the rows of the ``window`` ending at its bucket, up to it);
    ``start``: the running sum of the rows before these (the same floats as summing from
    the first row: the running sum is accumulated in order)."""
    running = np.cumsum(np.concatenate([[start], scores]))
    starts = np.searchsorted(times, times - window + 1, side="left")
    return running[1:] - running[starts]


def _peak(
    times: Ints, scores: npt.NDArray[np.float64], policy: RiskPolicy, *, start: float, since: int
) -> tuple[float, int] | None:
    """The highest risk of the windows ending at a row from ``since`` on, and the earliest
    bucket reaching it (``times`` sorted)."""
    short = _window_sums(times, scores, policy.window_us, start)
    long = _window_sums(times, scores, policy.long_window_us, start)
    sums = np.maximum(short, policy.long_factor * long)
    first = int(np.searchsorted(times, since, side="left"))
    if first == sums.size:
        return None
    peak = first + int(np.argmax(sums[first:]))
    return float(sums[peak]), int(times[peak])


def _agent_ranks(scored: ScoredHours) -> tuple[list[str], Ints]:
    """The agents in order, and each row's agent as its rank in it (integers sort faster
    than strings)."""
    encoded = scored.rows.column("agent").combine_chunks().dictionary_encode()
    names = [str(name) for name in encoded.dictionary.to_pylist()]
    ordered = sorted(names)
    rank = {name: i for i, name in enumerate(ordered)}
    ranks = np.asarray([rank[name] for name in names], dtype=np.int64)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return ordered, ranks[indices] if indices.size else indices


def _by_agent(scored: ScoredHours) -> Iterator[tuple[str, Ints]]:
    """Each agent and its rows in time order (rows of one bucket in table order)."""
    names, agents = _agent_ranks(scored)
    order = np.lexsort((scored.ints("bucket_us"), agents))
    uniq, starts = np.unique(agents[order], return_index=True)
    ends = [*starts[1:], len(order)] if len(order) else []
    for code, lo, hi in zip(uniq.tolist(), starts, ends, strict=True):
        yield names[code], order[lo:hi]


def _higher(
    carried: tuple[float, int] | None, live: tuple[float, int] | None
) -> tuple[float, int] | None:
    """The higher peak; on a tie the carried one (earlier, as ``np.argmax`` keeps)."""
    if carried is None or (live is not None and live[0] > carried[0]):
        return live
    return carried


def agent_risks(scored: ScoredHours, policy: RiskPolicy) -> list[AgentRisk]:
    """Per agent: peak windowed risk and evidence hours (agents with no risk left out).

    The peak is over every window: those the held rows end (from ``carried.until_us``)
    and those ``scored.carried`` folded before their rows were dropped."""
    carried = scored.carried
    buckets = scored.ints("bucket_us")
    found = []
    for agent, rows in _by_agent(scored):
        held = rows[buckets[rows] >= carried.held_from_us]
        live = _peak(
            buckets[held], scored.score[held], policy,
            start=carried.prefix.get(agent, 0.0), since=carried.until_us,
        )  # fmt: skip
        peak = _higher(carried.peaks.get(agent), live)
        evidence = rows[scored.score[rows] >= policy.evidence_hour]
        if peak is not None and peak[0] > 0 and evidence.size:
            found.append(
                AgentRisk(agent=agent, risk=peak[0], peak_us=peak[1], rows=evidence, all_rows=rows)
            )
    return found


def carry_risks(scored: ScoredHours, policy: RiskPolicy, until_us: int) -> CarriedRisk:
    """``scored.carried`` with the windows ending before ``until_us`` folded in, so that
    the rows before ``until_us`` minus the longer window may be dropped (all but the
    evidence: :func:`agent_risks` sums no row before ``held_from_us``).

    ``scored``: every row before ``until_us`` from ``scored.carried.held_from_us`` on
    (rows scoring 0 may be left out: they add nothing, and a window ending at one sums
    no more than the window ending at the row before)."""
    before = scored.carried
    held_from = until_us - max(policy.window_us, policy.long_window_us)
    if until_us <= before.until_us:
        return before
    buckets = scored.ints("bucket_us")
    peaks = dict(before.peaks)
    prefix = dict(before.prefix)
    for agent, rows in _by_agent(scored):
        summed = rows[(buckets[rows] >= before.held_from_us) & (buckets[rows] < until_us)]
        times, scores = buckets[summed], scored.score[summed]
        start = prefix.get(agent, 0.0)
        peak = _higher(
            peaks.get(agent), _peak(times, scores, policy, start=start, since=before.until_us)
        )
        if peak is not None:
            peaks[agent] = peak
        dropped = scores[times < held_from]
        if dropped.size:
            prefix[agent] = float(np.cumsum(np.concatenate([[start], dropped]))[-1])
    return CarriedRisk(until_us=until_us, held_from_us=held_from, peaks=peaks, prefix=prefix)


def _total(scored: ScoredHours, rows: Ints, name: str) -> int:
    return int(scored.column(name)[rows].sum())


def _local_time(micros: int, zone: str) -> str:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return from_micros(micros).astimezone(tz).strftime("%H:%M") + " local time"


def _reads(scored: ScoredHours, rows: Ints, exact: Mapping[str, int]) -> str | None:
    t = {n: exact.get(n, _total(scored, rows, n)) for n in (
        "customers", "unjustified_customers", "no_ticket_customers", "other_ticket_customers",
        "not_assigned_customers", "closed_ticket_customers", "sensitive_unjustified_customers",
    )}  # fmt: skip
    if not t["unjustified_customers"]:
        return None
    why = [
        f"{t['no_ticket_customers']} with no ticket" if t["no_ticket_customers"] else "",
        f"{t['other_ticket_customers']} citing another customer's ticket"
        if t["other_ticket_customers"] else "",
        f"{t['not_assigned_customers']} with a ticket not assigned to the agent"
        if t["not_assigned_customers"] else "",
        f"{t['closed_ticket_customers']} with a closed ticket"
        if t["closed_ticket_customers"] else "",
    ]  # fmt: skip
    text = (
        f"requested data of {t['customers']} customers, {t['unjustified_customers']} without a "
        f"valid ticket ({', '.join(w for w in why if w)})"
    )
    if t["sensitive_unjustified_customers"]:
        text += f", {t['sensitive_unjustified_customers']} of those government or enterprise"
    return text


def _signins(scored: ScoredHours, rows: Ints, zone: str) -> str | None:
    names = scored.rows.column("new_country_names")
    countries = sorted({c for i in rows for c in (names[int(i)].as_py() or "").split(",") if c})
    devices = _total(scored, rows, "new_devices")
    parts = []
    if countries:
        parts.append(f"a new country ({', '.join(countries)})")
    if devices:
        parts.append("a new device" if devices == 1 else f"{devices} new devices")
    if _total(scored, rows, "new_addresses") and not parts:
        parts.append("a new address")
    if not parts:
        return None
    times = [t for t in (scored.rows.column("novel_signin_us")[int(i)].as_py() for i in rows) if t]
    when = f" at {_local_time(min(times), zone)}" if times else ""
    return f"signed in from {' and '.join(parts)}{when}"


# Accesses whose log records no justification (Salesforce's page views), judged against
# the agent's open tickets of the customer: said, so an analyst knows a ticket was inferred.
_INFERRED = (
    "1 customer's requests recorded no justification: inferred from an open ticket of "
    "theirs assigned to the agent",
    "{} customers' requests recorded no justification: inferred from open tickets of "
    "theirs assigned to the agent",
)

# Counts are of requests, allowed or denied: behind the broker most of an attacker's are
# refused, and asking is the signal. (singular, plural) for each.
_COUNTED: Mapping[str, tuple[str, str]] = {
    "off_shift_customers": (
        "1 customer requested outside the agent's shift",
        "{} customers requested outside the agent's shift",
    ),
    "unjustified_reveals": (
        "1 contact reveal requested without a valid ticket",
        "{} contact reveals requested without a valid ticket",
    ),
    "sensitive_reveals": (
        "1 contact reveal of a government or enterprise customer requested",
        "{} contact reveals of government or enterprise customers requested",
    ),
    "new_team_customers": (
        "1 customer never handled before by the agent's team",
        "{} customers never handled before by the agent's team",
    ),
    "impossible_travel": (
        "1 sign-in impossibly far from the previous one in the time between",
        "{} sign-ins impossibly far from the previous one in the time between",
    ),
    "address_mismatches": (
        "1 request from an address other than its session's sign-in",
        "{} requests from an address other than their session's sign-in",
    ),
    "exports": ("1 export attempt", "{} export attempts"),
    "break_glass": ("1 break-glass access", "{} break-glass accesses"),
    "sequential_requests": ("", "{} requests stepping through customer ids in order"),
    "concurrent_sessions": (
        "1 session used while another was in use",
        "{} sessions in use at the same time",
    ),
    "failed_signins": ("1 failed sign-in", "{} failed sign-ins"),
}


# Fewer is not worth an analyst's reading: one step from an id to the next is chance.
_AT_LEAST: Mapping[str, int] = {"sequential_requests": 3}


def _signalled(scored: ScoredHours, risk: AgentRisk, name: str) -> bool:
    part = scored.parts.get(name)
    return part is not None and bool(part[risk.rows].sum() > 0)


def _searches(scored: ScoredHours, rows: Ints, risk: AgentRisk) -> str | None:
    if not (_signalled(scored, risk, "searches") or _signalled(scored, risk, "search_initials")):
        return None
    return (
        f"{_total(scored, rows, 'searches')} searches listing "
        f"{_total(scored, rows, 'search_results')} customers, sweeping "
        f"{_total(scored, rows, 'search_initials')} different initials"
    )


# Shares (RATIO_SIGNALS), over the evidence hours where they stood out (one hour in a
# hundred or rarer, a point of surprise beyond the allowance): "{part} of {whole} ... in
# {n} hours" (over whole days an unusual hour's share drowns).
_SHARES: Mapping[str, str] = {
    "denied_ratio": "{} of {} requests denied in {}",
    "sensitive_share": "{} of {} customers requested in {} were government or enterprise",
}


def _shares(scored: ScoredHours, risk: AgentRisk) -> list[str]:
    found = []
    for name, text in _SHARES.items():
        ratio, part = RATIO_SIGNALS[name], scored.parts.get(name)
        if part is None:
            continue
        hours = risk.rows[part[risk.rows] >= ratio.weight]
        if hours.size == 0:
            continue
        counts = (int(scored.column(n)[hours].sum()) for n in (ratio.part, ratio.whole))
        when = "1 hour" if hours.size == 1 else f"{hours.size} hours"
        found.append(text.format(*counts, when))
    return found


def evidence_days(scored: ScoredHours, risk: AgentRisk) -> list[int]:
    """The starts of the days holding the agent's evidence."""
    buckets = scored.ints("bucket_us")
    return sorted(set((buckets[risk.rows] - buckets[risk.rows] % DAY_US).tolist()))


def _days_of(scored: ScoredHours, risk: AgentRisk) -> Ints:
    """The agent's day rows covering its evidence: exact distinct counts per day."""
    buckets = scored.ints("bucket_us")
    widths = scored.ints("width_us")
    candidates = risk.all_rows[widths[risk.all_rows] == DAY_US]
    kept: Ints = candidates[np.isin(buckets[candidates], evidence_days(scored, risk))]
    return kept


def explain(
    scored: ScoredHours, risk: AgentRisk, zone: str, exact: Mapping[str, int] | None = None
) -> tuple[str, ...]:
    """Plain-language reasons from the agent's evidence days, strongest signals first.

    ``exact``: distinct customers over all the evidence days (a customer read on two days
    once); without it, the day rows' counts are summed."""
    rows = _days_of(scored, risk)
    exact = exact or {}
    reasons = [
        _reads(scored, rows, exact),
        _signins(scored, rows, zone),
        _searches(scored, rows, risk),
        *_shares(scored, risk),
    ]
    for name, (one, many) in _COUNTED.items():
        count = exact.get(name, _total(scored, rows, name))
        if _signalled(scored, risk, name) and count >= _AT_LEAST.get(name, 1):
            reasons.append(one if count == 1 else many.format(count))
    inferred = exact.get("inferred_customers", 0)
    if inferred:
        reasons.append(_INFERRED[0] if inferred == 1 else _INFERRED[1].format(inferred))
    widths = scored.column("width_us")
    peak = _peak_hour(scored, risk.rows[widths[risk.rows] == HOUR_US])
    if peak and _signalled(scored, risk, team_part("customers")):
        peak += ", more than the agent's team reads in an hour"
    if peak:
        reasons.append(peak)
    titles = sorted(
        {
            t
            for i in risk.rows
            for t in str(scored.rows.column("rule_titles")[int(i)]).split("|")
            if t
        }
    )
    if titles:
        reasons.append("rules matched: " + "; ".join(titles))
    if "model" in scored.parts and scored.parts["model"][risk.rows].sum() > 0:
        reasons.append("hours the anomaly model finds unusual for this agent")
    return tuple(r for r in reasons if r)


def _peak_hour(scored: ScoredHours, rows: Sequence[int] | Ints) -> str | None:
    customers = scored.column("customers")[rows]
    if customers.size == 0 or customers.max() < 5:
        return None
    return f"up to {int(customers.max())} customers in one hour"


def first_crossing(scored: ScoredHours, agent: str, risk: float, policy: RiskPolicy) -> int | None:
    """The time of the earliest last event by which ``agent``'s risk had reached ``risk``:
    when a detector fed event by event raised it, at the latest.

    A window counts only the rows complete by then (last event no later): a day row
    starts at midnight but holds the whole day, so it neither delays an hour that reached
    the risk on its own nor lends that hour the day's later events."""
    agents = np.array(scored.rows.column("agent").to_pylist(), dtype=object)
    rows = np.flatnonzero(agents == agent)
    if rows.size == 0:
        return None
    buckets = scored.column("bucket_us").astype(np.int64)[rows]
    lasts = scored.column("last_us").astype(np.int64)[rows]
    scores = scored.score[rows]
    for moment in np.unique(lasts):  # sorted: the earliest first
        known = lasts <= moment
        for window, factor in (
            (policy.window_us, 1.0),
            (policy.long_window_us, policy.long_factor),
        ):
            if _peak_sum(buckets[known], scores[known], window) * factor >= risk:
                return int(moment)
    return None


def _peak_sum(buckets: Ints, scores: npt.NDArray[np.float64], window: int) -> float:
    order = np.argsort(buckets, kind="stable")
    sums = _window_sums(buckets[order], scores[order], window)
    return float(sums.max()) if sums.size else 0.0
