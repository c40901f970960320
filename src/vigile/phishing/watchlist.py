"""The watch list: every address an incident exposed, with what the attacker saw about it.

Phishing after a support-tool leak is aimed at the exposed contacts and quotes what the
attacker read (the 2021 incident: billing contacts, the services they pay for). The watch
list is that, per address, from each incident's blast radius:

- a customer's **contacts** are watched when the scope viewed one of them directly or
  returned any ``contact.*`` field of the customer in clear;
- its **accounts' addresses** likewise, with ``account.*``; an account renamed by the
  remediation stays on the list under its **old address** (status ``renamed``, with the
  current one beside it): the attacker knows the old one, and mail to it is the bait;
- the **subscriptions** the attacker saw are those of a customer with a
  ``subscription.*`` field in clear, each with only the attributes seen in clear (the
  amount only when ``subscription.monthly_amount`` was);
- the **date of exposure** is the customer's first access in the scope (the earliest
  over several incidents).

Built with a handful of grouped queries whatever the number of customers (chunks of
ids), so an incident of 10,000 exposed contacts builds in well under a second
(``benchmarks/bench_phishing.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from vigile.model.times import format_rfc3339
from vigile.render.spreadsheet import Cell, csv_text
from vigile.respond import CustomerExposure, Incidents, blast_radius
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["SeenSubscription", "WatchList", "WatchedAddress", "build_watchlist"]

_IN_CHUNK = 500  # ids per IN (...) list
# A directory address with spaces, line breaks or list separators would break the feed's
# lines (and a gateway's map): it is left out, as the notifications leave it out.
_ADDRESS = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")
_NARROW_SPACE = "\u202f"  # French thousands separator (CLDR)


@dataclass(frozen=True, kw_only=True, slots=True)
class SeenSubscription:
    """A subscription as the attacker saw it: ``None`` where the attribute was masked."""

    service: str | None
    plan: str | None
    monthly_amount: float | None
    currency: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "plan": self.plan,
            "monthly_amount": self.monthly_amount,
            "currency": self.currency,
        }

    def describe(self) -> str:
        """``Compute Pro, 450.0 EUR/month`` (only what was seen)."""
        name = " ".join(p for p in (self.service, self.plan) if p) or "a subscription"
        if self.monthly_amount is None:
            return name
        return f"{name}, {self.monthly_amount:g} {self.currency or ''}/month".replace(" /", "/")


@dataclass(frozen=True, kw_only=True, slots=True)
class WatchedAddress:
    """One exposed address and what the attacker saw about its owner."""

    address: str  # lower-cased: how mail systems compare it in practice
    kind: str  # "contact" or "account"
    id: str  # the contact's or account's id
    status: str  # "current", or "renamed" (an old address the remediation replaced)
    current_address: str | None  # the address that replaced it, when renamed
    customer: str
    customer_name: str | None  # only when customer.name was seen in clear
    name: str | None  # the contact's name
    role: str | None
    incidents: tuple[str, ...]
    exposed: datetime  # first access to the customer in the incidents' scopes
    fields: tuple[str, ...]  # the customer's fields the attacker saw in clear
    subscriptions: tuple[SeenSubscription, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind,
            "id": self.id,
            "status": self.status,
            "current_address": self.current_address,
            "customer": self.customer,
            "customer_name": self.customer_name,
            "name": self.name,
            "role": self.role,
            "incidents": list(self.incidents),
            "exposed": format_rfc3339(self.exposed),
            "fields": list(self.fields),
            "subscriptions": [s.to_json() for s in self.subscriptions],
        }

    def facts(self) -> tuple[str, ...]:
        """The strings the attacker learned that a phishing message would quote back:
        service and plan names, amounts (as written in a message: ``450``, ``450.00``)."""
        found: list[str] = []
        for sub in self.subscriptions:
            found += [v for v in (sub.service, sub.plan) if v and len(v) >= 3]
            if sub.monthly_amount is not None:
                found += _amount_spellings(sub.monthly_amount)
        return tuple(dict.fromkeys(found))


def _amount_spellings(amount: float) -> list[str]:
    """How an amount appears in text: ``1234.5`` -> ``1234.50``, ``1,234.50``,
    ``1 234,50``, ``1234,50``; whole amounts also bare (``450``)."""
    fixed = f"{amount:.2f}"
    units, cents = fixed.split(".")
    grouped = f"{int(units):,}"
    spellings = [fixed, f"{grouped}.{cents}", f"{units},{cents}"]
    spellings.append(f"{grouped.replace(',', ' ')},{cents}")
    spellings.append(grouped.replace(",", _NARROW_SPACE) + "," + cents)
    if cents == "00":
        spellings += [units, grouped]
    return [s for s in dict.fromkeys(spellings) if len(s) >= 3]


@dataclass(frozen=True, kw_only=True, slots=True)
class WatchList:
    """The watched addresses, by address (sorted), of one or more incidents."""

    incidents: tuple[str, ...]
    addresses: tuple[WatchedAddress, ...]
    _by_address: Mapping[str, WatchedAddress] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_address", {a.address: a for a in self.addresses})

    def get(self, address: str) -> WatchedAddress | None:
        """The entry of ``address`` (compared lower-cased), or ``None``."""
        return self._by_address.get(address.strip().lower())

    def __len__(self) -> int:
        return len(self.addresses)

    def to_json(self) -> dict[str, Any]:
        return {"incidents": list(self.incidents), "addresses": [a.to_json() for a in self]}

    def __iter__(self) -> Iterator[WatchedAddress]:
        return iter(self.addresses)

    def to_csv(self) -> str:
        """One row per address; lists joined with ``;``, subscriptions described."""
        return csv_text(_CSV_HEADER, (_csv_row(a) for a in self))

    def to_feed(self) -> str:
        """The mail gateway's map: ``ADDRESS PREPEND X-Vigile-Watched: INCIDENTS``, one
        line per address, ``#`` comments first (Postfix access table, rspamd map file;
        see docs/phishing.md)."""
        lines = [
            "# Vigile watch list: addresses exposed in " + ", ".join(self.incidents),
            f"# {len(self)} address(es); key, then a Postfix access action",
        ]
        lines += [f"{a.address} PREPEND X-Vigile-Watched: {','.join(a.incidents)}" for a in self]
        return "\n".join(lines) + "\n"


_CSV_HEADER = (
    "address",
    "kind",
    "id",
    "status",
    "current_address",
    "customer",
    "customer_name",
    "name",
    "role",
    "incidents",
    "exposed",
    "fields",
    "subscriptions",
)


def _csv_row(entry: WatchedAddress) -> Sequence[Cell]:
    return (
        entry.address,
        entry.kind,
        entry.id,
        entry.status,
        entry.current_address or "",
        entry.customer,
        entry.customer_name or "",
        entry.name or "",
        entry.role or "",
        ";".join(entry.incidents),
        format_rfc3339(entry.exposed),
        ";".join(entry.fields),
        ";".join(s.describe() for s in entry.subscriptions),
    )


def build_watchlist(incidents: Incidents, incident_ids: Sequence[str]) -> WatchList:
    """The watch list of ``incident_ids`` (each must exist: ``IncidentNotFound``)."""
    store = incidents.store
    exposures: list[tuple[str, CustomerExposure]] = []
    for incident_id in dict.fromkeys(incident_ids):
        scope = incidents.get(incident_id).scope
        exposures += [(incident_id, e) for e in blast_radius(store, scope).customers]
    customers = sorted({e.customer for _, e in exposures})
    with connect(store.engine) as conn:
        directory = _Directory.load(conn, customers)
    merged: dict[str, WatchedAddress] = {}
    for incident_id, exposure in exposures:
        for entry in _entries(incident_id, exposure, directory):
            known = merged.get(entry.address)
            merged[entry.address] = entry if known is None else _merge(known, entry)
    ordered = tuple(merged[a] for a in sorted(merged))
    return WatchList(incidents=tuple(dict.fromkeys(incident_ids)), addresses=ordered)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Directory:
    """The directory rows of the exposed customers, loaded in chunks of ids."""

    names: Mapping[str, str | None]
    contacts: Mapping[str, list[Mapping[str, Any]]]
    accounts: Mapping[str, list[Mapping[str, Any]]]
    subscriptions: Mapping[str, list[Mapping[str, Any]]]
    renames: Mapping[str, list[Mapping[str, Any]]]  # by account

    @classmethod
    def load(cls, conn: Connection, customers: Sequence[str]) -> _Directory:
        names = {r["id"]: r["name"] for r in _rows(conn, t.customers, "id", customers)}
        renames: dict[str, list[Mapping[str, Any]]] = {}
        for row in _rows(conn, t.account_renames, "customer", customers):
            renames.setdefault(row["account"], []).append(row)
        return cls(
            names=names,
            contacts=_by_customer(_rows(conn, t.contacts, "customer", customers)),
            accounts=_by_customer(_rows(conn, t.accounts, "customer", customers)),
            subscriptions=_by_customer(_rows(conn, t.subscriptions, "customer", customers)),
            renames=renames,
        )


def _rows(
    conn: Connection, table: Table, column: str, ids: Sequence[str]
) -> Iterator[Mapping[str, Any]]:
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        query = select(table).where(table.c[column].in_(chunk))
        for row in conn.execute(query).mappings():
            yield dict(row)


def _by_customer(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["customer"], []).append(row)
    return grouped


def _entries(
    incident_id: str, exposure: CustomerExposure, directory: _Directory
) -> Iterator[WatchedAddress]:
    customer = exposure.customer
    clear = set(exposure.fields)
    common: dict[str, Any] = {
        "customer": customer,
        "customer_name": directory.names.get(customer) if "customer.name" in clear else None,
        "incidents": (incident_id,),
        "exposed": exposure.first_access,
        "fields": exposure.fields,
        "subscriptions": _seen_subscriptions(clear, directory.subscriptions.get(customer, [])),
    }
    every_contact = any(f.startswith("contact.") for f in clear)
    for row in directory.contacts.get(customer, []):
        seen = every_contact or row["id"] in exposure.contacts
        if seen and _ADDRESS.fullmatch(row["email"] or ""):
            yield _entry(row["email"], "contact", row, common, name=row["name"], role=row["role"])
    every_account = any(f.startswith("account.") for f in clear)
    for row in directory.accounts.get(customer, []):
        if every_account or row["id"] in exposure.accounts:
            yield from _account_entries(row, directory.renames.get(row["id"], []), common)


def _account_entries(
    row: Mapping[str, Any], renames: Sequence[Mapping[str, Any]], common: Mapping[str, Any]
) -> Iterator[WatchedAddress]:
    """The account's address; once renamed, its old addresses instead (the attacker saw
    those; the new one came after and was never exposed)."""
    current = _address(row["email"])
    olds = {a: r["old_username"] for r in renames if (a := _address(r["old_email"]))}
    if current and (not renames or current in olds):
        yield _entry(current, "account", row, common, name=row["username"], role=None)
    for old, username in sorted(olds.items()):
        if old != current:
            entry = _entry(old, "account", row, common, name=username, role=None)
            yield replace(entry, status="renamed", current_address=current)


def _address(value: str | None) -> str | None:
    cleaned = (value or "").strip().lower()
    return cleaned if _ADDRESS.fullmatch(cleaned) else None


def _entry(
    address: str,
    kind: str,
    row: Mapping[str, Any],
    common: Mapping[str, Any],
    *,
    name: str | None,
    role: str | None,
) -> WatchedAddress:
    return WatchedAddress(
        address=address.strip().lower(),
        kind=kind,
        id=row["id"],
        status="current",
        current_address=None,
        name=name,
        role=role,
        **common,
    )


def _seen_subscriptions(
    clear: set[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[SeenSubscription, ...]:
    if not any(f.startswith("subscription.") for f in clear):
        return ()

    def seen(name: str, value: Any) -> Any:
        return value if f"subscription.{name}" in clear else None

    return tuple(
        SeenSubscription(
            service=seen("service", row["service"]),
            plan=seen("plan", row["plan"]),
            monthly_amount=seen("monthly_amount", row["monthly_amount"]),
            currency=row["currency"] if "subscription.monthly_amount" in clear else None,
        )
        for row in sorted(rows, key=lambda r: r["id"])
    )


def _merge(a: WatchedAddress, b: WatchedAddress) -> WatchedAddress:
    """One address exposed twice (two incidents, or a contact that is also an
    account's address): every incident, the earliest exposure, everything seen."""
    subscriptions = tuple(dict.fromkeys(a.subscriptions + b.subscriptions))
    return replace(
        a,
        incidents=tuple(dict.fromkeys(a.incidents + b.incidents)),
        exposed=min(a.exposed, b.exposed),
        fields=tuple(sorted(set(a.fields) | set(b.fields))),
        subscriptions=subscriptions,
        customer_name=a.customer_name or b.customer_name,
        status=a.status if a.status == b.status else "current",
        current_address=a.current_address or b.current_address,
    )
