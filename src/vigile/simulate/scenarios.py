"""The scenarios ``vigile simulate`` knows, registered by name in one place.

Built-in scenarios go through :func:`register_scenario` exactly as a user's would.
docs/simulator.md describes each one: the real case it models, its signals, its truth.
"""

from __future__ import annotations

import random
from datetime import date

from vigile.errors import InputError
from vigile.simulate.aiagents import PromptInjectionScenario
from vigile.simulate.attacks import (
    AccountTakeover,
    BribedInsider,
    Intruder,
    SearchSweep,
    SessionReplay,
)
from vigile.simulate.clock import Calendar
from vigile.simulate.emit import Place
from vigile.simulate.geography import ATTACKER_HOSTING, COUNTRIES
from vigile.simulate.keys import Purpose, stream
from vigile.simulate.organisation import AgentProfile, random_ip, user_agent
from vigile.simulate.threat import Attack, Scenario, Window, choose_victim, relative_window
from vigile.simulate.workday import browser_on
from vigile.simulate.world import World

__all__ = ["SCENARIOS", "register_scenario"]

SCENARIOS: dict[str, Scenario] = {}
"""Every scenario by name: the built-in ones and those added with :func:`register_scenario`."""


def register_scenario(scenario: Scenario) -> Scenario:
    """Make ``scenario`` available by its name; a name can be registered once."""
    if scenario.name in SCENARIOS:
        raise ValueError(f"a scenario named {scenario.name!r} is already registered")
    SCENARIOS[scenario.name] = scenario
    return scenario


def _rng(world: World, name: str) -> random.Random:
    return stream(world.seed, Purpose.SCENARIO, sum(name.encode()))


def _intruder(
    world: World, rng: random.Random, slot: int, country: str, window: Window
) -> Intruder:
    device = world.mint.device(slot, 0)
    place = COUNTRIES[country]
    places = tuple(
        Place(ip=random_ip(rng, country), country=country, lat=place.lat, lon=place.lon,
              device=device)
        for _ in range(2)
    )  # fmt: skip
    template, version = user_agent(rng)
    browser = browser_on(world, template, version, window.first)
    return Intruder(places=places, user_agent=browser, mfa="push")


def _hosting(rng: random.Random, victim: AgentProfile) -> str:
    return rng.choice([c for c in ATTACKER_HOSTING if c != victim.country])


def _weighted_sample(rng: random.Random, weights: list[float], k: int) -> list[int]:
    # Efraimidis-Spirakis: one pass, heavier items more likely, no repeats.
    keys = sorted(((rng.random() ** (1 / w), i) for i, w in enumerate(weights) if w > 0))
    return [i for _, i in keys[-k:][::-1]]


def _spread(
    rng: random.Random, targets: list[int], window: Window, *, low: int, high: int, quiet: float
) -> tuple[tuple[int, ...], ...]:
    """Targets split over the window's days, ``low``-``high`` a day, some days quiet."""
    days, cursor = [], 0
    for n, _ in enumerate(window.days):
        count = 0 if n and rng.random() < quiet else rng.randint(low, high)
        days.append(tuple(targets[(cursor + i) % len(targets)] for i in range(count)))
        cursor += count
    return tuple(days)


class Baseline(Scenario):
    """A normal support organisation at work, with no attack.

    Everything a detector must not flag: overtime, travel, heavy but legitimate
    workloads, reviews without a ticket, denied requests and failed sign-ins.
    """

    name = "baseline"

    def window(self, calendar: Calendar) -> Window | None:
        return None

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        return ()


class Nobelium(Scenario):
    """An agent account taken over in the second half of May to harvest billing contacts.

    Stolen credentials are used from a rented server abroad on a new device, mostly outside
    the agent's shift, to read billing contacts and subscriptions of hundreds of customers,
    skewed to government and enterprise, without valid tickets, for two weeks, while the
    real agent keeps working normally.
    """

    name = "nobelium"
    real_world = "Nobelium and a cloud provider's support agent, May 2021"

    def window(self, calendar: Calendar) -> Window:
        year = calendar.start.year + (calendar.start > date(calendar.start.year, 5, 16))
        first, last = calendar.index(date(year, 5, 16)), calendar.index(date(year, 5, 29))
        if last >= calendar.days:
            raise InputError(
                f"scenario 'nobelium' happens from {year}-05-16 to {year}-05-29: simulate at "
                f"least {last + 1} days from {calendar.start} (got days={calendar.days}), or "
                "start earlier"
            )
        return Window(first=first, last=last)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        assert window is not None
        rng = _rng(world, self.name)
        preferred = tuple(a for a in world.org.agents if a.tier >= 2 and a.mfa != "webauthn")
        victim = choose_victim(world, window, rng, preferred)
        slot = len(world.org.agents)
        tiers = {"government": 8.0, "enterprise": 4.0, "smb": 0.3}
        weights = [tiers.get(c.tier, 1.0) for c in world.org.customers]
        targets = _weighted_sample(rng, weights, min(600, max(20, len(weights) // 8)))
        return (
            AccountTakeover(
                number=0,
                agent=victim,
                window=window,
                slot=slot,
                intruder=_intruder(world, rng, slot, _hosting(rng, victim), window),
                schedule=_spread(rng, targets, window, low=12, high=40, quiet=0.15),
            ),
        )


class Insider(Scenario):
    """A bribed agent reads high-value customers' contacts, a few a day, low and slow.

    The real agent, on shift, in their own sessions, from their own desk, looks up the
    biggest spenders' contacts and accounts between genuine tickets, citing the ticket they
    are working on (of another customer) or none, for about four weeks.
    """

    name = "bribed_insider"
    real_world = "bribed outsourced support agents at a cryptocurrency exchange, 2025"

    def window(self, calendar: Calendar) -> Window:
        return relative_window(self.name, calendar, history=7, shortest=5, longest=28)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        assert window is not None
        rng = _rng(world, self.name)
        preferred = tuple(a for a in world.org.agents if a.is_contractor and a.tier <= 2)
        victim = choose_victim(world, window, rng, preferred)
        by_spend = sorted(world.org.customers, key=lambda c: (-c.monthly, c.index))
        whales = [c.index for c in by_spend[: max(20, len(by_spend) // 10)]]
        rng.shuffle(whales)
        schedule = _spread(rng, whales, window, low=2, high=6, quiet=0.0)
        return (BribedInsider(number=1, agent=victim, window=window, schedule=schedule),)


class SessionHijack(Scenario):
    """A contractor's live session token replayed from the attacker's address.

    No sign-in: the stolen session of the agent's day is used from a foreign address
    while the token is valid, to read account names and admin contacts of enterprise and
    government customers, for a few days.
    """

    name = "session_hijack"
    real_world = "a support contractor's laptop at an identity provider, January 2022"

    def window(self, calendar: Calendar) -> Window:
        return relative_window(self.name, calendar, history=7, shortest=2, longest=5)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        assert window is not None
        rng = _rng(world, self.name)
        preferred = tuple(a for a in world.org.agents if a.is_contractor)
        victim = choose_victim(world, window, rng, preferred)
        tiers = {"government": 3.0, "enterprise": 3.0, "smb": 0.5}
        weights = [tiers.get(c.tier, 1.0) for c in world.org.customers]
        targets = _weighted_sample(rng, weights, max(10, len(weights) // 50))
        slot = len(world.org.agents) + 2
        return (
            SessionReplay(
                number=2,
                agent=victim,
                window=window,
                intruder=_intruder(world, rng, slot, _hosting(rng, victim), window),
                schedule=_spread(rng, targets, window, low=10, high=25, quiet=0.0),
            ),
        )


class Sweep(Scenario):
    """An internal tool taken over by phone phishing and used to enumerate customers.

    One evening or two, from a home-like address in the agent's own country but on a new
    device, hundreds of scripted searches walk the customer base alphabetically and open
    the accounts of the biggest customers they list.
    """

    name = "search_sweep"
    real_world = "a social network's internal admin tool, July 2020"

    def window(self, calendar: Calendar) -> Window:
        return relative_window(self.name, calendar, history=7, shortest=1, longest=2)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        assert window is not None
        rng = _rng(world, self.name)
        preferred = tuple(a for a in world.org.agents if a.tier == 3)
        victim = choose_victim(world, window, rng, preferred)
        slot = len(world.org.agents) + 3
        # What a script types: each first word followed by each initial, in order.
        typed = sorted({name[: name.find(" ") + 2] for name in world.org.names})
        per_day = -(-len(typed) // len(window.days))
        days = tuple(tuple(typed[i : i + per_day]) for i in range(0, len(typed), per_day))
        return (
            SearchSweep(
                number=3,
                agent=victim,
                window=window,
                slot=slot,
                intruder=_intruder(world, rng, slot, victim.country, window),
                prefixes=days + ((),) * (len(window.days) - len(days)),
            ),
        )


class Mixed(Scenario):
    """Every attack shape at once, each on its own agent and in its own window.

    One file to measure detection on all shapes together, with the organisation's honest
    noise around them: the account takeover in late May, the insider, the replayed session
    and the sweep, as in their own scenarios.
    """

    name = "mixed"
    real_world = "the four cases above in one organisation"
    parts = ("nobelium", "bribed_insider", "session_hijack", "search_sweep")

    def window(self, calendar: Calendar) -> Window:
        windows = [SCENARIOS[part].window(calendar) for part in self.parts]
        spans = [w for w in windows if w is not None]
        return Window(first=min(w.first for w in spans), last=max(w.last for w in spans))

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        attacks: list[Attack] = []
        for part in self.parts:
            scenario = SCENARIOS[part]
            attacks += scenario.plan(world, scenario.window(world.calendar))
        return tuple(attacks)


for _builtin in (
    Baseline(), Nobelium(), Insider(), SessionHijack(), Sweep(), Mixed(), PromptInjectionScenario(),
):  # fmt: skip
    register_scenario(_builtin)
