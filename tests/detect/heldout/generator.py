"""An independent support organisation for held-out detection tests (issue #5).

Written without ``vigile.simulate`` so that it shares none of its choices: other teams
(a Manila night desk covering the United States, a Warsaw/Lisbon outsourcer behind a
proxy pool, a Sao Paulo billing team on split shifts, a small government desk with a
team lead, a Sydney tier 2), weekend and night shifts, repeat customers drawn from a
heavy-tailed popularity, tickets that last days and are escalated, searches by name
prefix, e-mail or user name, residential addresses that rotate, second devices, a VPN
egress in another country, the honest noise real justification data carries (a wrong
ticket pasted, follow-ups on closed tickets, a lookup for a colleague, denials) and a
public holiday followed by a surge.

:class:`World` is the organisation and its customers; :func:`honest_month` writes the
honest work; ``scenarios.py`` adds attacks and confounders. Every record follows the
activity-log spec (``docs/spec/activity-log.md``). Run as a module to write a
log: ``python3 -m tests.detect.heldout.generator out.jsonl --seed 11``.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

__all__ = [
    "DAYS",
    "START",
    "Agent",
    "Customer",
    "Log",
    "Team",
    "Ticket",
    "World",
    "honest_month",
    "make_world",
    "stamp",
]

START = date(2026, 2, 2)  # a Monday; 2026-02-16 is a US public holiday
DAYS = 28
HOLIDAY = 14  # day index of the holiday (US teams mostly off)
SURGE = 15  # the day after: backlog, overtime, more searches
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# (country, lat, lon, first octet): addresses always agree with the reported country.
GEO: dict[str, tuple[float, float, int]] = {
    "US": (41.88, -87.63, 73), "PL": (52.23, 21.01, 83), "PT": (38.72, -9.14, 85),
    "PH": (14.60, 120.98, 112), "SG": (1.35, 103.82, 118), "BR": (-23.55, -46.63, 177),
    "AU": (-33.87, 151.21, 101), "MX": (19.43, -99.13, 187), "DE": (52.52, 13.40, 91),
    "NG": (6.52, 3.38, 105), "VN": (10.82, 106.63, 113), "RO": (44.43, 26.10, 86),
}  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Team:
    """A team: where it sits, when it works, what it handles."""

    name: str
    size: int
    employer: str
    country: str
    timezone: str
    shifts: tuple[tuple[tuple[str, ...], str, str], ...]  # (days, start, end) choices
    regions: tuple[str, ...]
    tickets: tuple[int, int]  # per working day
    reveal: float  # share of tickets revealing a contact in clear
    office: float  # share of days at the office (else home)
    proxy_pool: bool = False  # requests leave through a pool of addresses
    split: bool = False  # two blocks a day, two sign-ins
    escalations: bool = False  # works escalated tickets


_WEEK = ("mon", "tue", "wed", "thu", "fri")
TEAMS: tuple[Team, ...] = (
    Team(
        name="desk-us", size=26, employer="acme", country="US", timezone="America/Chicago",
        shifts=((_WEEK, "06:00", "14:30"), (_WEEK, "14:00", "22:30"),
                (("fri", "sat", "sun", "mon"), "08:00", "18:00")),
        regions=("us",), tickets=(7, 13), reveal=0.12, office=0.5,
    ),
    Team(
        name="desk-emea", size=20, employer="helpline-outsourcing", country="PL",
        timezone="Europe/Warsaw",
        shifts=((_WEEK, "08:00", "16:00"), (_WEEK, "12:00", "20:00"),
                (("wed", "thu", "sat", "sun"), "09:00", "19:00")),
        regions=("emea",), tickets=(8, 14), reveal=0.10, office=1.0, proxy_pool=True,
    ),
    Team(
        name="night-ph", size=16, employer="bpo-manila", country="PH", timezone="Asia/Manila",
        shifts=((_WEEK, "21:00", "06:00"), (("tue", "wed", "thu", "fri", "sat"), "22:00", "07:00")),
        regions=("us",), tickets=(6, 10), reveal=0.08, office=1.0,
    ),
    Team(
        name="gov-care", size=8, employer="acme", country="US", timezone="America/New_York",
        shifts=((_WEEK, "09:00", "17:00"),),
        regions=("gov",), tickets=(3, 6), reveal=0.25, office=0.6, escalations=True,
    ),
    Team(
        name="billing-latam", size=12, employer="acme", country="BR",
        timezone="America/Sao_Paulo",
        shifts=((("mon", "tue", "wed", "thu", "fri", "sat"), "07:00", "19:00"),),
        regions=("latam",), tickets=(9, 15), reveal=0.30, office=0.7, split=True,
    ),
    Team(
        name="apac-tier2", size=8, employer="acme", country="AU", timezone="Australia/Sydney",
        shifts=((_WEEK, "08:30", "17:00"),),
        regions=("apac",), tickets=(3, 5), reveal=0.15, office=0.8, escalations=True,
    ),
)  # fmt: skip

_REGION_COUNTRIES = {
    "us": ("US",), "emea": ("PL", "PT", "DE", "RO"), "latam": ("BR", "MX"), "apac": ("AU", "SG"),
}  # fmt: skip
_SYLLABLES = ("ka", "lo", "mer", "vin", "tor", "sa", "bel", "quo", "dra", "ni", "pex", "ul",
              "zen", "ory", "fal", "cor", "tri", "mo", "gal", "ven")  # fmt: skip
_SUFFIX = ("Ltd", "GmbH", "Inc", "SA", "Group", "Labs", "Agency", "Ministry", "Council")


@dataclass(kw_only=True, slots=True)
class Agent:
    """A support agent and its habits."""

    id: str
    team: Team
    shift: tuple[tuple[str, ...], str, str]
    home_ip: str
    office_ip: str
    devices: tuple[str, ...]
    browser: str
    joined: int = 0  # first working day (new hires join late)
    egress: str | None = None  # a second country its VPN sometimes exits in
    rotating_home: bool = False
    backlog: list[Ticket] = field(default_factory=list)
    last_ticket: Ticket | None = None

    @property
    def country(self) -> str:
        return self.team.country


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    """A customer with its contacts, accounts and subscriptions."""

    id: str
    name: str
    tier: str
    country: str
    region: str
    contacts: tuple[tuple[str, str, str], ...]  # (id, role, email)
    accounts: tuple[tuple[str, str], ...]  # (id, username)
    subscriptions: tuple[str, ...]


@dataclass(kw_only=True, slots=True)
class Ticket:
    """A ticket and who holds it."""

    id: str
    customer: Customer
    category: str
    opened: float = 0.0
    holder: str | None = None
    closed: int | None = None


def stamp(seconds: float, zone: str | None = None) -> str:
    """RFC 3339: UTC with ``Z``, or in ``zone`` with its offset."""
    moment = datetime.fromtimestamp(int(seconds), UTC)
    if zone is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(ZoneInfo(zone)).isoformat()


class Log:
    """Records in memory, written as JSON Lines (any order: the reader sorts by time)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = [
            {"kind": "header", "format": "vigile-activity", "version": 1}
        ]
        self._ids = count(1)

    def event_id(self) -> str:
        return f"hx-{next(self._ids):07d}"

    def add(self, **record: Any) -> None:
        self.records.append({k: v for k, v in record.items() if v is not None})

    def signin(self, t: float, agent: Agent, session: str, place: Place, **extra: Any) -> None:
        """A sign-in, stamped in the agent's own offset (the spec allows any)."""
        self.add(
            kind="signin", time=stamp(t, agent.team.timezone), id=self.event_id(),
            agent=agent.id, session=session, ip=place.ip, country=place.country,
            lat=place.lat, lon=place.lon, device=place.device, user_agent=place.browser,
            mfa=extra.pop("mfa", "push"), outcome=extra.pop("outcome", "success"), **extra,
        )  # fmt: skip

    def access(
        self, t: float, agent: Agent, session: str, action: str, customer: Customer | None,
        *, ticket: Ticket | str | None, reason: str = "customer_initiated_support",
        ip: str | None = None, outcome: str = "allowed", **extra: Any,
    ) -> str:  # fmt: skip
        """One request for customer data; its id."""
        ident = self.event_id()
        cited = ticket.id if isinstance(ticket, Ticket) else ticket
        fields, masked, obj = _fields(action, customer, extra.pop("contact", None))
        self.add(
            kind="access", time=stamp(t), id=ident, agent=agent.id, session=session, ip=ip,
            action=action, customer=customer.id if customer else None, object=obj,
            fields=extra.pop("fields", fields) if outcome == "allowed" else [],
            masked_fields=masked if outcome == "allowed" and masked else None,
            ticket=cited, reason=reason, outcome=outcome,
            deny_reason=extra.pop("deny_reason", "not_entitled" if outcome == "denied" else None),
            **extra,
        )  # fmt: skip
        return ident

    def ticket(self, t: float, ticket: Ticket, event: str, agent: str | None = None) -> None:
        self.add(
            kind="ticket", time=stamp(t), ticket=ticket.id, event=event, agent=agent,
            customer=ticket.customer.id if event == "opened" else None,
            category=ticket.category if event == "opened" else None,
        )  # fmt: skip

    def write(self, path: Path) -> Path:
        with path.open("wb") as out:
            for record in self.records:
                out.write(orjson.dumps(record) + b"\n")
        return path


def _fields(
    action: str, customer: Customer | None, contact: tuple[str, str, str] | None
) -> tuple[list[str], list[str], str | None]:
    if customer is None:
        return [], [], None
    if action in ("contact.view", "contact.reveal"):
        contact = contact or customer.contacts[0]
        if action == "contact.view":
            return ["contact.name", "contact.role"], ["contact.email", "contact.phone"], contact[0]
        return ["contact.email", "contact.phone"], [], contact[0]
    return {
        "customer.view": (["customer.name", "customer.tier", "customer.country"], [], None),
        "account.view": (["account.username", "account.email"], [], customer.accounts[0][0]),
        "subscription.view": (
            ["subscription.service", "subscription.plan", "subscription.seats"], [],
            customer.subscriptions[0],
        ),
        "billing.view": (["billing.address", "billing.invoices"], [], None),
        "export": (["customer.name", "contact.email", "billing.invoices"], [], None),
    }.get(action, ([], [], None))  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Place:
    """Where a sign-in comes from."""

    ip: str
    country: str
    lat: float
    lon: float
    device: str
    browser: str


def address(rng: random.Random, country: str) -> str:
    """A fresh address in ``country``'s invented range."""
    first = GEO[country][2]
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def place_in(country: str, ip: str, device: str, browser: str, rng: random.Random) -> Place:
    lat, lon, _ = GEO[country]
    return Place(
        ip=ip, country=country, lat=round(lat + rng.uniform(-0.2, 0.2), 3),
        lon=round(lon + rng.uniform(-0.2, 0.2), 3), device=device, browser=browser,
    )  # fmt: skip


@dataclass(kw_only=True, slots=True)
class World:
    """The organisation, its customers, the log being written and the open backlog."""

    rng: random.Random
    agents: list[Agent]
    customers: dict[str, list[Customer]]  # by region ("gov": government and enterprise, US)
    everyone: list[Customer]
    log: Log
    backlog: list[Ticket] = field(default_factory=list)  # opened, never assigned
    escalated: dict[str, list[Ticket]] = field(default_factory=dict)  # by team
    pools: dict[str, tuple[str, ...]] = field(default_factory=dict)  # proxy pools by team
    _tickets: Iterator[int] = field(default_factory=lambda: count(40_000))
    _sessions: Iterator[int] = field(default_factory=lambda: count(1))

    def new_ticket(self, t: float, customer: Customer, category: str, opened: float) -> Ticket:
        opened = max(opened, day_start(0))
        ticket = Ticket(
            id=f"SR-{next(self._tickets)}", customer=customer, category=category, opened=opened
        )
        self.log.ticket(opened, ticket, "opened")
        return ticket

    def session(self) -> str:
        return f"ss-{next(self._sessions):06d}-{self.rng.randrange(16**6):06x}"

    def team(self, name: str) -> list[Agent]:
        return [a for a in self.agents if a.team.name == name]

    def pick_customer(self, region: str) -> Customer:
        pool = self.customers[region]
        # Heavy-tailed popularity: a few customers raise many tickets.
        return pool[min(int(self.rng.paretovariate(1.1)) - 1, len(pool) - 1)]


def day_start(day: int) -> float:
    return datetime(START.year, START.month, START.day, tzinfo=UTC).timestamp() + day * 86400


def local(day: int, hhmm: str, zone: str, shift_days: int = 0) -> float:
    """UTC seconds of ``hhmm`` on the local date ``START + day``."""
    d = START + timedelta(days=day + shift_days)
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp()


def shift_bounds(agent: Agent, day: int) -> tuple[float, float] | None:
    """The agent's shift starting on local date ``day``, if it works that weekday."""
    days, start, end = agent.shift
    if _WEEKDAYS[(START + timedelta(days=day)).weekday()] not in days:
        return None
    begin = local(day, start, agent.team.timezone)
    finish = local(day, end, agent.team.timezone, 1 if end <= start else 0)
    return begin, finish


def _customers(rng: random.Random, size: int) -> tuple[dict[str, list[Customer]], list[Customer]]:
    by_region: dict[str, list[Customer]] = {r: [] for r in (*_REGION_COUNTRIES, "gov")}
    everyone = []
    for i in range(size):
        region = rng.choices(list(_REGION_COUNTRIES), weights=(45, 30, 15, 10))[0]
        tier = rng.choices(("government", "enterprise", "smb", "consumer"), (4, 14, 52, 30))[0]
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        suffix = "Ministry" if tier == "government" else rng.choice(_SUFFIX[:-2])
        ident = f"cu-{i + 1:05d}"
        domain = f"{name.lower()}.example"
        contacts = tuple(
            (f"{ident}-{role[0]}", role, f"{role}@{domain}")
            for role in ("billing", "technical", "admin")
            if role == "billing" or rng.random() < 0.5
        )
        customer = Customer(
            id=ident, name=f"{name} {suffix}", tier=tier,
            country=rng.choice(_REGION_COUNTRIES[region]), region=region, contacts=contacts,
            accounts=tuple(
                (f"{ident}-u{k}", f"{name.lower()}{k}") for k in range(rng.randint(1, 3))
            ),
            subscriptions=tuple(f"{ident}-s{k}" for k in range(rng.randint(1, 2))),
        )  # fmt: skip
        by_region[region].append(customer)
        if region == "us" and tier in ("government", "enterprise"):
            by_region["gov"].append(customer)
        everyone.append(customer)
    for pool in by_region.values():
        rng.shuffle(pool)
    return by_region, everyone


def make_world(seed: int, *, customers: int = 1_800, teams: tuple[Team, ...] = TEAMS) -> World:
    """The organisation (by default 90 agents in six teams), its customers and directory
    records."""
    rng = random.Random(seed)
    by_region, everyone = _customers(rng, customers)
    log = Log()
    world = World(rng=rng, agents=[], customers=by_region, everyone=everyone, log=log)
    number = count(101)
    for team in teams:
        office = address(rng, team.country)
        if team.proxy_pool:
            base = office.rsplit(".", 1)[0]
            world.pools[team.name] = tuple(f"{base}.{rng.randrange(2, 250)}" for _ in range(4))
        for _ in range(team.size):
            world.agents.append(_agent(rng, team, f"ag-{next(number)}", office))
    for agent in world.agents:
        _directory_agent(log, agent)
    for c in everyone:
        log.add(kind="customer", id=c.id, name=c.name, tier=c.tier, country=c.country)
        for ident, role, email in c.contacts:
            phone = f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            log.add(kind="contact", id=ident, customer=c.id, role=role, email=email, phone=phone)
        for ident, user in c.accounts:
            log.add(kind="account", id=ident, customer=c.id, username=user, status="active")
        for ident in c.subscriptions:
            log.add(kind="subscription", id=ident, customer=c.id, service="mail", plan="pro")
    return world


def _agent(rng: random.Random, team: Team, ident: str, office: str) -> Agent:
    devices = [f"dv-{rng.randrange(16**8):08x}"]
    if rng.random() < 0.25:
        devices.append(f"dv-{rng.randrange(16**8):08x}")
    return Agent(
        id=ident, team=team, shift=rng.choice(team.shifts), home_ip=address(rng, team.country),
        office_ip=office, devices=tuple(devices),
        browser=f"Mozilla/5.0 Firefox/{rng.randint(120, 124)}.0",
        egress="SG" if team.name == "night-ph" and rng.random() < 0.5 else None,
        rotating_home=rng.random() < 0.3,
    )  # fmt: skip


def _directory_agent(log: Log, agent: Agent, when: float | None = None) -> None:
    days, start, end = agent.shift
    log.add(
        kind="agent", id=agent.id, name=f"Agent {agent.id[3:]}", team=agent.team.name,
        employer=agent.team.employer, country=agent.country, timezone=agent.team.timezone,
        shift={"days": list(days), "start": start, "end": end},
        tier=2 if agent.team.escalations else 1, time=stamp(when) if when else None,
    )  # fmt: skip


def honest_month(world: World, skip: dict[str, set[int]] | None = None) -> None:
    """Every agent's honest work over :data:`DAYS` days, and the unassigned backlog.
    ``skip``: days an agent does not work (a scenario writes them itself)."""
    from tests.detect.heldout.workday import work_day  # noqa: PLC0415 - one module per concern

    skip = skip or {}
    for day in range(-1, DAYS):
        _open_backlog(world, day)
        for agent in world.agents:
            if day >= agent.joined and day not in skip.get(agent.id, set()):
                work_day(world, agent, day)


def _open_backlog(world: World, day: int) -> None:
    """Tickets opened by e-mail that nobody picks up within the month."""
    rng = world.rng
    for region in ("us", "emea", "latam", "apac", "gov"):
        for _ in range(rng.randint(2, 5)):
            customer = world.pick_customer(region)
            t = day_start(max(day, 0)) + rng.uniform(0, 86400)
            world.backlog.append(world.new_ticket(t, customer, "email", t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    from tests.detect.heldout.scenarios import build  # noqa: PLC0415

    world, truth = build(args.seed)
    world.log.write(args.out)
    print(orjson.dumps(truth, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
