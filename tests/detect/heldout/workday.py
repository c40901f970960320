"""An honest agent's day in the held-out organisation: sign-ins (split shifts sign in
twice), a queue of new, resumed and escalated tickets, the requests each ticket needs,
and the noise real justification data carries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.detect.heldout.generator import (
    HOLIDAY,
    SURGE,
    Agent,
    Customer,
    Place,
    Ticket,
    World,
    address,
    place_in,
    shift_bounds,
)

__all__ = ["Desk", "handle", "place_for", "work_day"]

_US_FACING = ("desk-us", "night-ph", "gov-care")
_CATEGORIES = ("billing", "login", "outage", "configuration", "cancellation")


@dataclass(kw_only=True, slots=True)
class Desk:
    """An agent at work in one session."""

    world: World
    agent: Agent
    session: str
    ip_pool: tuple[str, ...] = ()
    t: float = 0.0

    @property
    def rng(self) -> random.Random:
        return self.world.rng

    def ip(self) -> str | None:
        """Requests behind a proxy pool leave from any of its addresses."""
        return self.rng.choice(self.ip_pool) if self.ip_pool else None

    def request(self, action: str, customer: Customer | None, ticket: Ticket | str | None,
                **extra: object) -> str:  # fmt: skip
        self.t += self.rng.uniform(4, 90)
        return self.world.log.access(
            self.t, self.agent, self.session, action, customer, ticket=ticket,
            ip=extra.pop("ip", self.ip()), **extra,  # type: ignore[arg-type]
        )  # fmt: skip

    def search(self, target: Customer, ticket: Ticket | None, reason: str) -> None:
        rng = self.rng
        kind = rng.random()
        if kind < 0.5:
            query = target.name[: rng.randint(3, 7)]
            others = [c for c in rng.sample(self.world.everyone, 40) if c.name[:2] == query[:2]]
            results = [target.id, *(c.id for c in others[: rng.randint(0, 6)])]
        elif kind < 0.8:
            query, results = target.contacts[0][2], [target.id]
        else:
            query, results = target.accounts[0][1], [target.id]
        self.request("customer.search", None, ticket, query=query, results=results, reason=reason)


def place_for(world: World, agent: Agent, day: int) -> Place:
    """Office, home (a residential address that sometimes rotates) or the VPN egress."""
    rng = world.rng
    device = agent.devices[0] if rng.random() < 0.85 else agent.devices[-1]
    if agent.rotating_home and day % 9 == 8:
        agent.home_ip = address(rng, agent.country)
    pool = world.pools.get(agent.team.name)
    if pool:
        return place_in(agent.country, rng.choice(pool), device, agent.browser, rng)
    if agent.egress and rng.random() < 0.3:
        ip = f"{address(random.Random(agent.id), agent.egress)}"
        return place_in(agent.egress, ip, device, agent.browser, rng)
    ip = agent.office_ip if rng.random() < agent.team.office else agent.home_ip
    return place_in(agent.country, ip, device, agent.browser, rng)


def _blocks(agent: Agent, begin: float, end: float) -> list[tuple[float, float]]:
    if agent.team.split:  # 07-11 and 15-19 of a 07-19 shift
        return [(begin, begin + 4 * 3600), (end - 4 * 3600, end)]
    return [(begin, end)]


def work_day(
    world: World, agent: Agent, day: int, *, volume: float = 1.0, place: Place | None = None
) -> None:
    """The agent's honest work on local date ``day`` (if it works that day); ``place``:
    where from, instead of its habits."""
    rng = world.rng
    bounds = shift_bounds(agent, day)
    if bounds is None or rng.random() < 0.04:
        return
    if day == HOLIDAY and agent.team.name in ("desk-us", "gov-care") and rng.random() < 0.75:
        return
    begin, end = bounds
    if day == SURGE and agent.team.name in _US_FACING:
        volume, end = volume * 2.2, end + rng.uniform(1, 2.5) * 3600  # overtime
    place = place or place_for(world, agent, day)
    low, high = agent.team.tickets
    per_block = rng.randint(low, high) * volume / len(_blocks(agent, begin, end))
    for start, finish in _blocks(agent, begin, end):
        desk = sign_in(world, agent, place, start - rng.uniform(0, 600))
        _follow_ups(desk)
        _queue(desk, finish, round(per_block))
        if rng.random() < 0.1:  # a lookup for a colleague, with no ticket of its own
            customer = world.pick_customer(agent.team.regions[0])
            desk.request("customer.view", customer, None, reason="agent_initiated_review")
            desk.request("account.view", customer, None, reason="agent_initiated_review")


def sign_in(world: World, agent: Agent, place: Place, t: float, **extra: object) -> Desk:
    """A session, sometimes after a mistyped password."""
    rng = world.rng
    session = world.session()
    if rng.random() < 0.05:
        for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 3)):
            t += rng.uniform(5, 40)
            world.log.signin(t, agent, world.session(), place, outcome="failure")
    world.log.signin(t + rng.uniform(5, 30), agent, session, place, **extra)
    pool = world.pools.get(agent.team.name, ())
    return Desk(world=world, agent=agent, session=session, ip_pool=pool, t=t + 40)


def _queue(desk: Desk, finish: float, planned: int) -> None:
    world, agent, rng = desk.world, desk.agent, desk.rng
    for _ in range(planned):
        if desk.t > finish:
            break
        desk.t += rng.uniform(60, 900)
        queued = world.escalated.get(agent.team.name, [])
        if queued and rng.random() < 0.6:
            ticket = queued.pop(0)
            world.log.ticket(desk.t, ticket, "assigned", agent.id)
        elif agent.backlog and rng.random() < 0.3:
            ticket = agent.backlog.pop(0)
        else:
            customer = world.pick_customer(rng.choice(agent.team.regions))
            opened = desk.t - rng.uniform(300, 8 * 3600)
            ticket = world.new_ticket(desk.t, customer, rng.choice(_CATEGORIES), opened)
            early = rng.random() < 0.03  # the agent opens the customer before the assignment
            world.log.ticket(desk.t + (rng.uniform(20, 400) if early else 0), ticket,
                             "assigned", agent.id)  # fmt: skip
        ticket.holder = agent.id
        handle(desk, ticket)
        _settle(desk, ticket)


def handle(desk: Desk, ticket: Ticket, *, reveal: float | None = None) -> None:
    """The requests one ticket needs."""
    rng, c = desk.rng, ticket.customer
    reveal = desk.agent.team.reveal if reveal is None else reveal
    cited: Ticket | str = ticket
    if desk.agent.last_ticket is not None and rng.random() < 0.01:
        cited = desk.agent.last_ticket  # the previous ticket pasted by mistake
    if rng.random() < 0.35:
        desk.search(c, ticket, "customer_initiated_support")
    denied = rng.random() < 0.005
    desk.request("customer.view", c, cited, outcome="denied" if denied else "allowed")
    if rng.random() < 0.7:
        desk.request("contact.view", c, ticket, contact=rng.choice(c.contacts))
    if rng.random() < reveal:
        desk.request("contact.reveal", c, ticket, contact=rng.choice(c.contacts))
    if rng.random() < 0.45:
        desk.request("account.view", c, ticket)
    if rng.random() < 0.35:
        desk.request("subscription.view", c, ticket)
    if ticket.category == "billing" and rng.random() < 0.85:
        desk.request("billing.view", c, ticket)
    desk.t += rng.uniform(120, 1500)  # the rest of the work happens outside customer data
    desk.agent.last_ticket = ticket


def _settle(desk: Desk, ticket: Ticket) -> None:
    """Closed now, pending (resumed on a later day), escalated or left open."""
    world, rng = desk.world, desk.rng
    fate = rng.random()
    if fate < 0.6:
        ticket.closed = int(desk.t + rng.uniform(10, 300))
        world.log.ticket(ticket.closed, ticket, "closed")
        if rng.random() < 0.04:
            desk.agent.backlog.append(ticket)  # a follow-up review on a later day
    elif fate < 0.88:
        desk.agent.backlog.append(ticket)
    elif fate < 0.95 and not desk.agent.team.escalations:
        team = "gov-care" if ticket.customer.tier in ("government", "enterprise") else "apac-tier2"
        world.escalated.setdefault(team, []).append(ticket)


def _follow_ups(desk: Desk) -> None:
    """Closed tickets looked at again (a review citing the closed ticket)."""
    agent = desk.agent
    closed = [t for t in agent.backlog if t.closed is not None]
    for ticket in closed:
        agent.backlog.remove(ticket)
        desk.request("customer.view", ticket.customer, ticket, reason="agent_initiated_review")
