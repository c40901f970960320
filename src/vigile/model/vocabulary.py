"""The closed vocabularies of the activity log (docs/spec/activity-log.md, version 1)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIONS",
    "DATA_FIELDS",
    "INCIDENT_FIELD",
    "MFA_METHODS",
    "REASONS",
    "WEEKDAYS",
    "Action",
    "Reason",
    "TicketStep",
]


class Action(StrEnum):
    """What an agent asked to do with customer data."""

    CUSTOMER_SEARCH = "customer.search"
    CUSTOMER_VIEW = "customer.view"
    CONTACT_VIEW = "contact.view"
    CONTACT_REVEAL = "contact.reveal"
    ACCOUNT_VIEW = "account.view"
    SUBSCRIPTION_VIEW = "subscription.view"
    BILLING_VIEW = "billing.view"
    EXPORT = "export"
    GRANT_REQUEST = "grant.request"
    GRANT_USE = "grant.use"


class Reason(StrEnum):
    """Justification codes an agent gives for an access."""

    CUSTOMER_INITIATED_SUPPORT = "customer_initiated_support"
    AGENT_INITIATED_REVIEW = "agent_initiated_review"
    BREAK_GLASS = "break_glass"
    NONE = "none"


class TicketStep(StrEnum):
    """A step in the life of a support ticket."""

    OPENED = "opened"
    ASSIGNED = "assigned"
    CLOSED = "closed"


#: The extra field of an ``access`` naming the incident that justified it: an analyst's
#: read of customer data during breach response (reason ``agent_initiated_review``, no
#: ticket). Version 1 of the activity log has no field for it, and keeps unknown fields.
INCIDENT_FIELD = "incident"

ACTIONS: frozenset[str] = frozenset(a.value for a in Action)
REASONS: frozenset[str] = frozenset(r.value for r in Reason)
MFA_METHODS: frozenset[str] = frozenset({"none", "totp", "push", "webauthn"})
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DATA_FIELDS: frozenset[str] = frozenset(
    {
        "customer.name",
        "customer.tier",
        "customer.country",
        "contact.name",
        "contact.email",
        "contact.phone",
        "contact.role",
        "account.username",
        "account.email",
        "subscription.service",
        "subscription.plan",
        "subscription.seats",
        "subscription.monthly_amount",
        "billing.address",
        "billing.invoices",
    }
)
