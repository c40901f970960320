"""What each action returns, masked by default: the fields in clear, the fields masked,
and the payload built from directory records. Pure functions of records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigile.model import Account, Contact, Customer, Subscription
from vigile.policy import mask_value

__all__ = ["REVEALABLE", "Shown", "accounts", "contacts", "customer", "revealed", "subscriptions"]

#: Fields a reveal may ask for, and the action each reveal is recorded as.
REVEALABLE: dict[str, str] = {
    "contact.email": "contact.reveal",
    "contact.phone": "contact.reveal",
    "account.email": "account.view",
    "subscription.monthly_amount": "billing.view",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Shown:
    """A response body, with the data fields it shows in clear and masked; once the
    access is recorded, its event id and the ledger's signed promise to include it
    (:mod:`vigile.ledger.promise`)."""

    body: Any
    fields: tuple[str, ...]
    masked_fields: tuple[str, ...] = ()
    event: str | None = None
    promise: str | None = None


def customer(record: Customer) -> Shown:
    body = {"id": record.id, "name": record.name, "tier": record.tier, "country": record.country}
    return Shown(body=body, fields=("customer.name", "customer.tier", "customer.country"))


def contacts(records: list[Contact]) -> Shown:
    body = [
        {
            "id": c.id,
            "role": c.role,
            "name": c.name,
            "email": mask_value("contact.email", c.email),
            "phone": mask_value("contact.phone", c.phone),
        }
        for c in records
    ]
    return Shown(
        body=body,
        fields=("contact.name", "contact.role"),
        masked_fields=("contact.email", "contact.phone"),
    )


def accounts(records: list[Account]) -> Shown:
    body = [
        {
            "id": a.id,
            "username": a.username,
            "email": mask_value("account.email", a.email),
            "status": a.status,
        }
        for a in records
    ]
    return Shown(body=body, fields=("account.username",), masked_fields=("account.email",))


def subscriptions(records: list[Subscription]) -> Shown:
    body = [
        {
            "id": s.id,
            "service": s.service,
            "plan": s.plan,
            "seats": s.seats,
            "monthly_amount": mask_value("subscription.monthly_amount", s.monthly_amount),
            "currency": s.currency,
        }
        for s in records
    ]
    return Shown(
        body=body,
        fields=("subscription.service", "subscription.plan", "subscription.seats"),
        masked_fields=("subscription.monthly_amount",),
    )


def revealed(record: Contact | Account | Subscription, field: str) -> Shown:
    """One field of one object, in clear."""
    attribute = field.split(".", 1)[1]
    value = getattr(record, attribute)
    return Shown(body={"object": record.id, "field": field, "value": value}, fields=(field,))
