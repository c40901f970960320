"""Masking rules per data field: deterministic, and never the clear value.

``mask_value("contact.email", "ann@ministry.example")`` is ``a***@ministry.example``;
``mask_value("contact.phone", "+1 202 555 0100")`` is ``+1 *** *** 0100``. Which fields
an agent sees in clear by default, and which need a reveal, is :data:`SENSITIVE_FIELDS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "FIELD_CLASSES",
    "MASK",
    "SENSITIVE_FIELDS",
    "fields_of_classes",
    "mask_email",
    "mask_phone",
    "mask_value",
]

MASK = "***"

#: Fields shown masked unless revealed with a justification.
SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {
        "contact.email",
        "contact.phone",
        "account.email",
        "subscription.monthly_amount",
        "billing.address",
        "billing.invoices",
    }
)

#: What a grant may cover, by class: the data fields each class reveals.
FIELD_CLASSES: dict[str, frozenset[str]] = {
    "contact": frozenset({"contact.email", "contact.phone"}),
    "account": frozenset({"account.email"}),
    "billing": frozenset({"subscription.monthly_amount", "billing.address", "billing.invoices"}),
}

_DIGITS = re.compile(r"\d")
_SEPARATORS = re.compile(r"[\s().\-/]+")
_COUNTRY = re.compile(r"\+\d{1,3}")
#: Digits after the country code needed to show the last four (at most half of them).
_MIN_NATIONAL = 8


def fields_of_classes(classes: tuple[str, ...]) -> frozenset[str]:
    """The data fields the given field classes cover (unknown classes cover nothing)."""
    covered: set[str] = set()
    for name in classes:
        covered |= FIELD_CLASSES.get(name, frozenset())
    return frozenset(covered)


def mask_email(value: str) -> str:
    """First character of the local part and the domain: ``a***@ministry.example``."""
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(value: str) -> str:
    """The country code and the last four digits: ``+1 *** *** 0100``.

    A number with fewer than 8 digits after its country code is masked whole: the last
    four would be half of it or more (``+352 4796 1`` is ``***``).
    """
    digits = "".join(_DIGITS.findall(value))
    groups = [g for g in _SEPARATORS.split(value.strip()) if g]
    if _national_length(digits, groups) < _MIN_NATIONAL:
        return MASK
    country = groups[0] if len(groups) >= 3 and _COUNTRY.fullmatch(groups[0]) else None
    middle = max(len(groups) - (2 if country else 1), 1)
    parts = [country] if country else []
    return " ".join([*parts, *([MASK] * middle), digits[-4:]])


def _national_length(digits: str, groups: list[str]) -> int:
    """How many digits follow the country code: exactly when the code stands apart
    (``+352 4796 1``), else as if the code were as long as any (3 digits, after the 00
    international prefix if there is one), so a short number is never taken as long."""
    first = groups[0] if groups else ""
    if len(groups) > 1 and _COUNTRY.fullmatch(first):
        return len(digits) - (len(first) - 1)
    if first.startswith("+"):
        return len(digits) - 3
    if first.startswith("00"):
        return len(digits) - 2 - 3
    return len(digits)


def _mask_whole(value: str) -> str:
    return MASK


_RULES: dict[str, Callable[[str], str]] = {
    "contact.email": mask_email,
    "account.email": mask_email,
    "contact.phone": mask_phone,
}


def mask_value(field: str, value: object) -> str | None:
    """The masked form of ``value`` for ``field`` (``None`` stays ``None``)."""
    if value is None:
        return None
    return _RULES.get(field, _mask_whole)(str(value))
