"""The customer's access log at a glance: accesses per day, who accessed and why, what
was seen in clear; every access concerning the customer (its own, and the searches that
listed it, which showed its name), read in one pass of grouped rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import orjson
from sqlalchemy import select

from vigile.model.times import from_micros
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["AccessSummary", "access_summary"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessSummary:
    """Counts over every access concerning one customer."""

    total: int
    denied: int
    without_ticket: int  # allowed without a ticket
    daily: tuple[tuple[date, int], ...]  # every day from the first to the last
    agents: tuple[tuple[str, int], ...]  # most first
    reasons: tuple[tuple[str, int], ...]
    in_clear: tuple[tuple[str, int], ...]  # field, accesses that returned it in clear


def access_summary(store: Store, customer: str) -> AccessSummary:
    """The summary of every access concerning ``customer``."""
    a, r = t.accesses, t.search_results
    keys = (a.c.time_us, a.c.agent, a.c.reason, a.c.ticket, a.c.outcome, a.c.fields)
    own = select(*keys).where(a.c.customer == customer)
    listed = select(*keys).join(r, r.c.access_seq == a.c.seq).where(r.c.customer == customer)
    days: Counter[date] = Counter()
    agents: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    fields: Counter[str] = Counter()
    denied = unticketed = 0
    with connect(store.engine) as conn:
        for query, search in ((own, False), (listed, True)):
            for time_us, agent, reason, ticket, outcome, clear in conn.execute(query):
                days[from_micros(time_us).date()] += 1
                agents[agent] += 1
                reasons[(reason or "none").replace("_", " ")] += 1
                if outcome != "allowed":
                    denied += 1
                    continue
                unticketed += ticket is None
                seen = ["customer.name"] if search else orjson.loads(clear)
                fields.update(seen)
        total = sum(days.values())
    return AccessSummary(
        total=total,
        denied=denied,
        without_ticket=unticketed,
        daily=_every_day(days),
        agents=_largest(agents),
        reasons=_largest(reasons),
        in_clear=_largest(fields),
    )


def _largest(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10])


def _every_day(days: Counter[date]) -> tuple[tuple[date, int], ...]:
    if not days:
        return ()
    first, last = min(days), max(days)
    span = (last - first).days + 1
    if span > 366:  # a long history: the last year
        first = date.fromordinal(last.toordinal() - 365)
        span = 366
    return tuple(
        (date.fromordinal(first.toordinal() + n), days[date.fromordinal(first.toordinal() + n)])
        for n in range(span)
    )
