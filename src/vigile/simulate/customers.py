"""The simulated customers: organisations, their contacts, accounts and subscriptions.

Each customer is drawn once; its directory records are encoded on the spot and its
profile keeps only what the daily generators need (ids, tier, region, search terms).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from vigile.simulate.geography import COUNTRIES, REGIONS, customer_countries
from vigile.simulate.names import (
    PLANS,
    SERVICES,
    company_name,
    government_name,
    person_name,
    slug,
)

__all__ = ["CUSTOMER_TIERS", "SEARCH_PAGE", "CustomerProfile", "build_customers"]

CUSTOMER_TIERS: tuple[str, ...] = ("government", "enterprise", "smb")
_TIER_WEIGHTS = (0.05, 0.25, 0.70)
_REGION_WEIGHTS = (0.35, 0.45, 0.20)  # emea, amer, apac
_ACTIVITY = {"government": 2.0, "enterprise": 3.0, "smb": 1.0}  # tickets raised, relative
_ACCOUNTS = {"government": (2, 5), "enterprise": (3, 8), "smb": (1, 3)}
_SEATS = {"government": (10, 800), "enterprise": (20, 2000), "smb": (1, 25)}
_SUBSCRIPTIONS = {"government": (2, 4), "enterprise": (2, 4), "smb": (1, 2)}
_FX = {"EUR": 0.84, "GBP": 0.72, "JPY": 110.0, "CHF": 0.92, "AUD": 1.35, "CAD": 1.25}
SEARCH_PAGE = 10  # customers a search shows: the support tool's page size


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerProfile:
    """A customer as the daily generators see it."""

    index: int
    id: str
    name: str
    tier: str
    region: str
    billing: tuple[str, ...]  # contact ids by role
    technical: tuple[str, ...]
    admin: tuple[str, ...]
    accounts: tuple[str, ...]
    username: str  # what an agent types to find the customer by account
    subscriptions: tuple[tuple[str, str], ...]  # (subscription id, service)
    services: tuple[str, ...]
    monthly: float  # total monthly spend, in US dollars
    activity: float  # how often the customer raises tickets, relative
    query: str  # what an agent types to find the customer by name
    results: tuple[str, ...]  # what that search shows


def _contacts(
    rng: random.Random, cid: str, domain: str, calling: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    roles = ["billing", "technical", "admin"]
    if rng.random() < 0.3:
        roles.append("billing")
    if rng.random() < 0.4:
        roles.append("technical")
    for n, role in enumerate(roles, 1):
        first, last = person_name(rng)
        phone = f"{calling} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        yield (
            role,
            {
                "kind": "contact",
                "id": f"k-{cid[2:]}-{n}",
                "customer": cid,
                "role": role,
                "name": f"{first} {last}",
                "email": f"{slug(first)}.{slug(last)}@{domain}",
                "phone": phone,
            },
        )


def _accounts(rng: random.Random, cid: str, tier: str, domain: str) -> list[dict[str, Any]]:
    low, high = _ACCOUNTS[tier]
    records = []
    for n in range(1, rng.randint(low, high) + 1):
        first, last = person_name(rng)
        user = f"{slug(first)[0]}{slug(last)}{rng.randrange(100) if rng.random() < 0.3 else ''}"
        records.append(
            {
                "kind": "account",
                "id": f"u-{cid[2:]}-{n}",
                "customer": cid,
                "username": user,
                "email": f"{user}@{domain}",
                "status": "disabled" if rng.random() < 0.03 else "active",
            }
        )
    return records


def _subscriptions(rng: random.Random, cid: str, tier: str, currency: str) -> list[dict[str, Any]]:
    low, high = _SUBSCRIPTIONS[tier]
    services = rng.sample(SERVICES, rng.randint(low, high))
    billed_in = currency if currency in _FX else "USD"
    records = []
    for n, service in enumerate(services, 1):
        plan, price = PLANS[min(len(PLANS) - 1, rng.randrange(4) + (tier != "smb"))]
        seats = rng.randint(*_SEATS[tier])
        records.append(
            {
                "kind": "subscription",
                "id": f"sub-{cid[2:]}-{n}",
                "customer": cid,
                "service": service,
                "plan": plan,
                "seats": seats,
                "monthly_amount": round(seats * price * _FX.get(billed_in, 1.0), 2),
                "currency": billed_in,
                "usd": seats * price,
            }
        )
    return records


def _customer(rng: random.Random, index: int, width: int) -> tuple[dict[str, Any], bytes, int]:
    tier = rng.choices(CUSTOMER_TIERS, _TIER_WEIGHTS)[0]
    region = rng.choices(REGIONS, _REGION_WEIGHTS)[0]
    codes, weights = customer_countries(region)
    country = COUNTRIES[rng.choices(codes, weights)[0]]
    cid = f"c-{index:0{width}d}"
    name = government_name(rng, country.code) if tier == "government" else company_name(rng)
    domain = f"{slug(name.split(' (')[0])[:24]}.{country.tld}"
    contacts = list(_contacts(rng, cid, domain, country.calling))
    accounts = _accounts(rng, cid, tier, domain)
    subscriptions = _subscriptions(rng, cid, tier, country.currency)
    head = {"kind": "customer", "id": cid, "name": name, "tier": tier, "country": country.code}
    records = [head, *(c for _, c in contacts), *accounts]
    records += [{k: v for k, v in s.items() if k != "usd"} for s in subscriptions]
    fields = {
        "index": index,
        "id": cid,
        "name": name,
        "tier": tier,
        "region": region,
        "billing": tuple(c["id"] for r, c in contacts if r == "billing"),
        "technical": tuple(c["id"] for r, c in contacts if r == "technical"),
        "admin": tuple(c["id"] for r, c in contacts if r == "admin"),
        "accounts": tuple(a["id"] for a in accounts),
        "username": accounts[0]["username"],
        "subscriptions": tuple((s["id"], s["service"]) for s in subscriptions),
        "services": tuple(s["service"] for s in subscriptions),
        "monthly": round(sum(s["usd"] for s in subscriptions), 2),
        "activity": _ACTIVITY[tier] * min(20.0, rng.paretovariate(1.5)),
    }
    option = orjson.OPT_APPEND_NEWLINE
    return fields, b"".join([orjson.dumps(r, option=option) for r in records]), len(records)


def _query(name: str) -> str:
    # What an agent types: the name up to its second word, without a country suffix.
    words = name.split(" (", maxsplit=1)[0].lower().split(" ")
    return " ".join(words[:3] if words[1:2] == ["of"] else words[:2])


def _search_results(drafts: list[dict[str, Any]]) -> dict[int, tuple[str, ...]]:
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for d in drafts:
        groups.setdefault(_query(d["name"]), []).append((d["name"].lower(), d["id"], d["index"]))
    results: dict[int, tuple[str, ...]] = {}
    for members in groups.values():
        members.sort()
        page = [cid for _, cid, _ in members[:SEARCH_PAGE]]
        for _, cid, index in members:
            results[index] = tuple(page if cid in page else [cid, *page[: SEARCH_PAGE - 1]])
    return results


def build_customers(
    rng: random.Random, count: int
) -> tuple[tuple[CustomerProfile, ...], bytes, int]:
    """``count`` customers, their encoded directory records, and how many records."""
    width = max(5, len(str(count - 1)))
    drafts: list[dict[str, Any]] = []
    blocks: list[bytes] = []
    records = 0
    for index in range(count):
        fields, encoded, n = _customer(rng, index, width)
        drafts.append(fields)
        blocks.append(encoded)
        records += n
    results = _search_results(drafts)
    profiles = tuple(
        CustomerProfile(**d, query=_query(d["name"]), results=results[d["index"]]) for d in drafts
    )
    return profiles, b"".join(blocks), records
