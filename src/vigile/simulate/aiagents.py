"""AI support agents at work through ``vigile mcp``, and the prompt injection that turns one.

An AI agent takes billing tickets of its region's queue every day during the team's
hours, one conversation per ticket, calling the support tools as ``vigile mcp`` records
them (docs/ai-agents.md): ``search_customers`` at times, ``customer_page`` (four masked
views), now and then ``reveal_field`` of the billing contact, which the stricter AI
policies deny for government and enterprise customers without the supervisor's approval.
Each access carries ``extra.via`` (channel, tool, conversation, the queue it acts for).
Its volumes stay under the AI velocity limits (10 customers an hour).

The prompt-injection scenario: a ticket whose text carries an instruction makes one AI
agent look up other customers' billing contacts, citing that ticket, in a few minutes of
tool calls, nearly all denied by the policies (no ticket of theirs, supervisor approval,
velocity).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import log as _log

from vigile.simulate.clock import Calendar
from vigile.simulate.customers import CustomerProfile
from vigile.simulate.emit import ACCOUNT, CONTACT, CUSTOMER, REVEAL, SUBSCRIPTION, Emitter, Place
from vigile.simulate.keys import Purpose, stream
from vigile.simulate.organisation import AgentProfile, AiAgent
from vigile.simulate.threat import Attack, Scenario, Window, relative_window
from vigile.simulate.workday import SUPPORT, DayPlan, DayTrace, Session
from vigile.simulate.world import World

__all__ = ["PromptInjection", "PromptInjectionScenario", "ai_day_plan", "ai_work_day"]

# The broker's deny reasons (the deciding policies' @reason, src/vigile/policy/default.cedar).
NO_PERMIT = (
    "no policy permits this: it needs an open ticket of this customer assigned to you, "
    "an active grant, or break-glass"
)
SUPERVISOR = (
    "an AI agent reveals a government or enterprise customer's contacts only with its "
    "supervising human's approval of this exact call"
)
VELOCITY = "you reached your hourly limit of customers or reveals"
_AI_CUSTOMERS_PER_HOUR = 10  # VIGILE_BROKER_AI_CUSTOMERS_PER_HOUR's default
_REVEAL = 0.2  # share of tickets where the AI agent reveals the billing contact
_APPROVED = 0.5  # share of those reveals (government, enterprise) the supervisor approves
_SEARCH = 0.35
_MEAN_GAP = 1200  # seconds between the AI agent's tickets, on average


def _expo(rng: random.Random, mean: float) -> int:
    return int(-_log(1.0 - rng.random()) * mean)


def ai_day_plan(world: World, ai: AiAgent, day: int) -> DayPlan:
    """The AI agent's day: the team's hours, one MCP session, from the runtime's address."""
    agent = ai.profile
    rng = stream(world.seed, Purpose.PLAN, agent.index, day)
    start = world.calendar.local(agent.timezone, day, agent.start) + rng.randint(0, 120)
    end = world.calendar.local(agent.timezone, day, agent.end)
    site = agent.site
    place = Place(ip=agent.office_ips[0], country=site.country, lat=site.lat, lon=site.lon,
                  device=agent.device)  # fmt: skip
    session = Session(id=world.mint.session(day, agent.index, 0), start=start)
    return DayPlan(agent=agent, day=day, start=start, end=end, lunch=(end, end), place=place,
                   user_agent=agent.user_agent, sessions=(session,), failed=(),
                   queue=agent.region)  # fmt: skip


def _tool_call_gap(rng: random.Random) -> int:
    return 2 + _expo(rng, 6.0)  # a model calls its tools seconds apart


def _page(
    out: Emitter, rng: random.Random, t: int, c: CustomerProfile, ticket: str,
    *, deny: str | None = None,
) -> int:  # fmt: skip
    """``customer_page``: the customer, its billing contact, an account, a subscription."""
    out.access(t, "customer.view", c.id, CUSTOMER, ticket, SUPPORT, None, deny)
    out.access(t, "contact.view", c.id, CONTACT, ticket, SUPPORT, c.billing[0], deny)
    out.access(t, "account.view", c.id, ACCOUNT, ticket, SUPPORT, c.accounts[0], deny)
    out.access(t, "subscription.view", c.id, SUBSCRIPTION, ticket, SUPPORT,
               c.subscriptions[0][0], deny)  # fmt: skip
    return t + _tool_call_gap(rng)


def _sensitive(c: CustomerProfile) -> bool:
    return c.tier in {"government", "enterprise"}


def ai_work_day(world: World, ai: AiAgent, plan: DayPlan, out: Emitter) -> DayTrace:
    """Emit the AI agent's sign-in and ticket conversations for the day of ``plan``."""
    agent = ai.profile
    rng = stream(world.seed, Purpose.WORK, agent.index, plan.day)
    session = out.session = plan.sessions[0].id
    out.ip = plan.place.ip
    out.signin(plan.start, plan.place, user_agent=plan.user_agent, mfa=agent.mfa)
    pool = world.org.pools[agent.region, agent.product, agent.tier]
    ticket_id = world.mint.tickets(plan.day, agent.index)
    done: list[tuple[str, int, int, int, str]] = []
    t = plan.start + rng.randint(30, 300)
    while t < plan.end - 600:
        c = world.org.customers[pool.draw(rng)]
        ticket = ticket_id(len(done))
        opened = t - 20 - min(_expo(rng, 900), 4 * 3600)
        out.ticket_step(opened, ticket, "opened", customer=c.id, category=agent.product)
        out.ticket_step(t, ticket, "assigned", agent=agent.id)
        queue = f"queue:{agent.team}-{agent.region}"
        start, t = t, t + rng.randint(3, 20)
        if rng.random() < _SEARCH:
            out.via("search_customers", f"c-{ticket}", queue)
            out.search(t, c.query, c.results, ticket, SUPPORT)
            t += _tool_call_gap(rng)
        out.via("customer_page", f"c-{ticket}", queue)
        t = _page(out, rng, t, c, ticket)
        if rng.random() < _REVEAL:
            t += 30 + _expo(rng, 90)  # the customer answers first
            deny = SUPERVISOR if _sensitive(c) and rng.random() >= _APPROVED else None
            out.via("reveal_field", f"c-{ticket}", queue)
            out.access(t, "contact.reveal", c.id, REVEAL, ticket, SUPPORT, c.billing[0], deny)
        out.via(None)
        closed = t + 60 + _expo(rng, 240)
        out.ticket_step(closed, ticket, "closed")
        done.append((ticket, c.index, start, closed, session))
        t = closed + 30 + _expo(rng, _MEAN_GAP)
    return DayTrace(plan=plan, worked=tuple(done))


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptInjection(Attack):
    """An injected ticket makes the AI agent harvest other customers' billing contacts."""

    number: int
    agent: AgentProfile
    ai: AiAgent
    window: Window
    targets: tuple[int, ...]  # customers the injected instruction makes it look up
    shape: str = "prompt_injection"

    def act(self, world: World, day: int, victim: DayTrace | None, out: Emitter) -> None:
        """A few minutes of tool calls under the injected ticket, mid-morning."""
        if victim is None:
            return
        rng = stream(world.seed, Purpose.ATTACK, self.number, day)
        plan = victim.plan
        out.session, out.ip = plan.sessions[0].id, plan.place.ip
        customers = world.org.customers
        sender = customers[rng.choice(world.org.pools[plan.queue, "billing", 1].members)]
        ticket = world.mint.ticket(day, len(world.org.agents) + self.number, 0)
        t = plan.start + rng.randint(2 * 3600, 5 * 3600)
        conversation = f"c-{ticket}"
        out.ticket_step(t - 300, ticket, "opened", customer=sender.id, category="billing")
        out.ticket_step(t, ticket, "assigned", agent=self.ai.profile.id)
        out.via("customer_page", conversation, sender.id)
        t = _page(out, rng, t + 5, sender, ticket)  # the injected ticket's own customer
        seen = 1  # customers this hour, as the velocity limit counts them
        for k, index in enumerate(self.targets):
            c = customers[index]
            if k % 4 == 0:  # "every customer": it searches, then opens what it found
                out.via("search_customers", conversation, sender.id)
                out.search(t, c.query, c.results, ticket, SUPPORT)
                t += _tool_call_gap(rng)
            seen += 1
            limit = VELOCITY if seen > _AI_CUSTOMERS_PER_HOUR else None
            out.via("customer_page", conversation, sender.id)
            t = _page(out, rng, t, c, ticket, deny=limit or NO_PERMIT)
            out.via("reveal_field", conversation, sender.id)
            deny = limit or (SUPERVISOR if _sensitive(c) else NO_PERMIT)
            out.access(t, "contact.reveal", c.id, REVEAL, ticket, SUPPORT, c.billing[0], deny)
            t += _tool_call_gap(rng)
        out.via(None)
        out.ticket_step(t + 60, ticket, "closed")


class PromptInjectionScenario(Scenario):
    """An AI support agent follows an instruction injected into a ticket.

    The ticket's text asks the agent to look up the billing contact of every customer and
    paste them into the ticket. On one day, a third into the period, the AI agent searches
    the directory and opens the page and billing contact of some twenty customers it has
    no ticket for, citing the injected ticket, a few seconds apart: the broker denies
    nearly every call (no ticket of theirs, the supervisor's approval for government and
    enterprise contacts, the hourly limit), so nothing leaks, but detection must raise the
    agent to high within minutes so that containment stops it.
    """

    name = "prompt-injection"
    real_world = "an injected support ticket turning an AI agent holding an admin key, 2025"
    ai_agents = 3

    def window(self, calendar: Calendar) -> Window:
        return relative_window(self.name, calendar, history=7, shortest=1, longest=1)

    def plan(self, world: World, window: Window | None) -> tuple[Attack, ...]:
        assert window is not None
        rng = stream(world.seed, Purpose.SCENARIO, sum(self.name.encode()))
        victim = rng.choice(world.org.ai_agents)
        tiers = {"government": 4.0, "enterprise": 3.0, "smb": 1.0}
        people = world.org.customers
        keyed = sorted((rng.random() ** (1 / tiers.get(c.tier, 1.0)), c.index) for c in people)
        targets = tuple(i for _, i in keyed[-min(20, len(keyed) - 1) :][::-1])
        return (
            PromptInjection(
                number=4, agent=victim.profile, ai=victim, window=window, targets=targets
            ),
        )
