"""Velocity limits: distinct customers and reveals per agent per hour.

Counted in memory over a sliding hour, seeded from the store the first time an agent
is seen (so a restart does not reset anyone's count). Limits come from the settings,
with team overrides. A request holds its place from the check until its access is
recorded (:meth:`Velocity.reserve`, :meth:`Velocity.settle`): parallel requests of one
agent cannot all pass the check before any of them is counted.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigile.errors import ConfigError

__all__ = ["Hold", "Limits", "Velocity", "parse_team_limits"]

WINDOW = timedelta(hours=1)
#: ``(time, customer, reveal)`` of an agent's allowed accesses in the last hour.
History = Iterable[tuple[datetime, str | None, bool]]


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
    recorded (or not): the customer it may add, and whether it is a reveal."""

    agent: str
    customer: str | None
    reveal: bool


@dataclass
class _Window:
    customers: dict[str, datetime] = field(default_factory=dict)
    reveals: deque[datetime] = field(default_factory=deque)
    # Requests checked but not yet settled: they count as if allowed, so that parallel
    # requests cannot all pass the same check before any of them is counted.
    held: Counter[str] = field(default_factory=Counter)
    held_reveals: int = 0

    def prune(self, now: datetime) -> None:
        since = now - WINDOW
        for customer in [c for c, seen in self.customers.items() if seen <= since]:
            del self.customers[customer]
        while self.reveals and self.reveals[0] <= since:
            self.reveals.popleft()

    def distinct(self) -> int:
        return len(self.customers) + sum(1 for c in self.held if c not in self.customers)


class Velocity:
    """Sliding-hour counters per agent."""

    def __init__(
        self,
        default: Limits,
        teams: dict[str, Limits],
        history: Callable[[str, datetime], History],
    ) -> None:
        self.default = default
        self.teams = teams
        self._history = history
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def limits_of(self, team: str | None) -> Limits:
        return self.teams.get(team or "", self.default)

    def reserve(
        self, agent: str, team: str | None, customer: str | None, *, reveal: bool, now: datetime
    ) -> str | Hold:
        """Check a request against the limits and, when it is within them, hold its place
        (it counts from now on, for every other request); returns the limit it would
        exceed (``customers``, ``reveals``) or the :class:`Hold`, which the caller must
        :meth:`settle` whatever happens next."""
        limits = self.limits_of(team)
        with self._lock:
            window = self._window(agent, now)
            window.prune(now)
            known = customer is None or customer in window.customers or customer in window.held
            if not known and window.distinct() >= limits.customers:
                return "customers"
            if reveal and len(window.reveals) + window.held_reveals >= limits.reveals:
                return "reveals"
            if customer is not None:
                window.held[customer] += 1
            window.held_reveals += reveal
        return Hold(agent=agent, customer=customer, reveal=reveal)

    def settle(self, hold: Hold, *, counted: bool, now: datetime) -> None:
        """End a hold: the access was allowed and recorded (``counted``), or not."""
        with self._lock:
            window = self._window(hold.agent, now)
            if hold.customer is not None:
                window.held[hold.customer] -= 1
                if window.held[hold.customer] <= 0:
                    del window.held[hold.customer]
            window.held_reveals -= hold.reveal
            if counted:
                self._note(window, hold.customer, hold.reveal, now)

    def exceeded(
        self, agent: str, team: str | None, customer: str | None, *, reveal: bool, now: datetime
    ) -> str | None:
        """Which limit this request would exceed (``customers``, ``reveals``), if any,
        without holding a place (a check for display; decisions :meth:`reserve`)."""
        outcome = self.reserve(agent, team, customer, reveal=reveal, now=now)
        if isinstance(outcome, Hold):
            self.settle(outcome, counted=False, now=now)
            return None
        return outcome

    def note(self, agent: str, customer: str | None, *, reveal: bool, now: datetime) -> None:
        """Count an allowed access."""
        with self._lock:
            self._note(self._window(agent, now), customer, reveal, now)

    def _window(self, agent: str, now: datetime) -> _Window:
        window = self._windows.get(agent)
        if window is None:
            window = self._windows[agent] = _Window()
            for time, customer, reveal in self._history(agent, now - WINDOW):
                self._note(window, customer, reveal, time)
        return window

    @staticmethod
    def _note(window: _Window, customer: str | None, reveal: bool, now: datetime) -> None:
        if customer is not None:
            window.customers[customer] = max(now, window.customers.get(customer, now))
        if reveal:
            window.reveals.append(now)
