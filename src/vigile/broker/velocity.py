"""Velocity limits: distinct customers and reveals per agent per hour.

Counted in memory over a sliding hour, and kept in step with the store: each check first
folds in the agent's allowed accesses stored since the last one it saw (by ``seq``), so
accesses recorded by another broker process, or before a restart, count here too; the
accesses this process recorded itself are known by id and not counted twice. Limits come
from the settings, with team overrides. A request holds its place from the check until
its access is recorded (:meth:`Velocity.reserve`, :meth:`Velocity.settle`): parallel
requests of one process cannot all pass the check before any of them is counted. Across
processes, requests in flight in the others at that instant are not seen until recorded.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigile.errors import ConfigError

__all__ = ["Hold", "Limits", "Stored", "Velocity", "parse_team_limits"]

WINDOW = timedelta(hours=1)
#: ``(seq, id, time, customer, reveal)`` of an agent's allowed access as stored (customer
#: ``None`` when the access reached no customer's data: a search, a grant request).
Stored = tuple[int, str, datetime, str | None, bool]


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Per hour: distinct customers reached, reveals obtained."""

    customers: int
    reveals: int


def parse_team_limits(text: str) -> dict[str, Limits]:
    """``team=customers/reveals,...`` (``VIGILE_BROKER_VELOCITY_TEAMS``)."""
    limits: dict[str, Limits] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        team, _, values = item.partition("=")
        customers, _, reveals = values.partition("/")
        if not (team and customers.isdigit() and reveals.isdigit()):
            raise ConfigError(
                f"VIGILE_BROKER_VELOCITY_TEAMS: expected team=customers/reveals, got {item!r}"
            )
        limits[team.strip()] = Limits(customers=int(customers), reveals=int(reveals))
    return limits


@dataclass(frozen=True, slots=True)
class Hold:
    """A place a request keeps in its agent's window from the check until its access is
    recorded (or not): the customer it may add, whether it is a reveal, and the id its
    access will be stored under (so that reading it back does not count it again)."""

    agent: str
    customer: str | None
    reveal: bool
    access: str


@dataclass
class _Window:
    customers: dict[str, datetime] = field(default_factory=dict)
    reveals: deque[datetime] = field(default_factory=deque)
    # Requests checked but not yet settled: they count as if allowed, so that parallel
    # requests cannot all pass the same check before any of them is counted.
    held: Counter[str] = field(default_factory=Counter)
    held_reveals: int = 0
    #: The store's accesses up to this ``seq`` are counted (-1: none read yet).
    seq: int = -1
    #: Ids of the accesses this process counts itself, and when: skipped when read back.
    own: dict[str, datetime] = field(default_factory=dict)

    def prune(self, now: datetime) -> None:
        since = now - WINDOW
        for customer in [c for c, seen in self.customers.items() if seen <= since]:
            del self.customers[customer]
        while self.reveals and self.reveals[0] <= since:
            self.reveals.popleft()
        # Ids go in as requests are checked, so the oldest come first: stop at a recent one
        # (a request of a slower thread is forgotten a moment later, never too early).
        while self.own:
            access, seen = next(iter(self.own.items()))
            if seen > since:
                break
            del self.own[access]

    def fold(self, stored: Iterable[Stored]) -> None:
        """Count the store's accesses after :attr:`seq` that this process did not count
        itself. Readers may overlap (two requests read the same rows): each row counts
        once, in ``seq`` order."""
        for seq, access, time, customer, reveal in sorted(stored):
            if seq <= self.seq:
                continue
            self.seq = seq
            if self.own.pop(access, None) is None:
                self.note(customer, reveal, time)

    def note(self, customer: str | None, reveal: bool, time: datetime) -> None:
        if customer is not None:
            self.customers[customer] = max(time, self.customers.get(customer, time))
        if reveal:
            self.reveals.append(time)

    def distinct(self) -> int:
        return len(self.customers) + sum(1 for c in self.held if c not in self.customers)


class Velocity:
    """Sliding-hour counters per agent, kept in step with the store by the caller: read
    the agent's allowed accesses stored after :meth:`read_after` (within the last hour),
    then :meth:`reserve` with them."""

    def __init__(
        self, default: Limits, teams: dict[str, Limits], *, ai: Limits | None = None
    ) -> None:
        self.default = default
        self.teams = teams
        self.ai = ai  # AI agents' own ceiling (the lower of it and their team's)
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def limits_of(self, team: str | None, *, ai: bool = False) -> Limits:
        limits = self.teams.get(team or "", self.default)
        if ai and self.ai is not None:
            return Limits(
                customers=min(limits.customers, self.ai.customers),
                reveals=min(limits.reveals, self.ai.reveals),
            )
        return limits

    def read_after(self, agent: str) -> int:
        """The ``seq`` after which the agent's stored accesses are still to be counted
        (-1: none read yet, so the whole last hour)."""
        with self._lock:
            window = self._windows.get(agent)
            return -1 if window is None else window.seq

    def reserve(
        self,
        agent: str,
        team: str | None,
        customer: str | None,
        *,
        reveal: bool,
        now: datetime,
        access: str,
        stored: Iterable[Stored] = (),
        ai: bool = False,
    ) -> str | Hold:
        """Count ``stored`` (the agent's allowed accesses read from the store after
        :meth:`read_after`), then check a request against the limits and, when it is
        within them, hold its place (it counts from now on, for every other request);
        returns the limit it would exceed (``customers``, ``reveals``) or the
        :class:`Hold`, which the caller must :meth:`settle` whatever happens next.
        ``access``: the id the request's access will be stored under; ``ai``: the agent
        is an AI agent (held to the lower of its team's and the AI limits)."""
        limits = self.limits_of(team, ai=ai)
        with self._lock:
            window = self._windows.setdefault(agent, _Window())
            window.fold(stored)
            window.prune(now)
            known = customer is None or customer in window.customers or customer in window.held
            if not known and window.distinct() >= limits.customers:
                return "customers"
            if reveal and len(window.reveals) + window.held_reveals >= limits.reveals:
                return "reveals"
            if customer is not None:
                window.held[customer] += 1
            window.held_reveals += reveal
            window.own[access] = now  # before it is recorded: a reader may see it at once
        return Hold(agent=agent, customer=customer, reveal=reveal, access=access)

    def settle(self, hold: Hold, *, counted: bool, now: datetime) -> None:
        """End a hold: the access was allowed and recorded (``counted``), or not."""
        with self._lock:
            window = self._windows.setdefault(hold.agent, _Window())
            if hold.customer is not None:
                window.held[hold.customer] -= 1
                if window.held[hold.customer] <= 0:
                    del window.held[hold.customer]
            window.held_reveals -= hold.reveal
            if counted:
                window.note(hold.customer, hold.reveal, now)
            else:  # denied or not recorded: it will never be read back
                window.own.pop(hold.access, None)
