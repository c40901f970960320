"""A second held-out organisation (issue #18): the honest shapes that raised false alarms
on an independent set the project never saw, and that set's attacks, rebuilt from the
issue's description with the writing tools of ``generator.py`` (not ``vigile.simulate``).

Honest shapes, each a team or a few named agents (``Truth.shapes`` maps every shape to its
agents, so false alarms are counted per shape):

- ``assurance``: a billing-assurance team reviewing 10-24 accounts a day without tickets
  (reason ``agent_initiated_review``), mostly government and enterprise customers, every
  working day from the first day of the log;
- ``roaming``: a desk whose sessions move between addresses of one country on the same
  device (corporate VPN, phone hotspot) in the middle of ticket work;
- ``volume``: high-volume agents (200-315 customers in the month) with a few unticketed
  reads a week;
- ``siblings``: an accounts desk serving sibling accounts of one organisation (same name
  stem, country and mail domain) under one of its tickets;
- ``overtime``: agents staying two to three hours past their shift on a few days;
- ``team_lead``: one lead a team reviewing teammates' customers without tickets;
- ``traveller``: an agent working three days from another country on a new laptop;
- ``sprayed``: agents whose account is the target of a password spray (no success);
- ``desk``: a plain desk (the control).

Attacks, each on its own agent (``Truth.attacks``, with the attacker's first event in
``Truth.starts``): a harvester from another country mostly off shift; an insider revealing
2-5 billing contacts a day without a ticket or under a closed one, from the second week;
an agent reading 30-60 unrelated customers under its own tickets; a live session used from
abroad right after a failed sign-in there.

Run as a module to write a log: ``python3 -m tests.detect.heldout.shapes out.jsonl --seed 21``.
"""

from __future__ import annotations

import argparse
import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.detect.heldout.generator import (
    DAYS,
    Agent,
    Customer,
    Team,
    Ticket,
    World,
    address,
    day_start,
    honest_month,
    make_world,
    place_in,
    shift_bounds,
    stamp,
)
from tests.detect.heldout.workday import Desk, handle, sign_in, work_day

__all__ = ["ATTACKS", "SHAPES", "ShapeTruth", "build"]

_WEEK = ("mon", "tue", "wed", "thu", "fri")

TEAMS: tuple[Team, ...] = (
    Team(
        name="billing-assurance", size=14, employer="acme", country="US",
        timezone="America/New_York", shifts=((_WEEK, "08:00", "16:30"),), regions=("gov",),
        tickets=(2, 5), reveal=0.10, office=0.6,
    ),
    Team(
        name="field-desk", size=22, employer="acme", country="DE", timezone="Europe/Berlin",
        shifts=((_WEEK, "08:00", "16:30"), (_WEEK, "11:00", "19:30")), regions=("emea",),
        tickets=(7, 12), reveal=0.10, office=0.3,
    ),
    Team(
        name="volume-desk", size=16, employer="acme", country="US", timezone="America/Denver",
        shifts=((_WEEK, "07:00", "15:30"), (_WEEK, "10:00", "18:30")), regions=("us",),
        tickets=(14, 20), reveal=0.08, office=0.8,
    ),
    Team(
        name="accounts", size=16, employer="acme", country="US",
        timezone="America/Los_Angeles", shifts=((_WEEK, "08:00", "16:30"),), regions=("us",),
        tickets=(5, 9), reveal=0.15, office=0.7,
    ),
    Team(
        name="desk-mx", size=22, employer="contact-latam", country="MX",
        timezone="America/Mexico_City",
        shifts=((_WEEK, "08:00", "16:30"), (("tue", "wed", "thu", "fri", "sat"), "09:00", "17:30")),
        regions=("latam",), tickets=(7, 12), reveal=0.12, office=0.9,
    ),
)  # fmt: skip

#: The honest shapes, in the order they are reported.
SHAPES = (
    "assurance", "roaming", "volume", "siblings", "overtime", "team_lead", "traveller",
    "sprayed", "desk",
)  # fmt: skip
_TEAM_SHAPE = {
    "billing-assurance": "assurance", "field-desk": "roaming", "volume-desk": "volume",
    "accounts": "siblings", "desk-mx": "desk",
}  # fmt: skip


@dataclass(kw_only=True, slots=True)
class ShapeTruth:
    """Who is attacked by what (and from when), and the agents of each honest shape."""

    attacks: dict[str, str] = field(default_factory=dict)
    starts: dict[str, str] = field(default_factory=dict)  # attack: first event, RFC 3339
    shapes: dict[str, list[str]] = field(default_factory=dict)  # an agent may have two

    def as_json(self) -> dict[str, Any]:
        return {"attacks": self.attacks, "starts": self.starts, "shapes": self.shapes}


class Sessions:
    """Every successful sign-in written so far, by agent, for finding a day's session
    without scanning the log again for each one."""

    def __init__(self, world: World) -> None:
        self._by_agent: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
        for r in world.log.records:
            if r["kind"] == "signin" and r["outcome"] == "success":
                t = _seconds(r["time"])
                self._by_agent[r["agent"]].append((t, r["session"], r["ip"]))
        for rows in self._by_agent.values():
            rows.sort()

    def on(self, agent: Agent, day: int) -> tuple[str, float, str] | None:
        """The agent's first session of local date ``day``: (id, time, ip)."""
        bounds = shift_bounds(agent, day)
        if bounds is None:
            return None
        rows = self._by_agent.get(agent.id, [])
        i = bisect.bisect_left(rows, (bounds[0] - 3600, "", ""))
        if i < len(rows) and rows[i][0] <= bounds[1] + 3600:
            t, session, ip = rows[i]
            return session, t, ip
        return None


def _seconds(text: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- customers -----------------------------------------------------------------------


def _siblings(world: World, groups: int) -> list[list[Customer]]:
    """Organisations with two to four accounts each: the parent and regional siblings,
    same name stem, country and mail domain, each its own customer in the directory."""
    rng = world.rng
    parents = [c for c in world.customers["us"] if c.tier in ("enterprise", "smb")][:groups]
    out = []
    number = len(world.everyone)
    for parent in parents:
        domain = parent.contacts[0][2].split("@")[1]
        family = [parent]
        for branch in rng.sample(("West", "East", "Retail", "Holdings", "Services"),
                                 rng.randint(1, 3)):  # fmt: skip
            number += 1
            ident = f"cu-{number:05d}"
            sibling = Customer(
                id=ident, name=f"{parent.name} {branch}", tier=parent.tier,
                country=parent.country, region=parent.region,
                contacts=((f"{ident}-b", "billing", f"billing.{branch.lower()}@{domain}"),),
                accounts=((f"{ident}-u0", f"{branch.lower()}.{domain.split('.')[0]}"),),
                subscriptions=(f"{ident}-s0",),
            )  # fmt: skip
            world.everyone.append(sibling)
            family.append(sibling)
            log = world.log
            log.add(kind="customer", id=ident, name=sibling.name, tier=sibling.tier,
                    country=sibling.country)  # fmt: skip
            c_id, role, email = sibling.contacts[0]
            log.add(kind="contact", id=c_id, customer=ident, role=role, email=email,
                    phone=f"+1 {rng.randint(200, 999)} {rng.randint(1000, 9999)}")  # fmt: skip
            log.add(kind="account", id=sibling.accounts[0][0], customer=ident,
                    username=sibling.accounts[0][1], status="active")  # fmt: skip
            log.add(kind="subscription", id=sibling.subscriptions[0], customer=ident,
                    service="mail", plan="pro")  # fmt: skip
        out.append(family)
    return out


# --- honest shapes -------------------------------------------------------------------


def _desk(world: World, sessions: Sessions, agent: Agent, day: int, after: float) -> Desk | None:
    found = sessions.on(agent, day)
    if found is None:
        return None
    session, t, _ = found
    return Desk(world=world, agent=agent, session=session, t=t + after)


def assurance_reviews(world: World, sessions: Sessions, agents: list[Agent]) -> None:
    """10-24 accounts reviewed a day without a ticket, mostly government and enterprise
    (the rest any US customer), spread over the shift, every working day."""
    rng = world.rng
    for agent in agents:
        for day in range(DAYS):
            desk = _desk(world, sessions, agent, day, rng.uniform(600, 3600))
            if desk is None:
                continue
            for _ in range(rng.randint(10, 24)):
                pool = world.customers["gov"] if rng.random() < 0.8 else world.customers["us"]
                customer = rng.choice(pool)
                reason = "agent_initiated_review"
                desk.request("customer.view", customer, None, reason=reason)
                desk.request("billing.view", customer, None, reason=reason)
                if rng.random() < 0.4:
                    desk.request("subscription.view", customer, None, reason=reason)
                desk.t += rng.uniform(300, 1200)


def roaming_addresses(world: World, agents: list[Agent]) -> None:
    """On about four days in ten a session moves to another address of the same country
    (the VPN reconnects, the laptop moves to the phone's hotspot) and the rest of its
    requests come from there, same device."""
    rng = world.rng
    ids = {a.id: a for a in agents}
    by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in world.log.records:
        if r["kind"] == "access" and r["agent"] in ids:
            by_session[r["session"]].append(r)
    for rows in by_session.values():
        if len(rows) < 4 or rng.random() > 0.4:
            continue
        rows.sort(key=lambda r: r["time"])
        country = ids[rows[0]["agent"]].country
        cut = rng.randrange(1, len(rows) - 1)
        moved = address(rng, country)
        for r in rows[cut:]:
            r["ip"] = moved
            if rng.random() < 0.3 and r is not rows[-1]:  # and back again
                moved = address(rng, country)


def unticketed_reads(world: World, sessions: Sessions, agents: list[Agent]) -> None:
    """A few reads a week without a ticket (a customer calling back, a quick check)."""
    rng = world.rng
    for agent in agents:
        for day in range(DAYS):
            if rng.random() > 0.35:
                continue
            desk = _desk(world, sessions, agent, day, rng.uniform(3600, 6 * 3600))
            if desk is None:
                continue
            customer = world.pick_customer("us")
            desk.request("customer.view", customer, None, reason="customer_initiated_support")
            if rng.random() < 0.5:
                desk.request("account.view", customer, None, reason="customer_initiated_support")


def sibling_tickets(
    world: World, sessions: Sessions, agents: list[Agent], families: list[list[Customer]]
) -> None:
    """One to three times a day, a ticket of an organisation's parent account assigned to
    the agent, and its sibling accounts served under it."""
    rng = world.rng
    for agent in agents:
        for day in range(DAYS):
            desk = _desk(world, sessions, agent, day, rng.uniform(1800, 5 * 3600))
            if desk is None:
                continue
            for _ in range(rng.randint(1, 3)):
                family = rng.choice(families)
                ticket = world.new_ticket(desk.t, family[0], "billing", desk.t - 3600)
                world.log.ticket(desk.t, ticket, "assigned", agent.id)
                ticket.holder = agent.id
                handle(desk, ticket)
                for sibling in family[1:]:
                    desk.request("customer.view", sibling, ticket)
                    desk.request("billing.view", sibling, ticket)
                    if rng.random() < 0.3:
                        desk.request("contact.view", sibling, ticket)
                if rng.random() < 0.6:
                    ticket.closed = int(desk.t + 60)
                    world.log.ticket(ticket.closed, ticket, "closed")


def overtime(world: World, agents: list[Agent]) -> None:
    """Two to three hours past the shift on four days, under tickets assigned then."""
    rng = world.rng
    for agent in agents:
        for day in rng.sample(range(3, DAYS), 8):
            bounds = shift_bounds(agent, day)
            if bounds is None:
                continue
            place = place_in(agent.country, agent.office_ip, agent.devices[0], agent.browser, rng)
            desk = sign_in(world, agent, place, bounds[1] + rng.uniform(0, 900))
            for _ in range(rng.randint(4, 8)):
                customer = world.pick_customer(agent.team.regions[0])
                ticket = world.new_ticket(desk.t, customer, "outage", desk.t - 1800)
                world.log.ticket(desk.t, ticket, "assigned", agent.id)
                ticket.holder = agent.id
                handle(desk, ticket)


def lead_reviews(world: World, sessions: Sessions, lead: Agent) -> None:
    """A lead's daily review: 5-15 customers its teammates served in the last days,
    opened without a ticket."""
    rng = world.rng
    mates = {a.id for a in world.team(lead.team.name)} - {lead.id}
    by_id = {c.id: c for c in world.everyone}
    served = sorted(
        (_seconds(r["time"]), r["customer"])
        for r in world.log.records
        if r["kind"] == "access" and r["agent"] in mates and r.get("customer")
    )
    for day in range(DAYS):
        desk = _desk(world, sessions, lead, day, rng.uniform(1800, 4 * 3600))
        if desk is None:
            continue
        recent = {c for t, c in served if desk.t - 3 * 86400 <= t < desk.t}
        for customer in rng.sample(sorted(recent), min(len(recent), rng.randint(5, 15))):
            desk.request("customer.view", by_id[customer], None, reason="agent_initiated_review")
            desk.request("contact.view", by_id[customer], None, reason="agent_initiated_review")


def travel(world: World, agent: Agent, country: str, days: range) -> None:
    """Works its usual hours from another country on a new laptop."""
    rng = world.rng
    device = f"dv-{rng.randrange(16**8):08x}"
    place = place_in(country, address(rng, country), device, agent.browser, rng)
    for day in days:
        work_day(world, agent, day, place=place)


def spray(world: World, targets: list[Agent], day: int) -> None:
    """A password spray: a few failed sign-ins on each target from foreign addresses."""
    rng = world.rng
    ips = [address(rng, "VN") for _ in range(3)]
    t = day_start(day) + 3 * 3600
    for agent in targets:
        for _ in range(rng.randint(2, 5)):
            t += rng.uniform(3, 30)
            place = place_in("VN", rng.choice(ips), "dv-spray", "python-requests/2.31", rng)
            world.log.signin(t, agent, world.session(), place, outcome="failure", mfa="none")


# --- attacks -------------------------------------------------------------------------


def harvester(world: World, victim: Agent, truth: ShapeTruth) -> None:
    """Phished credentials used from another country, mostly off shift, on a new device:
    120-200 customers read over two nights, contacts revealed, no ticket."""
    rng = world.rng
    ip, device = address(rng, "NG"), f"dv-{rng.randrange(16**8):08x}"
    for day in (17, 18):
        place = place_in("NG", ip, device, "Mozilla/5.0 Chrome/118.0", rng)
        start = day_start(day) + rng.uniform(3, 5) * 3600  # night in the Americas
        desk = sign_in(world, victim, place, start)
        truth.starts.setdefault("harvester", stamp(desk.t))
        for _ in range(rng.randint(60, 100)):
            customer = rng.choice(world.everyone)
            desk.request("customer.view", customer, None, reason="customer_initiated_support")
            desk.request("contact.reveal", customer, None, reason="customer_initiated_support",
                         contact=customer.contacts[0])  # fmt: skip
            desk.t -= rng.uniform(0, 60)  # scripted: faster than a person
    truth.attacks["harvester"] = victim.id


def billing_insider(world: World, sessions: Sessions, insider: Agent, truth: ShapeTruth) -> None:
    """From the second week, 2-5 billing contacts revealed a day, of customers it has no
    ticket for: without a ticket, or citing one of its own closed tickets."""
    rng = world.rng
    closed = sorted(
        (_seconds(r["time"]), r["ticket"])
        for r in world.log.records
        if r["kind"] == "ticket" and r["event"] == "closed"
    )
    mine = {
        r["ticket"]
        for r in world.log.records
        if r["kind"] == "ticket" and r["event"] == "assigned" and r.get("agent") == insider.id
    }
    own_closed = [(t, k) for t, k in closed if k in mine]
    for day in range(7, DAYS):
        desk = _desk(world, sessions, insider, day, rng.uniform(1800, 6 * 3600))
        if desk is None:
            continue
        for _ in range(rng.randint(2, 5)):
            customer = rng.choice(world.customers["us"])
            before = [k for t, k in own_closed if t < desk.t - 3600]
            cited = before[-1] if before and rng.random() < 0.5 else None
            desk.request("customer.view", customer, cited, reason="agent_initiated_review")
            desk.request("contact.reveal", customer, cited, reason="agent_initiated_review",
                         contact=customer.contacts[0])  # fmt: skip
            truth.starts.setdefault("billing_insider", stamp(desk.t))
            desk.t += rng.uniform(600, 3600)
    truth.attacks["billing_insider"] = insider.id


def own_ticket_reader(world: World, sessions: Sessions, agent: Agent, truth: ShapeTruth) -> None:
    """On one day, 30-60 unrelated customers read under tickets the agent holds."""
    rng = world.rng
    held: list[Ticket] = []
    for day in range(15, DAYS):
        desk = _desk(world, sessions, agent, day, rng.uniform(3600, 3 * 3600))
        if desk is None:
            continue
        for _ in range(2):
            customer = world.pick_customer("us")
            ticket = world.new_ticket(desk.t, customer, "billing", desk.t - 600)
            world.log.ticket(desk.t, ticket, "assigned", agent.id)
            held.append(ticket)
        truth.starts["own_ticket_reader"] = stamp(desk.t + 1)
        for _ in range(rng.randint(30, 60)):
            customer = rng.choice(world.everyone)
            ticket = rng.choice(held)
            desk.request("customer.view", customer, ticket)
            desk.request("contact.view", customer, ticket)
            if rng.random() < 0.5:
                desk.request("billing.view", customer, ticket)
        break
    truth.attacks["own_ticket_reader"] = agent.id


def session_from_abroad(world: World, sessions: Sessions, victim: Agent, truth: ShapeTruth) -> None:
    """A failed sign-in from abroad, then the victim's live session (cookie stolen) used
    from that address minutes later: 15-25 customers' contacts revealed."""
    rng = world.rng
    for day in range(19, DAYS):
        found = sessions.on(victim, day)
        if found is None:
            continue
        session, t, _ = found
        ip = address(rng, "RO")
        when = t + rng.uniform(2, 4) * 3600
        place = place_in("RO", ip, f"dv-{rng.randrange(16**8):08x}", victim.browser, rng)
        world.log.signin(when, victim, world.session(), place, outcome="failure")
        desk = Desk(world=world, agent=victim, session=session, t=when + rng.uniform(60, 240))
        truth.starts["session_from_abroad"] = stamp(when)
        for _ in range(rng.randint(15, 25)):
            customer = rng.choice(world.everyone)
            desk.request("customer.view", customer, None, ip=ip)
            desk.request("contact.reveal", customer, None, ip=ip, contact=customer.contacts[0])
        break
    truth.attacks["session_from_abroad"] = victim.id


#: Each attack and the team its agent comes from.
ATTACKS = {
    "harvester": "desk-mx",
    "billing_insider": "volume-desk",
    "own_ticket_reader": "accounts",
    "session_from_abroad": "field-desk",
}


def build(seed: int) -> tuple[World, ShapeTruth]:
    """The log: the organisation's honest month, the shapes, every attack."""
    world = make_world(seed, customers=2_400, teams=TEAMS)
    families = _siblings(world, 80)
    truth = ShapeTruth()
    teams = {t.name: world.team(t.name) for t in TEAMS}
    victims = {name: teams[team][-1] for name, team in ATTACKS.items()}
    leads = [members[0] for members in teams.values()]
    mx = teams["desk-mx"]
    overtimers, travellers, sprayed = mx[1:5], [mx[5], teams["volume-desk"][1]], mx[6:9]
    skip = {a.id: set(range(10, 13)) for a in travellers}
    honest_month(world, skip=skip)
    for agent, country in zip(travellers, ("PT", "BR"), strict=True):
        travel(world, agent, country, range(10, 13))
    sessions = Sessions(world)
    assurance_reviews(world, sessions, teams["billing-assurance"][1:])
    unticketed_reads(world, sessions, teams["volume-desk"])
    sibling_tickets(world, sessions, teams["accounts"], families)
    overtime(world, overtimers)
    for lead in leads:
        lead_reviews(world, sessions, lead)
    spray(world, sprayed, 12)
    roaming_addresses(world, teams["field-desk"])  # before the attack's foreign requests
    harvester(world, victims["harvester"], truth)
    billing_insider(world, sessions, victims["billing_insider"], truth)
    own_ticket_reader(world, sessions, victims["own_ticket_reader"], truth)
    session_from_abroad(world, sessions, victims["session_from_abroad"], truth)
    attacked = set(truth.attacks.values())
    special = {
        "overtime": overtimers, "team_lead": leads, "traveller": travellers, "sprayed": sprayed,
    }  # fmt: skip
    named = {a.id for group in special.values() for a in group} | attacked
    for team, members in teams.items():
        shape = _TEAM_SHAPE[team]
        truth.shapes[shape] = [a.id for a in members if a.id not in named]
    for shape, group in special.items():
        truth.shapes[shape] = [a.id for a in group if a.id not in attacked]
    truth.shapes["roaming"].append(teams["field-desk"][0].id)  # its lead roams too
    return world, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    world, truth = build(args.seed)
    world.log.write(args.out)
    print(orjson.dumps(truth.as_json(), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
