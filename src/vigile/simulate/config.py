"""What to simulate, checked up front, and what a simulation produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from vigile.errors import InputError
from vigile.simulate.clock import Calendar
from vigile.simulate.scenarios import SCENARIOS
from vigile.simulate.threat import Window

__all__ = ["MAX_AGENTS", "MAX_AI_AGENTS", "MAX_DAYS", "SimulationConfig", "SimulationResult"]

MAX_DAYS = 3660
MAX_AGENTS = 100_000  # ids pack an actor in 24 bits; far beyond any support floor anyway
_MAX_CUSTOMERS = 10_000_000
_MIN_CUSTOMERS = 30
_MIN_AGENTS = 3  # one per region
MAX_AI_AGENTS = 1_000


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class SimulationConfig:
    """A simulation: which scenario, how big, when, and the seed that makes it repeatable.

    ``ai_agents`` adds AI support agents working through ``vigile mcp`` (none by default:
    the organisation, and every record of a seed, is then exactly as without the option);
    a scenario needing AI agents has at least as many as it asks for.
    ``customers`` defaults to ten per agent. The default start, 2021-05-01, puts the
    ``nobelium`` scenario's second half of May inside any period of 30 days or more.
    Invalid values raise :class:`~vigile.errors.InputError` at construction.
    """

    scenario: str = "baseline"
    seed: int = 0
    days: int = 30
    agents: int = 200
    customers: int | None = None
    start: date = date(2021, 5, 1)
    ai_agents: int = 0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise InputError(f"unknown scenario {self.scenario!r}; known scenarios: {known}")
        _integer("seed", self.seed, 0, 2**63 - 1)
        _integer("days", self.days, 1, MAX_DAYS)
        _integer("agents", self.agents, _MIN_AGENTS, MAX_AGENTS)
        _integer("ai_agents", self.ai_agents, 0, MAX_AI_AGENTS)
        if self.customers is not None:
            _integer("customers", self.customers, _MIN_CUSTOMERS, _MAX_CUSTOMERS)
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise InputError(f"start must be a date, got {self.start!r}")
        self.attack_window()  # a period too short for the scenario fails here, not later

    @property
    def customer_count(self) -> int:
        """How many customers to simulate (ten per agent unless set)."""
        return self.customers if self.customers is not None else 10 * self.agents

    @property
    def ai_agent_count(self) -> int:
        """How many AI agents to simulate: as asked, or as many as the scenario needs."""
        return max(self.ai_agents, SCENARIOS[self.scenario].ai_agents)

    @property
    def calendar(self) -> Calendar:
        """The simulated period."""
        return Calendar(start=self.start, days=self.days)

    def attack_window(self) -> Window | None:
        """The days the scenario's attack covers, or None when it has no attack."""
        return SCENARIOS[self.scenario].window(self.calendar)


@dataclass(frozen=True, kw_only=True, slots=True)
class SimulationResult:
    """What :func:`~vigile.simulate.simulate` wrote.

    ``records`` counts every record of the activity log but the header; ``events`` only
    the timed ones (ticket steps, sign-ins, accesses), the rest being directory records.
    """

    events: int
    records: int
    path: Path
    truth_path: Path
    attacker_events: int
    seconds: float
