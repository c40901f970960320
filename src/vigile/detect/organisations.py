"""Customers that are one organisation (issue #18): sibling accounts of one company (a
regional branch, a retail arm) are served under one of their tickets, and reading a
sibling under it is the ticket's work, not "another customer's ticket".

Two customers are one organisation when the directory links them (an extra field
``parent`` naming the parent customer, followed to its root), or when they share all of
a name stem (the name's first word), a country and their contacts' mail domain. Each
alone is weak (two "Acme"s in different countries, two customers with mail at the same
webmail provider); all three together are what sibling accounts look like. Webmail
domains never group.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["PUBLIC_MAIL_DOMAINS", "DirectoryCustomer", "organisation_keys"]

#: Mail providers whose domain says nothing about the customer's organisation.
PUBLIC_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com",
        "msn.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com",
        "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru", "yandex.com",
        "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "mail.com",
    }
)  # fmt: skip
_WORD = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectoryCustomer:
    """What the directory says of a customer that can link it to others."""

    id: str
    name: str | None = None
    country: str | None = None
    parent: str | None = None
    emails: tuple[str, ...] = ()


def organisation_keys(customers: Iterable[DirectoryCustomer]) -> dict[str, str]:
    """Each customer's organisation: a key shared by the customers that are one
    organisation (the id of one of them), the customer's own id otherwise."""
    listed = {c.id: c for c in customers}
    roots = {ident: _root(ident, listed) for ident in listed}
    by_signature: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for root in sorted(set(roots.values())):
        signature = _signature(listed[root])
        if signature is not None:
            by_signature[signature].append(root)
    merged = {root: members[0] for members in by_signature.values() for root in members}
    return {ident: merged.get(root, root) for ident, root in roots.items()}


def _root(ident: str, listed: Mapping[str, DirectoryCustomer]) -> str:
    """The top of the ``parent`` chain; a chain ending in a cycle ends at the cycle's
    least id (the same for every member)."""
    chain = [ident]
    while (parent := listed[chain[-1]].parent) and parent in listed:
        if parent in chain:
            return min(chain[chain.index(parent) :])
        chain.append(parent)
    return chain[-1]


def _signature(customer: DirectoryCustomer) -> tuple[str, str, str] | None:
    """(name stem, country, mail domain), or None when one of them is missing."""
    words = _WORD.findall((customer.name or "").lower())
    domains = Counter(
        e.rsplit("@", 1)[1].strip().lower() for e in customer.emails if "@" in e
    ).most_common(1)
    if not words or len(words[0]) < 3 or not customer.country or not domains:
        return None
    domain = domains[0][0]
    if domain in PUBLIC_MAIL_DOMAINS:
        return None
    return words[0], customer.country.upper(), domain
