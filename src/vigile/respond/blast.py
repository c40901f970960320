"""The blast radius of an incident, computed from the stored events.

Which customers the scope's allowed accesses reached, and for each: the fields returned in
clear, the fields seen only masked, the contacts, accounts and subscriptions concerned,
first and last access, how many accesses and through which actions. Denied accesses
expose nothing. A ``customer.search`` exposes its fields (``customer.name``) of every
customer in its ``results``.

The scope is served by the ``(agent, time_us)`` and ``(session, time_us)`` indexes of
``accesses``; rows are grouped in SQL by what they exposed, so Python folds a few groups
per customer, not every event (``benchmarks/bench_blast_radius.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, func, select

from vigile.model.times import format_rfc3339, from_micros, to_micros
from vigile.respond.scope import Scope
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "CATEGORIES",
    "BlastRadius",
    "BlastSummary",
    "CustomerExposure",
    "access_times",
    "blast_radius",
    "category_of",
    "scope_conditions",
]

#: Data categories, by the prefix of a data field (the vocabulary of the activity log).
CATEGORIES: Mapping[str, str] = {
    "customer": "organisation",
    "contact": "contacts",
    "account": "accounts",
    "subscription": "subscriptions",
    "billing": "billing",
}
# The kind of object an action concerns, to list exposed contacts, accounts, subscriptions.
_OBJECT_KINDS = {"contact": "contacts", "account": "accounts", "subscription": "subscriptions"}
_SEARCH = "customer.search"
_IN_CHUNK = 500  # ids per IN (...) list: far below every engine's bound parameters


def category_of(data_field: str) -> str:
    """The data category of a field (``contact.email`` -> ``contacts``)."""
    return CATEGORIES.get(data_field.split(".", 1)[0], "other")


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerExposure:
    """What one customer had exposed within the scope."""

    customer: str
    tier: str | None
    country: str | None
    fields: tuple[str, ...]
    masked_fields: tuple[str, ...]  # seen only masked: never in clear in the scope
    contacts: tuple[str, ...]
    accounts: tuple[str, ...]
    subscriptions: tuple[str, ...]
    first_access: datetime
    last_access: datetime
    accesses: int
    actions: Mapping[str, int]

    @property
    def categories(self) -> tuple[str, ...]:
        """The data categories exposed in clear."""
        return tuple(sorted({category_of(f) for f in self.fields}))

    def to_json(self) -> dict[str, Any]:
        """The customer's entry of ``vigile blast-radius --format json``."""
        return {
            "customer": self.customer,
            "tier": self.tier,
            "country": self.country,
            "fields": list(self.fields),
            "masked_fields": list(self.masked_fields),
            "categories": list(self.categories),
            "contacts": list(self.contacts),
            "accounts": list(self.accounts),
            "subscriptions": list(self.subscriptions),
            "first_access": format_rfc3339(self.first_access),
            "last_access": format_rfc3339(self.last_access),
            "accesses": self.accesses,
            "actions": dict(self.actions),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class BlastSummary:
    """Counts of affected customers by tier, country and data category (in clear)."""

    customers: int
    accesses: int
    by_tier: Mapping[str, int]
    by_country: Mapping[str, int]
    by_category: Mapping[str, int]
    by_field: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "accesses": self.accesses,
            "by_tier": dict(self.by_tier),
            "by_country": dict(self.by_country),
            "by_category": dict(self.by_category),
            "by_field": dict(self.by_field),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class BlastRadius:
    """The customers an incident's scope reached, ordered by customer id."""

    scope: Scope
    customers: tuple[CustomerExposure, ...]
    summary: BlastSummary

    def to_json(self) -> dict[str, Any]:
        """``{"customers": [...], "summary": {...}}``, the CLI contract (the caller knows
        the scope it asked for)."""
        return {
            "customers": [c.to_json() for c in self.customers],
            "summary": self.summary.to_json(),
        }


@dataclass(kw_only=True, slots=True)
class _Fold:
    """One customer's exposure while the groups are folded."""

    clear: set[str] = field(default_factory=set)
    masked: set[str] = field(default_factory=set)
    objects: dict[str, set[str]] = field(default_factory=dict)
    first: int = 2**62
    last: int = -(2**62)
    count: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def add(self, group: _Group) -> None:
        self.clear.update(group.fields)
        self.masked.update(group.masked)
        self.first = min(self.first, group.first)
        self.last = max(self.last, group.last)
        self.count += group.count
        self.actions[group.action] = self.actions.get(group.action, 0) + group.count
        kind = _OBJECT_KINDS.get(group.action.split(".", 1)[0])
        if kind is not None and group.object is not None and group.customer_direct:
            self.objects.setdefault(kind, set()).add(group.object)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Group:
    """Accesses that exposed the same thing the same way (one row of the grouped query)."""

    action: str
    object: str | None
    fields: Sequence[str]
    masked: Sequence[str]
    first: int
    last: int
    count: int
    customer_direct: bool


def blast_radius(store: Store, scope: Scope) -> BlastRadius:
    """The blast radius of ``scope`` over the events in ``store``."""
    with connect(store.engine) as conn:
        folds, accesses = _fold_groups(conn, scope)
        directory = _directory(conn, sorted(folds))
    exposures = tuple(_exposure(c, folds[c], directory.get(c)) for c in sorted(folds))
    return BlastRadius(scope=scope, customers=exposures, summary=_summary(exposures, accesses))


def _fold_groups(conn: Connection, scope: Scope) -> tuple[dict[str, _Fold], int]:
    folds: dict[str, _Fold] = {}
    accesses = 0
    lists: dict[str, Sequence[str]] = {}  # the few distinct field lists, parsed once each
    for row in conn.execute(_grouped(conn, scope)):
        customer, action, obj, clear, masked, results, first, last, count = row
        accesses += count
        group = _Group(
            action=action,
            object=obj,
            fields=lists.get(clear) or lists.setdefault(clear, orjson.loads(clear)),
            masked=lists.get(masked) or lists.setdefault(masked, orjson.loads(masked)),
            first=first,
            last=last,
            count=count,
            customer_direct=action != _SEARCH,
        )
        for reached in _reached(action, customer, results):
            folds.setdefault(reached, _Fold()).add(group)
    return folds, accesses


def _reached(action: str, customer: str | None, results: str | None) -> Iterable[str]:
    """The customers an access exposed: the listed ones for a search."""
    if action == _SEARCH:
        return set(orjson.loads(results)) if results else ()
    return (customer,) if customer is not None else ()


def access_times(store: Store, scope: Scope) -> list[datetime]:
    """The times of the scope's allowed accesses, in order (for a timeline)."""
    a = t.accesses
    with connect(store.engine) as conn:
        query = select(a.c.time_us).where(*_conditions(conn, scope)).order_by(a.c.time_us)
        return [from_micros(row[0]) for row in conn.execute(query)]


def _grouped(conn: Connection, scope: Scope) -> Select[Any]:
    a = t.accesses
    keys = (a.c.customer, a.c.action, a.c.object, a.c.fields, a.c.masked_fields, a.c.results)
    return (
        select(*keys, func.min(a.c.time_us), func.max(a.c.time_us), func.count())
        .where(and_(*_conditions(conn, scope)))
        .group_by(*keys)
    )


def _conditions(conn: Connection, scope: Scope) -> list[Any]:
    """The scope as conditions on ``accesses``: allowed, in the window, every dimension."""
    return [t.accesses.c.outcome == "allowed", *scope_conditions(conn, scope)]


def scope_conditions(conn: Connection, scope: Scope) -> list[Any]:
    """The scope as conditions on ``accesses``, allowed or denied: in the window, every
    dimension (the accesses that belong to an incident)."""
    a = t.accesses
    conditions = [a.c.time_us.between(to_micros(scope.since), to_micros(scope.until))]
    if scope.agents:
        conditions.append(a.c.agent.in_(scope.agents))
    if scope.sessions:
        conditions.append(a.c.session.in_(scope.sessions))
    if scope.ips:
        conditions.append(a.c.ip.in_(scope.ips))
    if scope.devices:
        conditions.append(a.c.session.in_(_device_sessions(conn, scope)))
    return conditions


def _device_sessions(conn: Connection, scope: Scope) -> list[str]:
    """Sessions opened from the scope's devices (sign-ins carry the device)."""
    s = t.signins
    query = select(s.c.session).where(s.c.device.in_(scope.devices)).distinct()
    return [row[0] for row in conn.execute(query)]


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def _directory(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """Tier and country of each customer the store knows."""
    c = t.customers
    found: dict[str, tuple[str | None, str | None]] = {}
    for chunk in _chunks(ids):
        query = select(c.c.id, c.c.tier, c.c.country).where(c.c.id.in_(chunk))
        found.update({row[0]: (row[1], row[2]) for row in conn.execute(query)})
    return found


def _exposure(
    customer: str, fold: _Fold, known: tuple[str | None, str | None] | None
) -> CustomerExposure:
    tier, country = known if known is not None else (None, None)
    return CustomerExposure(
        customer=customer,
        tier=tier,
        country=country,
        fields=tuple(sorted(fold.clear)),
        masked_fields=tuple(sorted(fold.masked - fold.clear)),
        contacts=tuple(sorted(fold.objects.get("contacts", ()))),
        accounts=tuple(sorted(fold.objects.get("accounts", ()))),
        subscriptions=tuple(sorted(fold.objects.get("subscriptions", ()))),
        first_access=from_micros(fold.first),
        last_access=from_micros(fold.last),
        accesses=fold.count,
        actions=dict(sorted(fold.actions.items())),
    )


def _summary(exposures: Sequence[CustomerExposure], accesses: int) -> BlastSummary:
    def count(values: Iterable[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return BlastSummary(
        customers=len(exposures),
        accesses=accesses,
        by_tier=count(e.tier or "unknown" for e in exposures),
        by_country=count(e.country or "unknown" for e in exposures),
        by_category=count(c for e in exposures for c in e.categories),
        by_field=count(f for e in exposures for f in e.fields),
    )
