"""The simulated support organisation: its agents, and how customers reach them.

Built once per simulation from the seed, then shared read-only with every worker. The
profiles hold exactly what the per-day generators need, precomputed, so that the work of
making one event stays small.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, replace
from itertools import accumulate

import orjson

from vigile.simulate.clock import Calendar
from vigile.simulate.customers import CustomerProfile, build_customers
from vigile.simulate.geography import COUNTRIES, REGIONS, SITES, Site
from vigile.simulate.keys import IdMint, Purpose, stream
from vigile.simulate.names import BROWSERS, PRODUCTS, person_name

__all__ = [
    "AI_SLOT_GAP",
    "AI_TEAM",
    "AgentProfile",
    "AiAgent",
    "Directory",
    "Organisation",
    "Pool",
    "Trip",
    "build_organisation",
    "random_ip",
    "user_agent",
]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# (working weekdays, start, end, weight for employees, weight for contractors)
_SHIFTS: tuple[tuple[tuple[int, ...], str, str, float, float], ...] = (
    ((0, 1, 2, 3, 4), "09:00", "17:00", 5.0, 2.0),
    ((0, 1, 2, 3, 4), "08:00", "16:00", 3.0, 2.0),
    ((0, 1, 2, 3, 4), "10:00", "18:00", 2.0, 1.0),
    ((0, 1, 2, 3, 4), "07:00", "15:00", 1.0, 1.0),
    ((0, 1, 2, 3, 4), "14:00", "22:00", 1.0, 3.0),
    ((2, 3, 4, 5, 6), "09:00", "17:00", 0.7, 2.0),
    ((6, 0, 1, 2, 3), "08:00", "16:00", 0.5, 1.0),
)
_PRODUCT_WEIGHTS = (0.3, 0.25, 0.15, 0.15, 0.15)  # billing, compute, identity, storage, network
_TIERS = (1, 2, 3)
_TIER_WEIGHTS = {"vigile-cloud": (0.45, 0.35, 0.2), "contractor": (0.7, 0.28, 0.02)}
_OS = ("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7")
# Which customer tiers an agent tier serves, and in what share: government to tiers 2-3.
_TICKET_SHARES: dict[int, dict[str, float]] = {
    1: {"smb": 0.8, "enterprise": 0.2},
    2: {"smb": 0.35, "enterprise": 0.5, "government": 0.15},
    3: {"enterprise": 0.55, "government": 0.45},
}
_ANY = {"smb": 1.0, "enterprise": 1.0, "government": 1.0}
AI_SLOT_GAP = 64  # AI agents' slots start this far past the people's: attackers' go between
AI_TEAM = "ai-support"  # the team that owns the AI agents
_AI_MODELS = ("example-model-1", "example-model-2")
_AI_HOURS = ("07:00", "21:00")  # local hours the AI agents take the queue, every day
_AI_ORGANISATION = 1  # the AI agents' own organisation stream: people's stay as they were
_TRAVEL = ("ES", "IT", "FR", "US", "GB", "TH", "PT", "DE", "JP", "AU", "MX", "NL")


@dataclass(frozen=True, kw_only=True, slots=True)
class Trip:
    """Days an agent works away from home, from one hotel address."""

    first: int
    last: int
    country: str
    ip: str
    lat: float
    lon: float
    device: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentProfile:
    """One agent and everything their daily routine depends on."""

    index: int
    id: str
    name: str
    team: str
    region: str
    product: str
    employer: str
    site: Site
    tier: int
    weekdays: frozenset[int]
    start: int  # seconds after local midnight
    end: int
    device: str
    user_agent: str  # with ``{v}`` where the browser's major version goes
    browser_version: int
    mfa: str
    office_ips: tuple[str, ...]
    home_ips: tuple[str, ...]
    lease_days: int
    office_share: float
    pace: float
    trip: Trip | None
    vacation: tuple[int, int] | None

    @property
    def timezone(self) -> str:
        return self.site.timezone

    @property
    def country(self) -> str:
        return self.site.country

    @property
    def is_contractor(self) -> bool:
        return self.employer != "vigile-cloud"


@dataclass(frozen=True, kw_only=True, slots=True)
class AiAgent:
    """An AI support agent: its profile (as people's), its model and supervising human.

    It calls the support tools through ``vigile mcp`` from its runtime's one address, with
    no browser and no second factor, every day during the team's hours.
    """

    profile: AgentProfile
    model: str
    supervisor: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Pool:
    """Customers an agent may draw tickets from, weighted by how often they call."""

    members: tuple[int, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: random.Random) -> int:
        """A customer index, the busier customers more often."""
        x = rng.random() * self.cumulative[-1]
        return self.members[bisect.bisect_right(self.cumulative, x)]


@dataclass(frozen=True, kw_only=True, slots=True)
class Organisation:
    """Agents, customers and the ticket pools of each team."""

    agents: tuple[AgentProfile, ...]
    customers: tuple[CustomerProfile, ...]
    pools: dict[tuple[str, str, int], Pool]  # (region, product, agent tier) -> tickets
    names: tuple[str, ...]  # lower-case customer names, sorted, for prefix search
    name_order: tuple[int, ...]  # customer index of each entry of ``names``
    ai_agents: tuple[AiAgent, ...] = ()  # indices follow the people's, past every attacker

    def search(self, prefix: str, limit: int) -> tuple[str, ...]:
        """Ids of the first ``limit`` customers whose name starts with ``prefix``."""
        i = bisect.bisect_left(self.names, prefix)
        found: list[str] = []
        while i < len(self.names) and len(found) < limit and self.names[i].startswith(prefix):
            found.append(self.customers[self.name_order[i]].id)
            i += 1
        return tuple(found)


@dataclass(frozen=True, kw_only=True, slots=True)
class Directory:
    """The directory records, already encoded, and how many there are."""

    data: bytes
    count: int


def random_ip(rng: random.Random, country: str) -> str:
    """An address that geolocates to ``country``."""
    first = rng.choice(COUNTRIES[country].prefixes)
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _pick_site(rng: random.Random, index: int) -> Site:
    # The first agents cover each region once, so even a tiny organisation is global.
    sites = [s for s in SITES if index >= len(REGIONS) or s.region == REGIONS[index]]
    return rng.choices(sites, weights=[s.agents_weight for s in sites])[0]


def _shift(rng: random.Random, contractor: bool) -> tuple[tuple[int, ...], str, str]:
    weights = [s[4] if contractor else s[3] for s in _SHIFTS]
    days, start, end, _, _ = rng.choices(_SHIFTS, weights=weights)[0]
    return days, start, end


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def user_agent(rng: random.Random) -> tuple[str, int]:
    """A browser's user agent, ``{v}`` standing for its major version, and that version."""
    browser, version = rng.choice(BROWSERS)
    os_token = rng.choice(_OS)
    if browser == "Firefox":
        return f"Mozilla/5.0 ({os_token}; rv:{{v}}.0) Gecko/20100101 Firefox/{{v}}.0", version
    tail = " Edg/{v}.0.0.0" if browser == "Edg" else ""
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    return f"Mozilla/5.0 ({os_token}) {webkit} Chrome/{{v}}.0.0.0 Safari/537.36{tail}", version


def _trip(rng: random.Random, home: str, days: int, device: str, loaner: str) -> Trip | None:
    if rng.random() >= 0.15:
        return None
    country = rng.choice([c for c in _TRAVEL if c != home])
    first = rng.randrange(days)
    place = COUNTRIES[country]
    return Trip(
        first=first,
        last=first + rng.randint(2, 8),
        country=country,
        ip=random_ip(rng, country),
        lat=place.lat,
        lon=place.lon,
        device=device if rng.random() < 0.7 else loaner,
    )


def _vacation(rng: random.Random, days: int) -> tuple[int, int] | None:
    if days < 20 or rng.random() >= 0.5:
        return None
    first = rng.randrange(days)
    return first, first + rng.randint(4, 11)


def _agent(
    rng: random.Random,
    index: int,
    calendar: Calendar,
    mint: IdMint,
    offices: dict[str, tuple[str, ...]],
) -> AgentProfile:
    site = _pick_site(rng, index)
    contractor = site.employer != "vigile-cloud"
    product = rng.choices(PRODUCTS, weights=_PRODUCT_WEIGHTS)[0]
    weekdays, start, end = _shift(rng, contractor)
    first, last = person_name(rng)
    browser, version = user_agent(rng)
    device = mint.device(index, 0)
    leases = max(20, int(rng.gauss(45, 15)))
    return AgentProfile(
        index=index,
        id=f"a-{index:04d}",
        name=f"{first} {last}",
        team=f"{product}-{site.region}",
        region=site.region,
        product=product,
        employer=site.employer,
        site=site,
        tier=rng.choices(_TIERS, _TIER_WEIGHTS["contractor" if contractor else site.employer])[0],
        weekdays=frozenset(weekdays),
        start=_seconds(start),
        end=_seconds(end),
        device=device,
        user_agent=browser,
        browser_version=version + rng.randrange(-2, 1),
        mfa=rng.choice(("push", "totp") if contractor else ("webauthn", "webauthn", "push")),
        office_ips=offices[site.city],
        home_ips=tuple(random_ip(rng, site.country) for _ in range(calendar.days // leases + 2)),
        lease_days=leases,
        office_share=0.9 if contractor else rng.uniform(0.2, 0.8),
        pace=rng.uniform(1.7, 2.2) if rng.random() < 0.06 else rng.uniform(0.85, 1.15),
        trip=_trip(rng, site.country, calendar.days, device, mint.device(index, 1)),
        vacation=_vacation(rng, calendar.days),
    )


def _agent_record(agent: AgentProfile) -> dict[str, object]:
    return {
        "kind": "agent",
        "id": agent.id,
        "name": agent.name,
        "team": agent.team,
        "employer": agent.employer,
        "country": agent.country,
        "timezone": agent.timezone,
        "shift": {
            "days": [d for i, d in enumerate(_WEEKDAYS) if i in agent.weekdays],
            "start": f"{agent.start // 3600:02d}:{agent.start % 3600 // 60:02d}",
            "end": f"{agent.end // 3600:02d}:{agent.end % 3600 // 60:02d}",
        },
        "tier": agent.tier,
    }


def _ai_agent(
    rng: random.Random, n: int, index: int, staff: tuple[AgentProfile, ...], mint: IdMint
) -> AiAgent:
    region = REGIONS[n % len(REGIONS)]
    site = next(s for s in SITES if s.region == region and s.employer == "vigile-cloud")
    # The supervisor: a person of the region's billing team, the most senior one first.
    people = [a for a in staff if a.region == region] or list(staff)
    billing = [a for a in people if a.product == "billing"] or people
    top = max(a.tier for a in billing)
    supervisor = rng.choice([a for a in billing if a.tier == top])
    address = random_ip(rng, site.country)  # the agent runtime's server
    profile = AgentProfile(
        index=index, id=f"ai-{n:04d}", name=f"Support assistant {n + 1}", team=AI_TEAM,
        region=region, product="billing", employer="vigile-cloud", site=site, tier=1,
        weekdays=frozenset(range(7)), start=_seconds(_AI_HOURS[0]), end=_seconds(_AI_HOURS[1]),
        device=mint.device(index, 0), user_agent="vigile-mcp-client/1.0", browser_version=0,
        mfa="none", office_ips=(address,), home_ips=(address,), lease_days=10_000,
        office_share=1.0, pace=1.0, trip=None, vacation=None,
    )  # fmt: skip
    return AiAgent(profile=profile, model=rng.choice(_AI_MODELS), supervisor=supervisor.id)


def _ai_record(ai: AiAgent) -> dict[str, object]:
    record = _agent_record(ai.profile)
    record["ai"] = {"model": ai.model, "supervisor": ai.supervisor}
    return record


def _pool(customers: tuple[CustomerProfile, ...], shares: dict[str, float]) -> Pool | None:
    # Each customer tier gets the agent tier's share of the tickets, spread by activity.
    totals = dict.fromkeys(shares, 0.0)
    for c in customers:
        if c.tier in totals:
            totals[c.tier] += c.activity
    members = [c for c in customers if totals.get(c.tier)]
    if not members:
        return None
    weights = (c.activity * shares[c.tier] / totals[c.tier] for c in members)
    return Pool(members=tuple(c.index for c in members), cumulative=tuple(accumulate(weights)))


def _pools(customers: tuple[CustomerProfile, ...]) -> dict[tuple[str, str, int], Pool]:
    """Where each team's tickets come from, per agent tier, with fallbacks for tiny setups."""
    pools: dict[tuple[str, str, int], Pool] = {}
    for region in REGIONS:
        local = tuple(c for c in customers if c.region == region) or customers
        for product in PRODUCTS:
            served = tuple(c for c in local if product == "billing" or product in c.services)
            for tier, shares in _TICKET_SHARES.items():
                pool = _pool(served, shares) or _pool(local, shares) or _pool(customers, _ANY)
                if pool is not None:
                    pools[region, product, tier] = pool
    return pools


def build_organisation(
    *,
    seed: int,
    calendar: Calendar,
    agents: int,
    customers: int,
    mint: IdMint,
    ai_agents: int = 0,
) -> tuple[Organisation, Directory]:
    """The organisation of a simulation and its encoded directory records.

    ``ai_agents`` come from a stream of their own, after everything else: without them
    the organisation is exactly what it was before they existed.
    """
    rng = stream(seed, Purpose.ORGANISATION)
    offices = {s.city: tuple(random_ip(rng, s.country) for _ in range(3)) for s in SITES}
    staff = tuple(_agent(rng, i, calendar, mint, offices) for i in range(agents))
    clients, client_data, client_count = build_customers(rng, customers)
    order = sorted(range(len(clients)), key=lambda i: (clients[i].name.lower(), i))
    org = Organisation(
        agents=staff,
        customers=clients,
        pools=_pools(clients),
        names=tuple(clients[i].name.lower() for i in order),
        name_order=tuple(order),
    )
    option = orjson.OPT_APPEND_NEWLINE
    data = b"".join(orjson.dumps(_agent_record(a), option=option) for a in staff)
    if ai_agents:
        ai_rng = stream(seed, Purpose.ORGANISATION, _AI_ORGANISATION)
        first = agents + AI_SLOT_GAP
        bots = tuple(_ai_agent(ai_rng, n, first + n, staff, mint) for n in range(ai_agents))
        org = replace(org, ai_agents=bots)
        data += b"".join(orjson.dumps(_ai_record(a), option=option) for a in bots)
    data += client_data
    return org, Directory(data=data, count=len(staff) + ai_agents + client_count)
