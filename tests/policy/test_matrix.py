"""The permission matrix: agent tier x customer tier x ticket state x grant state x action.

``MATRIX`` is the readable table of the cases that matter most; the full cross product
is then checked against ``_reference``, a plain statement of the rules in Python.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from vigile.model import Agent, Contact, Customer, Ticket
from vigile.policy import (
    FIELD_CLASSES,
    GrantFacts,
    PolicyEngine,
    RequestFacts,
    entity_of,
    fields_of_classes,
    justification,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
AGENT, OTHER_AGENT = "a-1", "a-2"
CUSTOMER, OTHER_CUSTOMER = "c-1", "c-2"
CONTACT = "k-1"

TICKETS = ("none", "assigned", "other-agent", "closed", "other-customer")
GRANTS = (
    "none",
    "pending",
    "active",
    "expired",
    "revoked",
    "customer-approved",
    "customer-approved-billing",
)
# What each grant covers: its field classes (as requested), then the data fields.
CLASSES = {"customer-approved-billing": ("billing",)}
CONTACT_FIELDS = fields_of_classes(("contact",))
ACTIONS = ("customer.view", "contact.view", "contact.reveal", "billing.view", "export")
ALLOW, DENY = True, False

# agent tier, customer tier, ticket, grant, action -> allowed
MATRIX: list[tuple[int, str, str, str, str, bool]] = [
    # no justification: nothing, not even a masked view
    (2, "smb", "none", "none", "customer.view", DENY),
    (2, "smb", "none", "none", "contact.reveal", DENY),
    # an open ticket of this customer assigned to this agent
    (2, "smb", "assigned", "none", "customer.view", ALLOW),
    (2, "smb", "assigned", "none", "contact.view", ALLOW),
    (2, "smb", "assigned", "none", "contact.reveal", ALLOW),
    (2, "smb", "assigned", "none", "billing.view", ALLOW),
    # a ticket that does not justify
    (2, "smb", "other-agent", "none", "contact.view", DENY),
    (2, "smb", "closed", "none", "contact.view", DENY),
    (2, "smb", "other-customer", "none", "contact.view", DENY),
    # grants: only an approved, unexpired, unrevoked one is honoured
    (2, "smb", "none", "pending", "contact.reveal", DENY),
    (2, "smb", "none", "active", "contact.reveal", ALLOW),
    (2, "smb", "none", "expired", "contact.reveal", DENY),
    (2, "smb", "none", "revoked", "contact.reveal", DENY),
    # export is forbidden whatever permits it
    (2, "smb", "assigned", "active", "export", DENY),
    (3, "government", "assigned", "customer-approved", "export", DENY),
    # tier-1 and government contacts: only with the customer's own approval
    (1, "government", "assigned", "none", "contact.view", DENY),
    (1, "government", "assigned", "active", "contact.reveal", DENY),
    (1, "government", "none", "customer-approved", "contact.reveal", ALLOW),
    (1, "government", "none", "customer-approved", "contact.view", ALLOW),
    # ... for the contacts: a customer-approved grant of other classes does not lift it
    (1, "government", "assigned", "customer-approved-billing", "contact.reveal", DENY),
    (1, "government", "assigned", "customer-approved-billing", "contact.view", DENY),
    (1, "government", "none", "customer-approved-billing", "billing.view", ALLOW),
    (2, "government", "none", "customer-approved-billing", "contact.reveal", DENY),
    (2, "government", "assigned", "customer-approved-billing", "contact.reveal", ALLOW),
    (1, "government", "assigned", "none", "customer.view", ALLOW),
    (2, "government", "assigned", "none", "contact.reveal", ALLOW),
    (1, "smb", "assigned", "none", "contact.reveal", ALLOW),
]


def _reference(agent_tier: int, customer_tier: str, ticket: str, grant: str, action: str) -> bool:
    """The rules, stated plainly."""
    if action == "export":
        return False
    clear, covered = _OBJECT[action][2], _fields(grant)
    honoured = grant in ("active", "customer-approved", "customer-approved-billing")
    lockbox = agent_tier == 1 and customer_tier == "government" and action.startswith("contact.")
    # The customer's approval lifts the lockbox for a grant that covers its contacts.
    lifted = grant.startswith("customer-approved") and CONTACT_FIELDS | clear <= covered
    if lockbox and not lifted:
        return False
    return ticket == "assigned" or (honoured and clear <= covered)


def _fields(grant: str) -> frozenset[str]:
    return fields_of_classes(CLASSES.get(grant, ("contact", "billing")))


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


def _ticket(state: str) -> Ticket | None:
    opened = NOW - timedelta(hours=2)
    match state:
        case "assigned":
            return Ticket(
                id="T-1", customer=CUSTOMER, category=None, opened_at=opened, assignee=AGENT
            )
        case "other-agent":
            return Ticket(
                id="T-1", customer=CUSTOMER, category=None, opened_at=opened, assignee=OTHER_AGENT
            )
        case "closed":
            return Ticket(
                id="T-1",
                customer=CUSTOMER,
                category=None,
                opened_at=opened,
                assignee=AGENT,
                closed_at=NOW - timedelta(minutes=5),
            )
        case "other-customer":
            return Ticket(
                id="T-2", customer=OTHER_CUSTOMER, category=None, opened_at=opened, assignee=AGENT
            )
    return None


def _grant(state: str) -> GrantFacts | None:
    if state == "none":
        return None
    approved = state not in ("pending",)
    starts = NOW - (timedelta(hours=3) if state == "expired" else timedelta(minutes=10))
    return GrantFacts(
        id="g-1",
        agent=AGENT,
        customer=CUSTOMER,
        status={"pending": "pending", "revoked": "revoked"}.get(state, "approved"),
        starts=starts if approved else None,
        expires=starts + timedelta(hours=1) if approved else None,
        fields=_fields(state),
        customer_approved=state.startswith("customer-approved"),
    )


_OBJECT = {
    "customer.view": ("Customer", CUSTOMER, frozenset[str]()),
    "contact.view": ("Contact", CONTACT, frozenset[str]()),
    "contact.reveal": ("Contact", CONTACT, frozenset({"contact.email"})),
    "billing.view": ("Customer", CUSTOMER, frozenset({"subscription.monthly_amount"})),
    "export": ("Customer", CUSTOMER, frozenset({"contact.email"})),
}


def _decide(
    engine: PolicyEngine, agent_tier: int, customer_tier: str, ticket: str, grant: str, action: str
) -> bool:
    engine.entities.ensure(
        [
            entity_of(Agent(id=AGENT, tier=agent_tier, team="t")),
            entity_of(Customer(id=CUSTOMER, tier=customer_tier)),
            entity_of(Contact(id=CONTACT, customer=CUSTOMER)),
        ]
    )
    kind, key, clear = _OBJECT[action]
    facts = RequestFacts(
        now=NOW,
        customer=CUSTOMER,
        reason="customer_initiated_support",
        clear=clear,
        ticket=_ticket(ticket),
        grant=_grant(grant),
    )
    decision = engine.decide(
        principal=("Agent", AGENT),
        action=action,
        resource=(kind, key),
        context=justification(facts),
    )
    assert decision.reason
    assert all(not name.startswith("policy") for name in decision.policies)
    return decision.allowed


@pytest.mark.parametrize(
    ("agent_tier", "customer_tier", "ticket", "grant", "action", "allowed"), MATRIX
)
def test_the_readable_matrix(
    engine: PolicyEngine,
    agent_tier: int,
    customer_tier: str,
    ticket: str,
    grant: str,
    action: str,
    allowed: bool,
) -> None:
    assert _reference(agent_tier, customer_tier, ticket, grant, action) is allowed
    assert _decide(engine, agent_tier, customer_tier, ticket, grant, action) is allowed


def test_the_full_cross_product_follows_the_reference(engine: PolicyEngine) -> None:
    wrong = [
        case
        for case in itertools.product((1, 2, 3), ("government", "smb"), TICKETS, GRANTS, ACTIONS)
        if _decide(engine, *case) is not _reference(*case)
    ]
    assert wrong == []


def test_the_lockbox_names_the_contact_class_as_masking_defines_it() -> None:
    """The forbid lists the contact class's fields: it must follow ``FIELD_CLASSES``."""
    listed = ", ".join(f'"{field}"' for field in sorted(FIELD_CLASSES["contact"]))
    lockbox = _policy(PolicyEngine.load(), "tier1-government-contacts-need-customer-approval")
    assert f"context.grant.fields.containsAll([{listed}])" in lockbox


def _policy(engine: PolicyEngine, name: str) -> str:
    return next(policy.text for policy in engine.policies if policy.name == name)
