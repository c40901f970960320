"""An agent's working day: sign-in, a queue of tickets, the views each ticket needs.

Two steps, each with its own random stream so either can be replayed alone:
:func:`day_plan` decides whether the agent works and when, from where and in which
sessions (attack generators replay it to hijack a session); :func:`work_day` then fills
the shift with tickets. Every view of customer data is made under an open ticket of that
customer assigned to the agent, except the small share of reviews that real support
teams also do (follow-ups after closing a ticket, with reason ``agent_initiated_review``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import log as _log

from vigile.simulate.customers import CustomerProfile
from vigile.simulate.emit import (
    ACCOUNT,
    BILLING,
    CONTACT,
    CUSTOMER,
    REVEAL,
    SUBSCRIPTION,
    Emitter,
    Place,
    View,
)
from vigile.simulate.geography import REGIONS
from vigile.simulate.keys import Purpose, stream
from vigile.simulate.organisation import AgentProfile
from vigile.simulate.world import World

__all__ = [
    "DayPlan",
    "DayTrace",
    "Session",
    "TicketWork",
    "browser_on",
    "day_plan",
    "work_day",
]

SUPPORT = "customer_initiated_support"
REVIEW = "agent_initiated_review"
_SICK = 0.03  # share of scheduled days an agent does not come in
_OVERTIME = 0.08
_COVER = 0.03  # share of days an agent helps another region's queue (follow the sun)
_RESIGN = 0.12  # share of days with a second sign-in after the lunch break
_FAILED = 0.03
_FOLLOW_UP = 0.045  # share of closed tickets followed by a short review
_OTHERS = {region: tuple(r for r in REGIONS if r != region) for region in REGIONS}
_MAX_WAIT = 8 * 3600  # longest a ticket waits in the queue before assignment
_VERSION_EPOCH = 18_748  # 2021-05-01 in days since 1970: browsers' reference date


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """A session the agent signs in to at ``start``."""

    id: str
    start: int


@dataclass(frozen=True, kw_only=True, slots=True)
class DayPlan:
    """When, where and in which sessions an agent works on one day."""

    agent: AgentProfile
    day: int
    start: int
    end: int
    lunch: tuple[int, int]
    place: Place
    user_agent: str
    sessions: tuple[Session, ...]
    failed: tuple[str, ...]  # sessions of failed sign-in attempts before the first
    queue: str  # the region whose tickets the agent takes: their own, or one they cover

    def session_at(self, t: int) -> Session:
        """The session the agent uses at ``t``."""
        current = self.sessions[0]
        for session in self.sessions[1:]:
            if session.start <= t:
                current = session
        return current


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketWork:
    """A ticket the agent held from ``assigned`` to ``closed``."""

    ticket: str
    customer: int
    assigned: int
    closed: int
    session: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DayTrace:
    """What an agent did on a day, for attacks that hide inside it."""

    plan: DayPlan
    worked: tuple[tuple[str, int, int, int, str], ...]  # TicketWork's fields, made cheaply

    @property
    def tickets(self) -> tuple[TicketWork, ...]:
        """The tickets the agent worked, in order."""
        return tuple(
            TicketWork(ticket=ticket, customer=c, assigned=assigned, closed=closed, session=s)
            for ticket, c, assigned, closed, s in self.worked
        )


def _place(world: World, agent: AgentProfile, day: int, rng: random.Random) -> Place:
    trip = agent.trip
    if trip is not None and trip.first <= day <= trip.last:
        return Place(
            ip=trip.ip, country=trip.country, lat=trip.lat, lon=trip.lon, device=trip.device
        )
    if rng.random() < agent.office_share:
        ip = rng.choice(agent.office_ips)
    else:  # home broadband: the provider changes the address every few weeks
        ip = agent.home_ips[(day + agent.index % agent.lease_days) // agent.lease_days]
    site = agent.site
    return Place(ip=ip, country=site.country, lat=site.lat, lon=site.lon, device=agent.device)


def browser_on(world: World, template: str, version: int, day: int, phase: int = 0) -> str:
    """``template`` with the browser's version on ``day``: updates come every six weeks."""
    age = world.calendar.midnight(day) // 86_400 - _VERSION_EPOCH + phase
    return template.replace("{v}", str(version + age // 42))


def _works(world: World, agent: AgentProfile, day: int) -> bool:
    if world.calendar.weekday(day) not in agent.weekdays:
        return False
    holiday = agent.vacation
    return holiday is None or not holiday[0] <= day <= holiday[1]


def day_plan(world: World, agent: AgentProfile, day: int) -> DayPlan | None:
    """The agent's plan for ``day``, or None when they do not work that day."""
    if not _works(world, agent, day):
        return None
    rng = stream(world.seed, Purpose.PLAN, agent.index, day)
    if rng.random() < _SICK:
        return None
    calendar, tz = world.calendar, agent.timezone
    start = calendar.local(tz, day, agent.start) + rng.randint(-600, 420)
    end = calendar.local(tz, day, agent.end)
    end += rng.randint(1800, 9000) if rng.random() < _OVERTIME else rng.randint(-900, 600)
    middle = (start + end) // 2 + rng.randint(-3600, 3600)
    lunch = (middle, middle + rng.randint(1800, 3600))
    sessions = [Session(id=world.mint.session(day, agent.index, 0), start=start)]
    if rng.random() < _RESIGN:
        resign = lunch[1] + rng.randint(0, 300)
        sessions.append(Session(id=world.mint.session(day, agent.index, 1), start=resign))
    return DayPlan(
        agent=agent,
        day=day,
        start=start,
        end=end,
        lunch=lunch,
        queue=rng.choice(_OTHERS[agent.region]) if rng.random() < _COVER else agent.region,
        place=_place(world, agent, day, rng),
        user_agent=browser_on(
            world, agent.user_agent, agent.browser_version, day, agent.index % 42
        ),
        sessions=tuple(sessions),
        failed=tuple(
            world.mint.session(day, agent.index, 2 + k)
            for k in range((rng.random() < _FAILED) + (rng.random() < _FAILED / 3))
        ),
    )


def _sign_in(plan: DayPlan, out: Emitter) -> None:
    agent, start = plan.agent, plan.sessions[0].start
    for k, attempt in enumerate(plan.failed):  # a mistyped password, then the right one
        out.session = attempt
        out.signin(start - 25 * (len(plan.failed) - k), plan.place,
                   user_agent=plan.user_agent, mfa=agent.mfa, ok=False)  # fmt: skip
    for session in plan.sessions:
        out.session = session.id
        out.signin(session.start, plan.place, user_agent=plan.user_agent, mfa=agent.mfa)


class _Ticket:
    """One ticket being worked: who, for which customer, and the clock of its views."""

    __slots__ = ("customer", "mean", "out", "product", "rng", "t", "ticket", "tier")

    def __init__(self, out: Emitter, rng: random.Random, agent: AgentProfile) -> None:
        self.out = out
        self.rng = rng
        self.mean = 200 / agent.pace  # seconds reading a view; heavy workers click faster
        self.tier = agent.tier
        self.product = agent.product
        self.customer: CustomerProfile
        self.ticket = ""
        self.t = 0

    def view(
        self, action: str, view: View, obj: str | None = None,
        deny: str | None = None,
    ) -> None:  # fmt: skip
        """One access under this ticket, then the time it takes to read it."""
        self.out.access(self.t, action, self.customer.id, view, self.ticket, SUPPORT, obj, deny)
        self.t += int(-_log(1.0 - self.rng.random()) * self.mean) + 8  # expovariate, inlined

    def find_customer(self) -> None:
        """Often the agent searches for the customer first, then opens its page."""
        c, rng = self.customer, self.rng
        if rng.random() < 0.55:
            if rng.random() < 0.7:
                self.out.search(self.t, c.query, c.results, self.ticket, SUPPORT)
            else:
                self.out.search(self.t, c.username, (c.id,), self.ticket, SUPPORT)
            self.t += int(-_log(1.0 - rng.random()) * self.mean) + 8
        self.view("customer.view", CUSTOMER)


def _between(rng: random.Random, low: int, high: int) -> int:
    # randint's exactness costs four calls; a float draw is plenty for durations.
    return low + int(rng.random() * (high - low + 1))


def _reveal(w: _Ticket, contact: str) -> None:
    # Government customers hold a lockbox: a reveal waits for their approval, often in vain.
    lockbox = w.customer.tier == "government" and w.rng.random() < 0.6
    w.view("contact.reveal", REVEAL, contact, "lockbox_approval_required" if lockbox else None)


def _account(w: _Ticket, account: str) -> None:
    denied = w.tier == 1 and w.rng.random() < 0.25
    w.view("account.view", ACCOUNT, account, "insufficient_tier" if denied else None)


def _billing(w: _Ticket) -> None:
    c, rng = w.customer, w.rng
    w.view("contact.view", CONTACT, c.billing[0])
    for sub, _ in rng.sample(c.subscriptions, min(len(c.subscriptions), rng.randint(1, 2))):
        w.view("subscription.view", SUBSCRIPTION, sub)
    for _ in range(rng.randint(1, 2)):
        w.view("billing.view", BILLING)
    if rng.random() < 0.05:
        _reveal(w, rng.choice(c.billing))


def _service(w: _Ticket) -> None:
    c, rng = w.customer, w.rng
    sub = next((s for s, service in c.subscriptions if service == w.product), None)
    w.view("subscription.view", SUBSCRIPTION, sub or c.subscriptions[0][0])
    w.view("contact.view", CONTACT, c.technical[0])
    if rng.random() < 0.3:
        _account(w, rng.choice(c.accounts))
    if rng.random() < 0.04:
        _reveal(w, c.technical[0])


def _identity(w: _Ticket) -> None:
    c, rng = w.customer, w.rng
    for account in rng.sample(c.accounts, min(len(c.accounts), rng.randint(1, 3))):
        _account(w, account)
    w.view("contact.view", CONTACT, c.admin[0])
    if rng.random() < 0.07:
        _reveal(w, c.admin[0])
    if rng.random() < 0.3:
        w.view("subscription.view", SUBSCRIPTION, rng.choice(c.subscriptions)[0])


_RECIPES = {
    "billing": _billing,
    "compute": _service,
    "storage": _service,
    "network": _service,
    "identity": _identity,
}


def _follow_up(out: Emitter, rng: random.Random, c: CustomerProfile, t: int) -> None:
    t += rng.randint(120, 1800)
    out.access(t, "customer.view", c.id, CUSTOMER, None, REVIEW)
    t += rng.randint(20, 300)
    out.access(t, "subscription.view", c.id, SUBSCRIPTION, None, REVIEW, c.subscriptions[0][0])


def _handle(w: _Ticket, plan: DayPlan, ticket: str, assigned: int) -> int:
    """Work one ticket from its assignment; returns when it was closed."""
    agent, c, out, rng = plan.agent, w.customer, w.out, w.rng
    opened = assigned - 30 - min(int(rng.expovariate(1 / 2400)), _MAX_WAIT)
    out.ticket_step(opened, ticket, "opened", customer=c.id, category=agent.product)
    out.ticket_step(assigned, ticket, "assigned", agent=agent.id)
    w.ticket, w.t = ticket, assigned + _between(rng, 5, 90)
    w.find_customer()
    _RECIPES[agent.product](w)
    if rng.random() < 0.3:
        w.view("customer.view", CUSTOMER)
    # Waiting for the customer to confirm; the busiest agents close without waiting long.
    closed = w.t + int(_between(rng, 120, 1800) / agent.pace)
    out.ticket_step(closed, ticket, "closed")
    if rng.random() < _FOLLOW_UP:
        _follow_up(out, rng, c, closed)
    return closed


def work_day(world: World, plan: DayPlan, out: Emitter) -> DayTrace:
    """Emit the agent's sign-ins and tickets for the day planned by ``plan``."""
    agent = plan.agent
    rng = stream(world.seed, Purpose.WORK, agent.index, plan.day)
    _sign_in(plan, out)
    pool = world.org.pools[plan.queue, agent.product, agent.tier]
    customers = world.org.customers
    w = _Ticket(out, rng, agent)
    out.ip = plan.place.ip
    lunch_start, lunch_end = plan.lunch
    ticket_id = world.mint.tickets(plan.day, agent.index)
    done: list[tuple[str, int, int, int, str]] = []
    t = plan.start + rng.randint(60, 400)
    while t < plan.end - 600:
        if lunch_start <= t < lunch_end:
            t = lunch_end + rng.randint(60, 600)
            continue
        session = out.session = plan.session_at(t).id
        w.customer = customers[pool.draw(rng)]
        ticket = ticket_id(len(done))
        closed = _handle(w, plan, ticket, t)
        done.append((ticket, w.customer.index, t, closed, session))
        t = closed + int(rng.expovariate(agent.pace / 240)) + 20
    return DayTrace(plan=plan, worked=tuple(done))
