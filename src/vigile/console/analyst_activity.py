"""What the analyst's agent page reads from the store: an agent's accesses per hour (clear,
masked, denied), the hours its alert's evidence falls in, and its sign-ins. Counts and
metadata only, never customer data; the grouping is SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, literal, or_, select

from vigile.model.times import from_micros, to_micros
from vigile.policy.masking import SENSITIVE_FIELDS
from vigile.render.charts import HourCounts, SigninMark
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "HOUR_US",
    "SignInRow",
    "activity_span",
    "day_floor",
    "evidence_hours",
    "hourly_accesses",
    "signins",
]

HOUR_US = 3_600_000_000
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, kw_only=True, slots=True)
class SignInRow:
    """One sign-in of the agent, as the page lists it."""

    time: datetime
    outcome: str
    ip: str
    country: str | None
    device: str | None
    mfa: str | None

    def mark(self) -> SigninMark:
        return SigninMark(time=self.time, country=self.country, failed=self.outcome != "success")


def hourly_accesses(store: Store, agent: str, since: datetime, until: datetime) -> list[HourCounts]:
    """The agent's accesses per hour in ``[since, until)``: allowed with sensitive data in
    clear (a field masked by default, :data:`~vigile.policy.SENSITIVE_FIELDS`: revealed or
    under a grant), allowed with sensitive data masked or none shown, and denied."""
    a = t.accesses
    hour = (a.c.time_us - a.c.time_us % HOUR_US).label("hour")
    sensitive = or_(*(a.c.fields.like(_quoted(name), escape="\\") for name in SENSITIVE_FIELDS))
    kind = case(
        (a.c.outcome != "allowed", literal("denied")),
        (sensitive, literal("clear")),
        else_=literal("masked"),
    ).label("kind")
    query = (
        select(hour, kind, func.count().label("n"))
        .where(a.c.agent == agent, a.c.time_us >= to_micros(since), a.c.time_us < to_micros(until))
        .group_by(hour, kind)
    )
    folded: dict[int, dict[str, int]] = {}
    with connect(store.engine) as conn:
        for row in conn.execute(query):
            folded.setdefault(int(row.hour), {})[str(row.kind)] = int(row.n)
    return [HourCounts(hour=from_micros(us), **kinds) for us, kinds in sorted(folded.items())]


def evidence_hours(store: Store, evidence: Sequence[str]) -> set[datetime]:
    """The hours the given events (an alert's evidence) fall in."""
    found: set[datetime] = set()
    with connect(store.engine) as conn:
        for table in (t.accesses, t.signins):
            for ids in _chunks(evidence):
                times = conn.execute(select(table.c.time_us).where(table.c.id.in_(ids)))
                found.update(from_micros(us - us % HOUR_US) for (us,) in times)
    return found


def signins(
    store: Store,
    agent: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[SignInRow]:
    """The agent's sign-ins, newest first (within ``[since, until)`` when given)."""
    s = t.signins
    query = select(s).where(s.c.agent == agent).order_by(s.c.time_us.desc()).limit(limit)
    if since is not None:
        query = query.where(s.c.time_us >= to_micros(since))
    if until is not None:
        query = query.where(s.c.time_us < to_micros(until))
    with connect(store.engine) as conn:
        return [
            SignInRow(
                time=from_micros(row.time_us),
                outcome=row.outcome,
                ip=row.ip,
                country=row.country,
                device=row.device,
                mfa=row.mfa,
            )
            for row in conn.execute(query)
        ]


def activity_span(store: Store, agent: str) -> tuple[datetime, datetime] | None:
    """The first and last access or sign-in of the agent, if it has any."""
    bounds = []
    with connect(store.engine) as conn:
        for table in (t.accesses, t.signins):
            row = conn.execute(
                select(func.min(table.c.time_us), func.max(table.c.time_us)).where(
                    table.c.agent == agent
                )
            ).first()
            if row is not None and row[0] is not None:
                bounds.append((int(row[0]), int(row[1])))
    if not bounds:
        return None
    return from_micros(min(b[0] for b in bounds)), from_micros(max(b[1] for b in bounds))


def day_floor(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _quoted(data_field: str) -> str:
    """A LIKE pattern matching ``data_field`` as an item of a stored JSON list."""
    literal_text = data_field.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{literal_text}"%'


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
