"""How attackers use a support agent's access: four shapes seen in real incidents.

Each attack only uses what an attacker in that position could: stolen credentials sign in
anew from the attacker's own address and device; a bribed insider works from their own
desk inside their own sessions; a stolen session token is replayed from elsewhere without
any sign-in. What gives them away is what a real organisation's records would show:
addresses, devices, hours, justifications, breadth and choice of customers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from vigile.simulate.customers import SEARCH_PAGE, CustomerProfile
from vigile.simulate.emit import (
    ACCOUNT,
    BILLING,
    CONTACT,
    CUSTOMER,
    REVEAL,
    SUBSCRIPTION,
    Emitter,
    Place,
)
from vigile.simulate.keys import Purpose, stream
from vigile.simulate.organisation import AgentProfile
from vigile.simulate.threat import Attack, Window
from vigile.simulate.workday import REVIEW, SUPPORT, DayTrace
from vigile.simulate.world import World

__all__ = ["AccountTakeover", "BribedInsider", "Intruder", "SearchSweep", "SessionReplay"]

_LOCKBOX = "lockbox_approval_required"


@dataclass(frozen=True, kw_only=True, slots=True)
class Intruder:
    """An outsider's own equipment: addresses, device, browser and the MFA they beat."""

    places: tuple[Place, ...]
    user_agent: str
    mfa: str


def _rng(world: World, number: int, day: int) -> random.Random:
    return stream(world.seed, Purpose.ATTACK, number, day)


def _gap(rng: random.Random, low: int, high: int) -> int:
    """A person's pause between clicks: at least ``low``, ``(low + high) / 2`` on average."""
    return low + int(rng.expovariate(2 / (high - low)))


def _tick(rng: random.Random, low: int, high: int) -> int:
    """A script's pause: regular, between ``low`` and ``high``."""
    return rng.randint(low, high)


@dataclass(frozen=True, slots=True)
class _Pretext:
    """The justification an attacker gives: a ticket (seldom a valid one) and a reason."""

    ticket: str | None
    reason: str

    @classmethod
    def of(cls, ticket: str | None) -> _Pretext:
        return cls(ticket, SUPPORT if ticket else REVIEW)


_REVIEW = _Pretext(None, REVIEW)


def _reveal(out: Emitter, t: int, c: CustomerProfile, contact: str, pretext: _Pretext) -> None:
    # The lockbox stops reveals of government contacts without the customer's approval.
    deny = _LOCKBOX if c.tier == "government" else None
    out.access(t, "contact.reveal", c.id, REVEAL, pretext.ticket, pretext.reason, contact, deny)


def _account(
    out: Emitter, t: int, c: CustomerProfile, pretext: _Pretext, *, tier: int, rng: random.Random
) -> None:
    # Tier-1 agents may not see account e-mail addresses: the tool refuses them at times.
    deny = "insufficient_tier" if tier == 1 and rng.random() < 0.25 else None
    account = c.accounts[int(rng.random() * len(c.accounts))]
    out.access(t, "account.view", c.id, ACCOUNT, pretext.ticket, pretext.reason, account, deny)


def _outside_shift(world: World, agent: AgentProfile, day: int, rng: random.Random) -> int:
    """A start time on ``day`` (UTC), outside the agent's shifts four times out of five."""
    calendar, tz = world.calendar, agent.timezone
    # The local dates around a UTC day: a shift of the day before may end after midnight.
    shifts = [
        (calendar.local(tz, d, agent.start) - 3600, calendar.local(tz, d, agent.end))
        for d in (day - 1, day, day + 1)
    ]
    lowest, highest = calendar.midnight(day), calendar.midnight(day) + 86_400 - 4 * 3600
    in_shift_ok = rng.random() < 0.2
    t = rng.randint(lowest, highest)
    for _ in range(30):
        if in_shift_ok or not any(start <= t <= end for start, end in shifts):
            break
        t = rng.randint(lowest, highest)
    return t


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountTakeover(Attack):
    """Stolen credentials used from the attacker's own machines to harvest billing data."""

    number: int
    agent: AgentProfile
    window: Window
    slot: int
    intruder: Intruder
    schedule: tuple[tuple[int, ...], ...]  # customers read on each day of the window
    shape: str = "account_takeover"

    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """One or two sittings of harvesting, mostly while the real agent is off shift."""
        rng = _rng(world, self.number, day)
        targets = self.schedule[day - self.window.first]
        sittings = 1 if len(targets) < 12 else 2
        half = len(targets) // sittings
        for k in range(sittings if targets else 0):
            batch = targets[k * half : (k + 1) * half if k + 1 < sittings else None]
            t = _outside_shift(world, self.agent, day, rng)
            place = self.intruder.places[0 if rng.random() < 0.8 else -1]
            out.session, out.ip = world.mint.session(day, self.slot, k), place.ip
            out.signin(t, place, user_agent=self.intruder.user_agent, mfa=self.intruder.mfa)
            t += _gap(rng, 40, 300)
            for index in batch:
                # No real ticket: none, or a made-up number the tool does not check.
                made_up = world.mint.ticket(day, self.slot, t % 100_000)
                pretext = _Pretext.of(made_up if rng.random() < 0.3 else None)
                t = self._harvest(out, rng, world.org.customers[index], t, pretext)

    def _harvest(
        self, out: Emitter, rng: random.Random, c: CustomerProfile, t: int, pretext: _Pretext
    ) -> int:
        ticket, reason = pretext.ticket, pretext.reason
        if rng.random() < 0.3:
            out.search(t, c.query, c.results, ticket, reason)
            t += _gap(rng, 5, 40)
        out.access(t, "customer.view", c.id, CUSTOMER, ticket, reason)
        for contact in c.billing:
            t += _gap(rng, 5, 40)
            out.access(t, "contact.view", c.id, CONTACT, ticket, reason, contact)
            if rng.random() < 0.5:
                t += _gap(rng, 3, 20)
                _reveal(out, t, c, contact, pretext)
        for sub, _ in c.subscriptions:
            t += _gap(rng, 5, 40)
            out.access(t, "subscription.view", c.id, SUBSCRIPTION, ticket, reason, sub)
        if rng.random() < 0.3:
            t += _gap(rng, 5, 40)
            out.access(t, "billing.view", c.id, BILLING, ticket, reason)
        return t + _gap(rng, 20, 240)


@dataclass(frozen=True, kw_only=True, slots=True)
class BribedInsider(Attack):
    """The real agent, on shift, at their own desk, reads customers they have no ticket for."""

    number: int
    agent: AgentProfile
    window: Window
    schedule: tuple[tuple[int, ...], ...]
    shape: str = "insider"

    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """A few look-ups slipped between the day's real tickets."""
        if victim is None:
            return
        rng = _rng(world, self.number, day)
        out.ip = victim.plan.place.ip
        for index in self.schedule[day - self.window.first]:
            if victim.tickets:
                cover = rng.choice(victim.tickets)  # a real ticket, of another customer
                t, out.session = rng.randint(cover.assigned + 1, cover.closed - 1), cover.session
                pretext = _Pretext.of(cover.ticket if rng.random() < 0.7 else None)
            else:
                t, out.session, pretext = (
                    victim.plan.start + 900,
                    victim.plan.sessions[0].id,
                    _REVIEW,
                )
            self._look_up(out, rng, world.org.customers[index], t, pretext)

    def _look_up(
        self, out: Emitter, rng: random.Random, c: CustomerProfile, t: int, pretext: _Pretext
    ) -> None:
        ticket, reason = pretext.ticket, pretext.reason
        if rng.random() < 0.4:
            out.search(t, c.query, c.results, ticket, reason)
            t += _gap(rng, 10, 60)
        out.access(t, "customer.view", c.id, CUSTOMER, ticket, reason)
        for contact in (*c.billing, *c.admin):
            t += _gap(rng, 15, 90)
            out.access(t, "contact.view", c.id, CONTACT, ticket, reason, contact)
            if rng.random() < 0.6:
                t += _gap(rng, 5, 30)
                _reveal(out, t, c, contact, pretext)
        if rng.random() < 0.5:
            t += _gap(rng, 15, 90)
            _account(out, t, c, pretext, tier=self.agent.tier, rng=rng)
        t += _gap(rng, 15, 90)
        subscription = c.subscriptions[0][0]
        out.access(t, "subscription.view", c.id, SUBSCRIPTION, ticket, reason, subscription)


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionReplay(Attack):
    """A stolen session token replayed from the attacker's address, with no sign-in."""

    number: int
    agent: AgentProfile
    window: Window
    intruder: Intruder
    schedule: tuple[tuple[int, ...], ...]
    shape: str = "session_hijack"

    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """Reads inside the victim's first session of the day, while its token is valid."""
        if victim is None:
            return
        rng = _rng(world, self.number, day)
        session = victim.plan.sessions[0]
        out.session, out.ip = session.id, self.intruder.places[0].ip
        t = session.start + rng.randint(1800, 4 * 3600)
        for index in self.schedule[day - self.window.first]:
            c = world.org.customers[index]
            out.access(t, "customer.view", c.id, CUSTOMER, None, REVIEW)
            for _ in range(rng.randint(1, 3)):
                t += _gap(rng, 4, 25)
                _account(out, t, c, _REVIEW, tier=self.agent.tier, rng=rng)
            t += _gap(rng, 4, 25)
            out.access(t, "contact.view", c.id, CONTACT, None, REVIEW, c.admin[0])
            if rng.random() < 0.4:
                t += _gap(rng, 3, 15)
                _reveal(out, t, c, c.admin[0], _REVIEW)
            t += _gap(rng, 20, 180)


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchSweep(Attack):
    """An admin tool taken over and used to enumerate customers search after search."""

    number: int
    agent: AgentProfile
    window: Window
    slot: int
    intruder: Intruder
    prefixes: tuple[tuple[str, ...], ...]  # what is typed into the search box, per day
    shape: str = "search_sweep"

    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """An evening of scripted searches, opening the big accounts it finds."""
        rng = _rng(world, self.number, day)
        calendar = world.calendar
        t = calendar.local(self.agent.timezone, day, self.agent.end) + rng.randint(3600, 4 * 3600)
        place = self.intruder.places[0]
        out.session, out.ip = world.mint.session(day, self.slot, 0), place.ip
        out.signin(t, place, user_agent=self.intruder.user_agent, mfa=self.intruder.mfa)
        customers = world.org.customers
        for prefix in self.prefixes[day - self.window.first]:
            t += _tick(rng, 4, 15)
            results = world.org.search(prefix, SEARCH_PAGE)
            out.search(t, prefix, results, None, REVIEW)
            for cid in results:
                c = customers[int(cid[2:])]  # ids number customers in order
                if c.tier != "smb" and rng.random() < 0.3:
                    t += _tick(rng, 3, 12)
                    _account(out, t, c, _REVIEW, tier=self.agent.tier, rng=rng)
