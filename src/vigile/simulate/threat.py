"""The interface of scenarios and attacks, and what they share.

A :class:`Scenario` is registered by name. Given the period it says when its attack
happens (:meth:`Scenario.window`, which refuses a period too short for it) and, given the
organisation, which attacks to run (:meth:`Scenario.plan`). An :class:`Attack` is a frozen,
picklable description; each day a worker asks it to act, handing it an emitter whose
records are marked as the attack's and, when the victim works that day, the victim's own
day (so attacks can hide inside real sessions and tickets).
"""

from __future__ import annotations

import inspect
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from vigile.errors import InputError
from vigile.simulate.clock import Calendar
from vigile.simulate.emit import Emitter
from vigile.simulate.organisation import AgentProfile
from vigile.simulate.workday import DayTrace, day_plan
from vigile.simulate.world import World

__all__ = ["Attack", "Scenario", "Window", "choose_victim", "relative_window"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """The days of the period (indices, both included) an attack may act on."""

    first: int
    last: int

    def __contains__(self, day: object) -> bool:
        return isinstance(day, int) and self.first <= day <= self.last

    @property
    def days(self) -> range:
        return range(self.first, self.last + 1)


class Attack(ABC):
    """One attacker's campaign against one agent account.

    ``number`` is unique among a scenario's attacks: the attacker's events and sessions
    are numbered in a slot of their own, past the last agent's.
    """

    number: int
    agent: AgentProfile
    shape: str
    window: Window

    @abstractmethod
    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """Emit the attack's records of ``day``; ``victim`` is the victim's day, if worked."""


class Scenario(ABC):
    """A named situation to simulate: none, one or several attacks on top of normal work.

    Subclasses set :attr:`name` and :attr:`real_world`, and document in their docstring
    what happens and which signals a support organisation's data would show.
    """

    name: str
    real_world: str = ""
    ai_agents: int = 0  # AI agents the scenario needs in the organisation, at least

    @property
    def description(self) -> str:
        """The first paragraph of the scenario's docstring."""
        doc = inspect.getdoc(self) or self.name
        return doc.split("\n\n")[0].replace("\n", " ")

    @abstractmethod
    def window(self, calendar: Calendar) -> Window | None:
        """When the attack happens; InputError when ``calendar`` cannot hold it."""

    @abstractmethod
    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        """The attacks to run in ``world``; InputError when the organisation cannot host them."""


def relative_window(
    name: str, calendar: Calendar, *, history: int, shortest: int, longest: int
) -> Window:
    """A window after ``history`` quiet days (a third of the period if longer).

    Detection compares an agent with their own past, so every attack leaves at least
    ``history`` normal days before it; it lasts ``longest`` days when the period allows,
    and no fewer than ``shortest``.
    """
    first = max(history, calendar.days // 3)
    last = min(first + longest, calendar.days) - 1
    if last - first + 1 < shortest:
        need = history + shortest
        raise InputError(
            f"scenario {name!r} needs at least {need} days ({history} days of normal "
            f"history, then at least {shortest} days of attack); got days={calendar.days}"
        )
    return Window(first=first, last=last)


def _works_in(world: World, agent: AgentProfile, window: Window) -> int:
    return sum(day_plan(world, agent, day) is not None for day in window.days)


def choose_victim(
    world: World,
    window: Window,
    rng: random.Random,
    preferred: tuple[AgentProfile, ...],
    *,
    taken: frozenset[int] = frozenset(),
) -> AgentProfile:
    """A preferred agent who works during ``window`` (anyone who does, failing that)."""
    pools = (preferred, world.org.agents)
    for pool in pools:
        candidates = [a for a in pool if a.index not in taken]
        rng.shuffle(candidates)
        for agent in candidates[:50]:
            if _works_in(world, agent, window):
                return agent
    raise InputError("no agent works during the attack window: simulate more agents or more days")
