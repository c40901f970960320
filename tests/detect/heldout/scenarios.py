"""Attacks the project's simulator does not have, and benign confounders, written into the
held-out organisation of ``generator.py``. Each attack uses its own agent, so one log
holds them all (one store, one detection run) and each is judged on its own agent.

Attacks: a phisher on the victim's own shift (citing other customers' tickets, or its
team's tickets), a bribed agent self-assigning tickets of
high-value customers, break-glass abuse, credential stuffing, slow exfiltration through
targeted searches and exports, a session shared with a buyer, credential stuffing
through proxies in the victim's own country. Confounders: a traveller,
a team lead reviewing the team's tickets, a new hire shadowing, a shift change, an outage
with break-glass under tickets, the holiday surge (everyone), a proxy pool, a VPN egress
in another country, rotating home addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.detect.heldout.generator import (
    DAYS,
    Agent,
    Customer,
    Ticket,
    World,
    _directory_agent,
    address,
    day_start,
    honest_month,
    make_world,
    place_in,
    shift_bounds,
)
from tests.detect.heldout.workday import Desk, handle, place_for, sign_in, work_day

__all__ = ["ATTACKS", "Truth", "build"]

_WEEKDAY_EARLY = (("mon", "tue", "wed", "thu", "fri"), "06:00", "14:30")


@dataclass(kw_only=True, slots=True)
class Truth:
    """Who is attacked by what, and which honest agents are confounders."""

    attacks: dict[str, str] = field(default_factory=dict)
    confounders: dict[str, list[str]] = field(default_factory=dict)
    events: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"attacks": self.attacks, "confounders": self.confounders}


def _pick(world: World, team: str, taken: set[str], shift: Any = None) -> Agent:
    for agent in world.team(team):
        if agent.id not in taken and (shift is None or agent.shift == shift):
            taken.add(agent.id)
            return agent
    raise LookupError(f"no free agent in {team}")


def _session_on(world: World, agent: Agent, day: int) -> tuple[str, float, str] | None:
    """The agent's first session of local date ``day`` written so far: (id, time, ip)."""
    bounds = shift_bounds(agent, day)
    if bounds is None:
        return None
    low, high = bounds[0] - 3600, bounds[1] + 3600
    for r in world.log.records:
        if r["kind"] == "signin" and r["agent"] == agent.id and r["outcome"] == "success":
            t = _seconds(r["time"])
            if low <= t <= high:
                return r["session"], t, r["ip"]
    return None


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _assigned(world: World, agents: set[str]) -> list[tuple[float, str, str]]:
    """(time, ticket, agent) of every assignment to ``agents`` written so far."""
    return sorted(
        (_seconds(r["time"]), r["ticket"], r["agent"])
        for r in world.log.records
        if r["kind"] == "ticket" and r["event"] == "assigned" and r.get("agent") in agents
    )


def _held_before(assigned: list[tuple[float, str, str]], t: float) -> str | None:
    """The ticket most recently assigned before ``t`` in ``assigned`` (its id)."""
    found = [ticket for when, ticket, _ in assigned if when < t]
    return found[-1] if found else None


def _customer_of(world: World) -> dict[str, Customer]:
    by_id = {c.id: c for c in world.everyone}
    return {
        r["ticket"]: by_id[r["customer"]]
        for r in world.log.records
        if r["kind"] == "ticket" and r["event"] == "opened"
    }


# --- attacks -------------------------------------------------------------------------


def phisher_on_shift(world: World, victim: Agent, truth: Truth) -> None:
    """Phished credentials used on the victim's own shift, from its country but a new
    address and device: billing contacts of ~35 customers over three days, each request
    citing another customer's ticket or an open ticket nobody holds."""
    rng = world.rng
    attacker_ip, device = address(rng, victim.country), f"dv-{rng.randrange(16**8):08x}"
    unassigned = [t for t in world.backlog if t.holder is None and t.opened < day_start(16)]
    held = _assigned(world, {victim.id})
    for day in (16, 17, 18):
        begin, _ = shift_bounds(victim, day) or (day_start(day) + 13 * 3600, 0)
        place = place_in(victim.country, attacker_ip, device, victim.browser, rng)
        desk = sign_in(world, victim, place, begin + rng.uniform(3600, 3 * 3600))
        for _ in range(rng.randint(11, 13)):
            if rng.random() < 0.5 and unassigned:
                ticket: Ticket | str = unassigned.pop(rng.randrange(len(unassigned)))
                assert isinstance(ticket, Ticket)
                customer = ticket.customer
            else:
                customer = rng.choice(world.everyone)
                ticket = _held_before(held, desk.t) or "SR-40000"
            billing = customer.contacts[0]
            desk.request("customer.view", customer, ticket)
            desk.request("contact.view", customer, ticket, contact=billing)
            desk.request("contact.reveal", customer, ticket, contact=billing)
            if rng.random() < 0.5:
                desk.request("billing.view", customer, ticket)
            desk.t += rng.uniform(60, 600)
    truth.attacks["phisher_on_shift"] = victim.id


def phisher_on_team_tickets(world: World, victim: Agent, truth: Truth) -> None:
    """A phisher who read the team's queue: billing contacts of ~35 customers over three
    days of the victim's shift, from a new address and device, each request citing a
    ticket a teammate of the victim holds for that very customer."""
    rng = world.rng
    attacker_ip, device = address(rng, victim.country), f"dv-{rng.randrange(16**8):08x}"
    teammates = {a.id for a in world.team(victim.team.name)} - {victim.id}
    assigned, customers = _assigned(world, teammates), _customer_of(world)
    for day in (22, 23, 24):
        begin, _ = shift_bounds(victim, day) or (day_start(day) + 13 * 3600, 0)
        place = place_in(victim.country, attacker_ip, device, victim.browser, rng)
        desk = sign_in(world, victim, place, begin + rng.uniform(3600, 3 * 3600))
        queue = [a for a in assigned if desk.t - 86400 <= a[0] < desk.t]
        for _, ticket, _holder in rng.sample(queue, min(len(queue), rng.randint(11, 13))):
            customer = customers[ticket]
            billing = customer.contacts[0]
            desk.request("customer.view", customer, ticket)
            desk.request("contact.view", customer, ticket, contact=billing)
            desk.request("contact.reveal", customer, ticket, contact=billing)
            desk.t += rng.uniform(60, 600)
    truth.attacks["phisher_on_team_tickets"] = victim.id


def ticket_abuse(world: World, insider: Agent, truth: Truth) -> None:
    """A bribed agent self-assigns open tickets of government and enterprise customers
    (from any queue) and reveals every contact's e-mail and phone: each request is
    justified by a ticket it holds."""
    rng = world.rng
    wanted = [
        t for t in world.backlog
        if t.holder is None and t.customer.tier in ("government", "enterprise")
        and t.opened < day_start(15)
    ]  # fmt: skip
    for day in range(15, 26):
        found = _session_on(world, insider, day)
        if found is None:
            continue
        session, t, _ = found
        desk = Desk(world=world, agent=insider, session=session, t=t + rng.uniform(1800, 14400))
        for _ in range(rng.randint(4, 6)):
            if not wanted:
                return
            ticket = wanted.pop(rng.randrange(len(wanted)))
            ticket.holder = insider.id
            world.log.ticket(desk.t, ticket, "assigned", insider.id)
            desk.request("customer.view", ticket.customer, ticket)
            for contact in ticket.customer.contacts:
                desk.request("contact.view", ticket.customer, ticket, contact=contact)
                desk.request("contact.reveal", ticket.customer, ticket, contact=contact)
            desk.t += rng.uniform(300, 1500)
    truth.attacks["ticket_abuse"] = insider.id


def break_glass_abuse(world: World, insider: Agent, truth: Truth) -> None:
    """Break-glass, with no incident and no ticket, several times a day for a week."""
    rng = world.rng
    for day in range(17, 24):
        found = _session_on(world, insider, day)
        if found is None:
            continue
        session, t, _ = found
        desk = Desk(world=world, agent=insider, session=session, t=t + rng.uniform(1800, 9000))
        for _ in range(rng.randint(5, 8)):
            customer = rng.choice(world.everyone)
            desk.request("customer.view", customer, None, reason="break_glass")
            desk.request("contact.reveal", customer, None, reason="break_glass")
            desk.request("billing.view", customer, None, reason="break_glass")
            desk.t += rng.uniform(600, 2400)
    truth.attacks["break_glass_abuse"] = insider.id


def credential_stuffing(world: World, victim: Agent, truth: Truth) -> None:
    """Failed sign-ins across a dozen agents from a few foreign addresses within minutes,
    then a success on one (a push accepted at night) from a new country and device, and
    a few reads."""
    _stuff(world, victim, truth, country="VN", day=20, name="credential_stuffing")


def stuffing_local_proxy(world: World, victim: Agent, truth: Truth) -> None:
    """The same spray through residential proxies in the victim's own country: no new
    country, only the spray, a new address and device, and a few reads."""
    _stuff(world, victim, truth, country=victim.country, day=23, name="stuffing_local_proxy")


def _stuff(world: World, victim: Agent, truth: Truth, *, country: str, day: int, name: str) -> None:
    rng = world.rng
    ips = [address(rng, country) for _ in range(3)]
    device, browser = f"dv-{rng.randrange(16**8):08x}", "python-requests/2.31"
    t = day_start(day) + 2 * 3600
    sprayed = rng.sample([a for a in world.agents if a.id != victim.id], 11)
    for agent in [*sprayed, victim]:
        for _ in range(rng.randint(3, 6)):
            t += rng.uniform(2, 20)
            place = place_in(country, rng.choice(ips), device, browser, rng)
            world.log.signin(t, agent, world.session(), place, outcome="failure", mfa="none")
    place = place_in(country, ips[0], device, browser, rng)
    desk = sign_in(world, victim, place, t + 30)
    desk.ip_pool = ()
    for _ in range(6):
        customer = rng.choice(world.everyone)
        desk.request("customer.view", customer, None, reason="none")
        desk.request("contact.reveal", customer, None, reason="none")
    truth.attacks[name] = victim.id
    truth.confounders.setdefault("sprayed_not_breached", []).extend(a.id for a in sprayed)


def slow_exfiltration(world: World, insider: Agent, truth: Truth) -> None:
    """Three weeks of a few targeted look-ups a shift (searches by exact e-mail, one
    result), each followed by a contact reveal under no ticket or the agent's current
    one, and now and then an export of one customer."""
    rng = world.rng
    shifts = 0
    held = _assigned(world, {insider.id})
    for day in range(8, DAYS):
        found = _session_on(world, insider, day)
        if found is None:
            continue
        shifts += 1
        session, t, _ = found
        desk = Desk(world=world, agent=insider, session=session, t=t + rng.uniform(3600, 18000))
        for _ in range(rng.randint(2, 3)):
            customer = rng.choice(world.everyone)
            cited = _held_before(held, desk.t) if rng.random() < 0.5 else None
            desk.search(customer, None, "customer_initiated_support")
            desk.request("customer.view", customer, cited)
            desk.request("contact.reveal", customer, cited, contact=customer.contacts[0])
            desk.t += rng.uniform(900, 3600)
        if shifts % 4 == 0:
            customer = rng.choice(world.everyone)
            desk.request("export", customer, cited, outcome=rng.choice(("allowed", "denied")))
    truth.attacks["slow_exfiltration"] = insider.id


def trickle_exfiltration(world: World, insider: Agent, truth: Truth) -> None:
    """The slowest insider: most shifts for three weeks, one customer's contact revealed
    under the ticket the agent is working (another customer's), nothing else."""
    rng = world.rng
    held = _assigned(world, {insider.id})
    for day in range(8, DAYS):
        found = _session_on(world, insider, day)
        if found is None or rng.random() < 0.3:
            continue
        session, t, _ = found
        desk = Desk(world=world, agent=insider, session=session, t=t + rng.uniform(3600, 18000))
        customer = rng.choice(world.everyone)
        cited = _held_before(held, desk.t)
        desk.request("customer.view", customer, cited)
        desk.request("contact.reveal", customer, cited, contact=customer.contacts[0])
    truth.attacks["trickle_exfiltration"] = insider.id


def shared_session(world: World, victim: Agent, truth: Truth) -> None:
    """The victim's session sold on: a buyer uses it from another country's address while
    the victim works in it, for two shifts (the first two from day 21)."""
    rng = world.rng
    buyer_ip = address(rng, "RO")
    held = _assigned(world, {victim.id})
    sessions = [s for s in (_session_on(world, victim, day) for day in range(21, DAYS)) if s]
    for session, t, _ in sessions[:2]:  # the victim's next two shifts
        desk = Desk(world=world, agent=victim, session=session, t=t + rng.uniform(1800, 5400))
        for _ in range(rng.randint(10, 14)):
            customer = rng.choice(world.everyone)
            cited = _held_before(held, desk.t) if rng.random() < 0.5 else None
            desk.request("customer.view", customer, cited, ip=buyer_ip)
            desk.request("contact.reveal", customer, cited, ip=buyer_ip)
            desk.request("account.view", customer, cited, ip=buyer_ip)
            desk.t += rng.uniform(300, 1500)
    truth.attacks["shared_session"] = victim.id


ATTACKS: dict[str, tuple[str, Callable[[World, Agent, Truth], None]]] = {
    "phisher_on_shift": ("desk-us", phisher_on_shift),
    "phisher_on_team_tickets": ("desk-us", phisher_on_team_tickets),
    "ticket_abuse": ("desk-us", ticket_abuse),
    "break_glass_abuse": ("billing-latam", break_glass_abuse),
    "credential_stuffing": ("desk-emea", credential_stuffing),
    "stuffing_local_proxy": ("desk-us", stuffing_local_proxy),
    "slow_exfiltration": ("night-ph", slow_exfiltration),
    "shared_session": ("desk-emea", shared_session),
    "trickle_exfiltration": ("night-ph", trickle_exfiltration),
}


# --- confounders ---------------------------------------------------------------------


def traveller(world: World, agent: Agent, truth: Truth) -> None:
    """Works three days from Lisbon on a loaner laptop, on its usual hours, then home."""
    rng = world.rng
    place = place_in("PT", address(rng, "PT"), f"dv-{rng.randrange(16**8):08x}", agent.browser, rng)
    for day in (16, 17, 18):
        work_day(world, agent, day, place=place)
    truth.confounders["traveller"] = [agent.id]


def team_lead(world: World, lead: Agent, truth: Truth) -> None:
    """Reviews a good share of its team's tickets every day: many customers, each under a
    ticket held by a team member (not by the lead)."""
    rng = world.rng
    members = {a.id for a in world.team(lead.team.name)} - {lead.id}
    assigned = _assigned(world, members)
    customers = _customer_of(world)
    for day in range(DAYS):
        found = _session_on(world, lead, day)
        if found is None:
            continue
        session, t, _ = found
        desk = Desk(world=world, agent=lead, session=session, t=t + 1800)
        recent = [a for a in assigned if t - 3 * 86400 <= a[0] < t + 4 * 3600]
        for when, ticket, _holder in rng.sample(recent, min(len(recent), rng.randint(15, 30))):
            desk.t = max(desk.t, when + 60)
            customer = customers[ticket]
            desk.request("customer.view", customer, ticket, reason="agent_initiated_review")
            desk.request("contact.view", customer, ticket, reason="agent_initiated_review")
    truth.confounders["team_lead"] = [lead.id]


def new_hire(world: World, hire: Agent, mentor: Agent, truth: Truth) -> None:
    """Joins on day 16 and shadows a mentor for a week: opens the mentor's tickets too."""
    rng = world.rng
    assigned = _assigned(world, {mentor.id})
    customers = _customer_of(world)
    for day in range(16, 21):
        found = _session_on(world, hire, day)
        if found is None:
            continue
        session, t, _ = found
        desk = Desk(world=world, agent=hire, session=session, t=t + 900)
        today = [a for a in assigned if t <= a[0] < t + 8 * 3600]
        for when, ticket, _ in today[: rng.randint(3, 6)]:
            desk.t = max(desk.t, when + 120)
            desk.request("customer.view", customers[ticket], ticket)
            desk.request("contact.view", customers[ticket], ticket)
    truth.confounders["new_hire"] = [hire.id]


def outage(world: World, on_call: list[Agent], truth: Truth) -> None:
    """An outage: on-call agents break glass once or twice, each under an outage ticket
    of that customer assigned to them."""
    rng = world.rng
    for agent in on_call:
        place = place_for(world, agent, 20)
        desk = sign_in(world, agent, place, day_start(20) + 15 * 3600 + rng.uniform(0, 3600))
        for _ in range(rng.randint(1, 2)):
            customer = world.pick_customer("us")
            ticket = world.new_ticket(desk.t, customer, "outage", desk.t - 600)
            world.log.ticket(desk.t, ticket, "assigned", agent.id)
            ticket.holder = agent.id
            desk.request("customer.view", customer, ticket, reason="break_glass")
            handle(desk, ticket)
    truth.confounders["outage_break_glass"] = [a.id for a in on_call]


def build(seed: int) -> tuple[World, Truth]:
    """The held-out log: the organisation's honest month, the confounders, every attack."""
    world = make_world(seed)
    truth = Truth()
    taken: set[str] = set()
    victims = {name: _pick(world, team, taken) for name, (team, _) in ATTACKS.items()}
    for name in ("phisher_on_shift", "phisher_on_team_tickets"):
        victims[name] = _swap_early(world, victims[name], taken)
    tripper = _pick(world, "desk-us", taken, _WEEKDAY_EARLY)
    lead = _pick(world, "gov-care", taken)
    hire, mentor = _pick(world, "desk-us", taken), _pick(world, "desk-us", taken)
    changer = _pick(world, "desk-us", taken, _WEEKDAY_EARLY)
    on_call = [_pick(world, "desk-us", taken) for _ in range(4)]
    hire.joined = 16
    late = (_WEEKDAY_EARLY[0], "14:00", "22:30")
    honest_month(world, skip={tripper.id: {16, 17, 18}, changer.id: set(range(18, DAYS))})
    changer.shift = late
    _directory_agent(world.log, changer, day_start(18))
    for day in range(18, DAYS):
        work_day(world, changer, day)
    truth.confounders["shift_change"] = [changer.id]
    traveller(world, tripper, truth)
    team_lead(world, lead, truth)
    new_hire(world, hire, mentor, truth)
    outage(world, on_call, truth)
    for name, (_, attack) in ATTACKS.items():
        attack(world, victims[name], truth)
    return world, truth


def _swap_early(world: World, agent: Agent, taken: set[str]) -> Agent:
    """The phisher's victim works weekday days (the attack runs Wednesday to Friday)."""
    if agent.shift == _WEEKDAY_EARLY:
        return agent
    return _pick(world, "desk-us", taken, _WEEKDAY_EARLY)
